"""The fast JSON-LD check (precomputed term tables) agrees with full pyld processing.

The fast check only ever *accepts*; whatever it does not accept goes to the full check
(the rdfc path's expansion and toRdf), which decides and raises. So agreement means: the
fast check accepts nothing that the full check refuses -- shown here over every vector,
the service's own credential shapes, hand-written cases for each VC DM 2.0 rule, and
documents hypothesis generates from them -- and it does accept ordinary credentials (or
it would be no faster).
"""

from __future__ import annotations

import copy
import glob
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.canonical.rdf import check_json_ld
from identity.canonical.terms import JsonLdChecker, TermTables
from identity.errors import (
    ContextNotAllowedError,
    DataLossError,
    IdentityError,
    InvalidJsonLdError,
    ProtectedTermRedefinitionError,
)
from identity.jsonld import BUNDLED_CONTEXTS, SERVICE_CONTEXTS
from tests.conftest import vectors_dir
from tests.proofs.support import CITY, EXAMPLES, LOADER, V2, service_credential

TABLES = TermTables(LOADER)
DI = "https://w3id.org/security/data-integrity/v2"
V1 = "https://www.w3.org/2018/credentials/v1"


def full_error(document: Any) -> IdentityError | None:
    try:
        check_json_ld(document, LOADER)
    except IdentityError as exc:
        return exc
    return None


def assert_agrees(document: Any) -> bool:
    """The fast verdict never contradicts the full one; returns the fast verdict."""
    accepted = TABLES.accepts(document)
    if accepted:
        error = full_error(document)
        assert error is None, f"fast check accepted what full processing refuses: {error!r}"
    return accepted


