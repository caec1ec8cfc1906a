"""Offline JSON-LD contexts: the only documents the JSON-LD processor may load.

:class:`ContextLoader` serves the contexts bundled in ``identity/contexts`` (their origin
is recorded in ``identity/contexts/README.md``) plus any an operator adds from a folder,
and refuses every other URL with :class:`~identity.errors.ContextNotAllowedError`. It never
touches the network; it reads files only when it is constructed.

It also answers the *Integrity of Related Resources* check (VC DM 2.0 §5.3) for the
contexts it serves. For ``https://www.w3.org/ns/credentials/v2`` the digest is the one VC
DM 2.0 *publishes* (of the W3C's own bytes), not a hash of the bundled npm bytes -- see
the contexts README.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from identity.canonical import parse_json
from identity.encoding import multibase_decode
from identity.errors import (
    ContextNotAllowedError,
    MalformedValueError,
    ParsingError,
    RelatedResourceError,
)

Json = dict[str, Any]

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

BUNDLED_CONTEXTS: Mapping[str, str] = MappingProxyType(
    {
        CREDENTIALS_V2: "credentials-v2.jsonld",
        "https://www.w3.org/ns/credentials/undefined-terms/v2": "credentials-undefined-terms-v2.jsonld",  # noqa: E501
        "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
        CREDENTIALS_V1: "credentials-v1.jsonld",
        DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
        "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
        "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
        "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-2020-v1.jsonld",
        "https://w3id.org/citizenship/v4rc1": "citizenship-v4rc1.jsonld",
    }
)

# Contexts written for this service (not copies): the terms of the bundled credential
# types in schemas/credential_types, also served at GET /contexts/city/v1.
SERVICE_CONTEXTS: Mapping[str, str] = MappingProxyType(
    {
        "https://identity-service.example/contexts/city/v1": "city-v1.jsonld",
    }
)

# VC DM 2.0 §B.1 (Base Context): the published SHA-256 of the W3C's v2 context file.
V2_PUBLISHED_SHA256 = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
PUBLISHED_SHA256: Mapping[str, bytes] = MappingProxyType(
    {
        CREDENTIALS_V2: bytes.fromhex(V2_PUBLISHED_SHA256),
    }
)

MANIFEST = "manifest.json"
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_SRI_HASHES = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_MULTIHASH_SHA2_256 = b"\x12\x20"


@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class ContextLoader:
    """Serves bundled contexts (and an operator's, from ``extra_dir``) by URL; nothing else.

    ``extra_dir`` holds ``manifest.json`` -- ``{"<context URL>": "<file name>", ...}`` --
    and the files it names. Instances are compared by identity: canonical/rdf.py keeps its
    processed-context cache per loader.
    """

    extra_dir: Path | None = None
    _files: Mapping[str, bytes] = field(init=False, repr=False)
    _documents: Mapping[str, Json] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        files = {
            url: _bundled_bytes(name)
            for url, name in {**BUNDLED_CONTEXTS, **SERVICE_CONTEXTS}.items()
        }
        if self.extra_dir is not None:
            for url, data in _operator_files(Path(self.extra_dir)).items():
                if url in files:
                    raise ContextNotAllowedError(
                        "an operator context may not replace a bundled context", url=url
                    )
                files[url] = data
        documents = {url: _context_document(url, data) for url, data in files.items()}
        object.__setattr__(self, "_files", MappingProxyType(files))
        object.__setattr__(self, "_documents", MappingProxyType(documents))

    @property
    def urls(self) -> frozenset[str]:
        """Every context URL this loader serves: bundled, service and operator contexts; a
        document naming any other is refused."""
        return frozenset(self._documents)

    def load(self, url: str) -> Json:
        """A fresh copy of the context document at ``url``; refuse any URL not served."""
        document = self._documents.get(url) if isinstance(url, str) else None
        if document is None:
            raise ContextNotAllowedError(
                "JSON-LD context is not available offline", url=str(url)[:200]
            )
        return copy.deepcopy(document)

    def digest(self, url: str, algorithm: str = "sha256") -> bytes:
        """The digest a ``relatedResource`` entry for ``url`` must carry.

        The published digest where VC DM 2.0 gives one (only SHA-256 is published);
        otherwise the digest of the bundled bytes, which are the published npm files.
        """
        if url not in self._files:
            raise ContextNotAllowedError("JSON-LD context is not available offline", url=url[:200])
        if url in PUBLISHED_SHA256:
            if algorithm != "sha256":
                raise RelatedResourceError(
                    f"only the published sha256 digest is known for {url}", url=url
                )
            return PUBLISHED_SHA256[url]
        if algorithm not in _SRI_HASHES:
            raise MalformedValueError(f"unsupported digest algorithm {algorithm!r}")
        return _SRI_HASHES[algorithm](self._files[url]).digest()

    def check_related_resource(self, resource: Json) -> None:
        """VC DM 2.0 §5.3: check the ``digestSRI`` / ``digestMultibase`` of a related
        context; raise :class:`RelatedResourceError` on a mismatch."""
        url = resource.get("id")
        if not isinstance(url, str):
            raise MalformedValueError("relatedResource.id must be a URL string")
        sri, multibase = resource.get("digestSRI"), resource.get("digestMultibase")
        if sri is None and multibase is None:
            raise MalformedValueError("relatedResource needs digestSRI or digestMultibase", url=url)
        if sri is not None:
            algorithm, expected = _parse_sri(sri)
            if self.digest(url, algorithm) != expected:
                raise RelatedResourceError("digestSRI does not match the context", url=url)
        if multibase is not None and self.digest(url, "sha256") != _parse_multihash(multibase):
            raise RelatedResourceError("digestMultibase does not match the context", url=url)


def _bundled_bytes(name: str) -> bytes:
    return resources.files("identity").joinpath("contexts", name).read_bytes()


def _operator_files(folder: Path) -> dict[str, bytes]:
    manifest = parse_json((folder / MANIFEST).read_bytes())
    if not isinstance(manifest, dict):
        raise ParsingError(f"{MANIFEST} must map context URLs to file names")
    files: dict[str, bytes] = {}
    for url, name in manifest.items():
        if not _ABSOLUTE_URL.match(url):
            raise ParsingError(f"{MANIFEST}: {url!r} is not an absolute URL")
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise ParsingError(f"{MANIFEST}: {name!r} must be a file name inside the folder")
        files[url] = (folder / name).read_bytes()
    return files


def _context_document(url: str, data: bytes) -> Json:
    document = parse_json(data)
    if not isinstance(document, dict) or not isinstance(document.get("@context"), dict | list):
        raise ParsingError("a context file must be a JSON object with @context", url=url)
    return document


def _parse_sri(value: Any) -> tuple[str, bytes]:
    """Subresource Integrity ``<alg>-<base64 digest>`` (W3C SRI §3.5)."""
    if not isinstance(value, str) or "-" not in value:
        raise MalformedValueError("digestSRI must be '<algorithm>-<base64>'")
    algorithm, _, encoded = value.partition("-")
    if algorithm not in _SRI_HASHES:
        raise MalformedValueError(f"unsupported digestSRI algorithm {algorithm!r}")
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedValueError("digestSRI is not valid base64") from exc


def _parse_multihash(value: Any) -> bytes:
    """``digestMultibase``: multibase(multihash); only sha2-256 (0x12, 32 bytes)."""
    if not isinstance(value, str):
        raise MalformedValueError("digestMultibase must be a string")
    data = multibase_decode(value)
    if not data.startswith(_MULTIHASH_SHA2_256) or len(data) != 34:
        raise MalformedValueError("digestMultibase must be a sha2-256 multihash")
    return data[2:]
