"""The bundled contexts and the offline ContextLoader: provenance (file digests against
identity/contexts/README.md), the v2 context's published digest, refusal of anything
not bundled, and operator contexts from a folder."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from importlib import resources
from pathlib import Path

import pytest
import rfc8785

from identity.canonical import rdfc
from identity.errors import ContextNotAllowedError, ParsingError, RelatedResourceError
from identity.jsonld import (
    BUNDLED_CONTEXTS,
    CREDENTIALS_V2,
    PUBLISHED_SHA256,
    SERVICE_CONTEXTS,
    V2_PUBLISHED_SHA256,
    ContextLoader,
)
from tests.conftest import SHARED
from tests.proofs.support import LOADER, V2

CONTEXTS = resources.files("identity").joinpath("contexts")
ROW = re.compile(r"^\| `(?P<url>[^`]+)` \| `(?P<file>[^`]+)` \| .* \| `(?P<sha>[0-9a-f…]+)` \|$")
# The W3C file's JCS form, recorded in the contexts README when the equivalence was checked.
V2_JCS_SHA256 = "b463c8d6a066214123ddd9827b135e1b50e1fc73322cc52a9b12a4f1fc7d86cf"
# VC DM 2.0's own relatedResource example for the v2 context (multibase multihash).
SPEC_DIGEST_MULTIBASE = "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"


def _readme_rows() -> dict[str, tuple[str, str]]:
    readme = CONTEXTS.joinpath("README.md").read_text(encoding="utf-8")
    rows = [ROW.match(line) for line in readme.splitlines()]
    return {m["url"]: (m["file"], m["sha"]) for m in rows if m}


def test_readme_records_every_bundled_context() -> None:
    rows = _readme_rows()
    assert set(rows) == set(BUNDLED_CONTEXTS)
    assert {file for file, _ in rows.values()} == set(BUNDLED_CONTEXTS.values())


@pytest.mark.parametrize("url", sorted(BUNDLED_CONTEXTS))
def test_bundled_file_sha256_matches_the_readme(url: str) -> None:
    file, recorded = _readme_rows()[url]
    actual = hashlib.sha256(CONTEXTS.joinpath(file).read_bytes()).hexdigest()
    prefix, _, suffix = recorded.partition("…")
    assert actual.startswith(prefix) and actual.endswith(suffix) and len(prefix) >= 8


def test_bundled_files_are_the_shared_copies_when_present() -> None:
    shared = SHARED / "contexts"
    if not shared.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared contexts missing at {shared}: CI must have ../shared")
        pytest.skip(f"shared contexts not found at {shared}")
    for file in BUNDLED_CONTEXTS.values():
        assert CONTEXTS.joinpath(file).read_bytes() == (shared / file).read_bytes(), file


def test_v2_digest_is_the_published_one_not_a_hash_of_the_bundled_bytes() -> None:
    bundled = CONTEXTS.joinpath(BUNDLED_CONTEXTS[CREDENTIALS_V2]).read_bytes()
    assert hashlib.sha256(bundled).hexdigest() != V2_PUBLISHED_SHA256
    assert LOADER.digest(CREDENTIALS_V2) == PUBLISHED_SHA256[CREDENTIALS_V2]
    assert LOADER.digest(CREDENTIALS_V2).hex() == V2_PUBLISHED_SHA256


def test_bundled_v2_is_the_same_json_ld_document_as_the_w3c_file() -> None:
    # Same JSON value (only whitespace and key order differ), hence the same canonical
    # N-Quads for any document: the published digest names what we bundle.
    bundled = json.loads(CONTEXTS.joinpath(BUNDLED_CONTEXTS[CREDENTIALS_V2]).read_bytes())
    assert hashlib.sha256(rfc8785.dumps(bundled)).hexdigest() == V2_JCS_SHA256


def test_spec_example_digest_multibase_for_v2_checks() -> None:
    LOADER.check_related_resource({"id": V2, "digestMultibase": SPEC_DIGEST_MULTIBASE})


def test_digest_sri_for_v2_checks_against_the_published_digest() -> None:
    sri = "sha256-" + base64.b64encode(bytes.fromhex(V2_PUBLISHED_SHA256)).decode()
    LOADER.check_related_resource({"id": V2, "digestSRI": sri})


def test_digest_of_the_bundled_bytes_is_not_the_v2_digest() -> None:
    bundled = CONTEXTS.joinpath(BUNDLED_CONTEXTS[CREDENTIALS_V2]).read_bytes()
    sri = "sha256-" + base64.b64encode(hashlib.sha256(bundled).digest()).decode()
    with pytest.raises(RelatedResourceError):
        LOADER.check_related_resource({"id": V2, "digestSRI": sri})


def test_v2_digest_with_an_unpublished_algorithm_cannot_be_confirmed() -> None:
    sri = "sha384-" + base64.b64encode(bytes(48)).decode()
    with pytest.raises(RelatedResourceError, match="sha256"):
        LOADER.check_related_resource({"id": V2, "digestSRI": sri})


def test_other_bundled_context_digest_is_of_its_verbatim_bytes() -> None:
    url = "https://w3id.org/security/data-integrity/v2"
    data = CONTEXTS.joinpath(BUNDLED_CONTEXTS[url]).read_bytes()
    sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    LOADER.check_related_resource({"id": url, "digestSRI": sri})


@pytest.mark.parametrize("url", sorted(BUNDLED_CONTEXTS))
def test_loader_serves_every_bundled_context(url: str) -> None:
    assert "@context" in LOADER.load(url)


@pytest.mark.parametrize(
    "url", ["https://example.org/ctx", "https://www.w3.org/ns/credentials/v3", "file:///etc/passwd"]
)
def test_loader_refuses_every_other_url(url: str) -> None:
    with pytest.raises(ContextNotAllowedError):
        LOADER.load(url)


def test_loaded_context_is_a_copy() -> None:
    LOADER.load(V2)["@context"]["name"] = "https://evil.example/name"
    assert LOADER.load(V2)["@context"]["name"] == "https://schema.org/name"


PERMIT = "https://contexts.agency.example/permit/v1"


def _operator_folder(tmp_path: Path, manifest: object) -> Path:
    (tmp_path / "permit-v1.jsonld").write_text(
        json.dumps(
            {
                "@context": {
                    "@protected": True,
                    "permitNumber": "https://agency.example/vocab#permitNumber",
                }
            }
        )
    )
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_operator_context_from_a_folder_is_served_and_used(tmp_path: Path) -> None:
    loader = ContextLoader(_operator_folder(tmp_path, {PERMIT: "permit-v1.jsonld"}))
    document = {"@context": [V2, PERMIT], "id": "urn:permit:1", "permitNumber": "P-17"}
    assert rdfc(document, loader) == (
        '<urn:permit:1> <https://agency.example/vocab#permitNumber> "P-17" .\n'
    )
    assert loader.urls == frozenset(BUNDLED_CONTEXTS) | frozenset(SERVICE_CONTEXTS) | {PERMIT}


def test_operator_context_does_not_leak_into_another_loader(tmp_path: Path) -> None:
    loader = ContextLoader(_operator_folder(tmp_path, {PERMIT: "permit-v1.jsonld"}))
    document = {"@context": [V2, PERMIT], "id": "urn:permit:1", "permitNumber": "P-17"}
    rdfc(document, loader)  # now cached for that loader
    with pytest.raises(ContextNotAllowedError):
        rdfc(document, LOADER)


def test_operator_may_not_replace_a_bundled_context(tmp_path: Path) -> None:
    with pytest.raises(ContextNotAllowedError, match="bundled"):
        ContextLoader(_operator_folder(tmp_path, {V2: "permit-v1.jsonld"}))


@pytest.mark.parametrize(
    "manifest",
    [["permit-v1.jsonld"], {"relative/ctx": "permit-v1.jsonld"}, {PERMIT: "../x.jsonld"}],
)
def test_malformed_operator_manifest_is_refused(tmp_path: Path, manifest: object) -> None:
    with pytest.raises(ParsingError):
        ContextLoader(_operator_folder(tmp_path, manifest))


def test_operator_file_that_is_not_a_context_is_refused(tmp_path: Path) -> None:
    folder = _operator_folder(tmp_path, {PERMIT: "permit-v1.jsonld"})
    (folder / "permit-v1.jsonld").write_text('{"not": "a context"}')
    with pytest.raises(ParsingError, match="@context"):
        ContextLoader(folder)