def _vector_documents() -> list[dict[str, Any]]:
    """Every JSON-LD document among the vectors, unsecured, plus each proof as the rdfc
    proof configuration sees it (its options in the document's @context)."""
    out = []
    for path in sorted(glob.glob(str(vectors_dir() / "**" / "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        for doc in (data, data.get("credential") if isinstance(data, dict) else None):
            if isinstance(doc, dict) and "@context" in doc:
                out.append({k: v for k, v in doc.items() if k != "proof"})
                proofs = doc.get("proof")
                for proof in proofs if isinstance(proofs, list) else [proofs]:
                    if isinstance(proof, dict):
                        options = {k: v for k, v in proof.items() if k != "proofValue"}
                        out.append({**options, "@context": doc["@context"]})
    return out


def _credential(context: Any, **members: Any) -> dict[str, Any]:
    return {
        "@context": context,
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject"},
        **members,
    }


EXTRA = {"@value": "Example", "@language": "en", "extra": "x"}
# The VC DM 2.0 rules the rdfc path catches and jcs used not to (issue #11), and the
# error each must raise on both paths.
RULES: dict[str, tuple[dict[str, Any], type[IdentityError]]] = {
    "@context item that is not a URL": (
        _credential([V2, "https ://not-a-url/contexts/example/v1"]),
        ContextNotAllowedError,
    ),
    "inline context maps a type to a non-IRI": (
        _credential(
            [V2, {"ExampleType": "not an iri"}], type=["VerifiableCredential", "ExampleType"]
        ),
        InvalidJsonLdError,
    ),
    "name with an extra member": (_credential([V2], name=EXTRA), DataLossError),
    "description with an extra member": (_credential([V2], description=EXTRA), DataLossError),
    "issuer name with an extra member": (
        _credential([V2], issuer={"id": "did:example:issuer", "name": EXTRA}),
        DataLossError,
    ),
    "issuer description with an extra member": (
        _credential([V2], issuer={"id": "did:example:issuer", "description": EXTRA}),
        DataLossError,
    ),
    "extra member under the examples @vocab": (
        _credential([V2, EXAMPLES], name=EXTRA),
        InvalidJsonLdError,
    ),
    "inline context redefines VerifiableCredential": (
        _credential([V2, {"VerifiableCredential": "https://evil.example/VC"}]),
        ProtectedTermRedefinitionError,
    ),
    "undefined term": (_credential([V2], favouriteColour="blue"), DataLossError),
    "undefined type": (
        _credential([V2], type=["VerifiableCredential", "AgencyPermit"]),
        DataLossError,
    ),
    "relative id": (_credential([V2], id="credentials/42"), DataLossError),
    "@direction that is not ltr/rtl": (
        _credential([V2], name={"@value": "x", "@direction": "up"}),
        InvalidJsonLdError,
    ),
    "language-tagged number": (
        _credential([V2], name={"@value": 4, "@language": "en"}),
        InvalidJsonLdError,
    ),
    "colliding @id": (_credential([V2], id="urn:a", **{"@id": "urn:b"}), InvalidJsonLdError),
}


@pytest.mark.parametrize("case", sorted(RULES))
def test_each_rule_is_refused_by_the_checker_with_the_rdfc_error(case: str) -> None:
    document, error = RULES[case]
    assert not TABLES.accepts(document)
    checker = JsonLdChecker(LOADER)
    with pytest.raises(error):
        checker.check(document)
    assert (checker.fast, checker.full) == (0, 1)
    assert isinstance(full_error(document), error)


def test_every_vector_agrees_and_ordinary_ones_take_the_fast_path() -> None:
    documents = _vector_documents()
    verdicts = [assert_agrees(d) for d in documents]
    assert len(documents) >= 20
    # Everything but documents with a nested @context (jcs proofs inside a chain) or
    # outside the modelled subset is decided fast.
    assert sum(verdicts) >= len(documents) * 3 // 4


@pytest.mark.parametrize(
    "document",
    [
        service_credential(),
        {**service_credential(), "@context": [V2, CITY, EXAMPLES], "anything": {"id": "urn:x"}},
        _credential([V2], name={"@value": "n", "@language": "en", "@direction": "rtl"}),
        _credential([V1, DI], issuanceDate="2026-01-01T00:00:00Z"),
        _credential([V2], issuer={"id": "did:example:issuer", "name": "Bureau"}),
    ],
)
def test_valid_credentials_take_the_fast_path(document: dict[str, Any]) -> None:
    assert full_error(document) is None
    assert TABLES.accepts(document)


def test_a_multi_bit_status_entry_takes_the_fast_path() -> None:
    # Bitstring Status List §2.1: statusSize, statusMessage and statusReference belong
    # to the entry (the v2 context defines them in BitstringStatusListEntry's scope).
    credential = _credential(
        [V2],
        credentialStatus={
            "id": "https://agency.example/status/3#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "message",
            "statusListIndex": "94567",
            "statusListCredential": "https://agency.example/status/3",
            "statusSize": 2,
            "statusMessage": [
                {"status": "0x0", "message": "pending_review"},
                {"status": "0x1", "message": "accepted"},
            ],
            "statusReference": "https://agency.example/status-dictionary/",
        },
    )
    assert full_error(credential) is None
    assert TABLES.accepts(credential)


# -- generated variants -------------------------------------------------------------------

SERVED = sorted({*BUNDLED_CONTEXTS, *SERVICE_CONTEXTS})
KEYS = [
    "name", "description", "id", "type", "@id", "@type", "fullName", "dateOfBirth",
    "favouriteColour", "https://schema.org/knows", "schema:knows", "cred:issuer", "_:p",
    "@foo", "@value", "@language", "@context", "credentialSubject", "issuer", "proof",
    "statusPurpose", "statusMessage", "statusSize", "encodedList", "jsonSchema", "holder",
    "verifiableCredential", "alumniOf", "created", "proofPurpose", "digestSRI",
]  # fmt: skip
TYPES = [
    "VerifiableCredential", "VerifiablePresentation", "BitstringStatusListEntry",
    "BitstringStatusList", "DataIntegrityProof", "JsonSchema", "ResidencePermitCredential",
    "Unknown", "https://example.org/T", "ex:T", "@json", "_:t", "",
]  # fmt: skip
STRINGS = [
    "x", "did:example:1", "urn:uuid:1", "https://example.org/a", "relative/path",
    "https ://bad", "_:b1", "", "did:example:a b", "assertionMethod", "2026-01-01T00:00:00Z",
    "cred:x", "@id", "en",
]  # fmt: skip

scalars = st.one_of(
    st.sampled_from(STRINGS), st.integers(-5, 5), st.booleans(), st.none(), st.just(1.5)
)
value_objects = st.dictionaries(
    st.sampled_from(["@value", "@language", "@direction", "@type", "@index", "extra", "name"]),
    st.one_of(scalars, st.sampled_from(["ltr", "rtl", "en", "xsd:string", "@json"])),
    min_size=1,
    max_size=4,
).map(lambda d: {"@value": "v", **d})
contexts = st.one_of(
    st.lists(st.sampled_from(SERVED), min_size=1, max_size=4).map(lambda c: [V2, *c]),
    st.lists(st.sampled_from([*SERVED, "https://not.served/ctx", "rel/ctx"]), max_size=3),
    st.just([V2, {"ExampleType": "https://example.org/ExampleType"}]),
    st.just(V2),
)


def values(depth: int) -> st.SearchStrategy[Any]:
    if depth <= 0:
        return st.one_of(scalars, value_objects)
    nodes = st.dictionaries(
        st.sampled_from(KEYS),
        st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), max_size=2))
        | st.deferred(lambda: values(depth - 1)),
        max_size=4,
    )
    return st.one_of(
        scalars, value_objects, nodes, st.lists(st.deferred(lambda: values(depth - 1)), max_size=3)
    )


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    base = copy.deepcopy(draw(st.sampled_from([service_credential(), _credential([V2, EXAMPLES])])))
    base["@context"] = draw(st.one_of(st.just(base["@context"]), contexts))
    for _ in range(draw(st.integers(1, 3))):
        target = base
        for _step in range(draw(st.integers(0, 2))):
            children = [v for v in target.values() if isinstance(v, dict)]
            if not children:
                break
            target = draw(st.sampled_from(children))
        key = draw(st.sampled_from(KEYS))
        if key in ("type", "@type"):
            target[key] = draw(st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES))))
        else:
            target[key] = draw(values(2))
    return base


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents())
def test_generated_documents_never_accepted_fast_when_full_processing_refuses(
    document: dict[str, Any],
) -> None:
    assert_agrees(document)


def test_the_generator_reaches_both_verdicts() -> None:
    """Not a vacuous property: the fast check accepts some generated documents and
    declines others, and the full check refuses some."""
    seen = {"fast": 0, "declined": 0, "refused": 0}

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(documents())
    def tally(document: dict[str, Any]) -> None:
        seen["fast" if TABLES.accepts(document) else "declined"] += 1
        seen["refused"] += full_error(document) is not None

    tally()
    assert seen["fast"] >= 10 and seen["declined"] >= 10 and seen["refused"] >= 10, seen


def test_tables_are_built_per_checker_not_at_import() -> None:
    tables = TermTables(LOADER)
    assert tables._top == {}  # nothing processed until a document is checked
    assert tables.accepts(service_credential())
    assert list(tables._top) == [(V2, CITY)]
