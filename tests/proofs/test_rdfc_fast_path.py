"""The rdfc fast path (identity.canonical.quads) gives the reference's canonical N-Quads.

The reference is :func:`identity.canonical.rdf.rdfc` (pyld expansion, toRdf, URDNA2015).
The fast path writes the quads from the term tables and canonicalizes them with the same
:func:`canonicalize`. Shown here: over every vector document, the published
eddsa-rdfc-2022 and Ed25519Signature2020 canonical forms, the service's credential shapes,
blank-node graphs that need Hash N-Degree Quads, and hypothesis-generated documents --
whenever the fast path answers, its string is the reference's; whenever the reference
refuses, :class:`Rdfc` raises the same error (the fast path never answers then); and the
fast path does answer for ordinary credentials (or it would be no faster).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.canonical import rdfc
from identity.canonical.quads import QuadTables, Rdfc
from identity.canonical.rdf import canonicalize
from identity.errors import CanonicalizationLimitError, IdentityError
from identity.proofs.suites import default_registry
from tests.conftest import vector_json, vector_text
from tests.proofs.support import CITY, EXAMPLES, LOADER, V2, service_credential
from tests.proofs.test_jsonld_fast_check import RULES, _credential, _vector_documents, documents

TABLES = QuadTables(LOADER)


def reference(document: Any) -> str | IdentityError:
    try:
        return rdfc(copy.deepcopy(document), LOADER)
    except IdentityError as exc:
        return exc


FAST = Rdfc(LOADER)


def fast(document: Any) -> str | None:
    """The fast path's answer, or None when it left ``document`` to the reference."""
    before = FAST.fast
    canonical = FAST(document) if TABLES.quads(document) is not None else None
    assert canonical is None or FAST.fast == before + 1
    return canonical


def test_both_fast_canonicalizations_are_used() -> None:
    """At most one blank node: labelled _:c14n0 directly; more: canonicalize()."""
    config = {**vector_json("eddsa-rdfc-2022/proofConfigDataInt.json")}
    for document, blank_nodes in (
        (vector_json("eddsa-common/unsigned.json"), 0),
        (config, 1),
        (_credential([V2, EXAMPLES], credentialSubject=[{"n": 1}, {"n": 2}]), 3),
    ):
        walked = TABLES.walk(document)
        assert walked is not None and walked[1] == blank_nodes
        assert fast(document) == reference(document)
        assert fast(document) == canonicalize({"@default": walked[0]})


def published(name: str) -> str:
    """A published canonical form, with the final newline the hashed string has."""
    return vector_text(name).rstrip("\n") + "\n"


def assert_equal_to_reference(document: Any) -> bool:
    """Fast answer (if any) == reference; Rdfc == reference, errors included. Returns
    whether the fast path answered."""
    before = copy.deepcopy(document)
    expected = reference(document)
    got = fast(document)
    assert document == before, "the fast path must not change the document"
    if got is not None:
        assert not isinstance(expected, IdentityError), f"fast, yet the reference: {expected!r}"
        assert got == expected
    canonical = Rdfc(LOADER)
    if isinstance(expected, IdentityError):
        with pytest.raises(type(expected)) as caught:
            canonical(document)
        assert caught.value.detail == expected.detail
    else:
        assert canonical(document) == expected
    assert (canonical.fast, canonical.full) == ((1, 0) if got is not None else (0, 1))
    return got is not None


def test_every_vector_document_agrees_and_ordinary_ones_take_the_fast_path() -> None:
    documents_ = _vector_documents()
    answered = [assert_equal_to_reference(d) for d in documents_]
    assert len(documents_) >= 20
    assert sum(answered) >= len(documents_) * 3 // 4


@pytest.mark.parametrize(
    ("unsigned", "folder"),
    [
        ("eddsa-common/unsigned.json", "eddsa-rdfc-2022/"),
        ("eddsa-common/employmentAuth.json", "eddsa-rdfc-2022/employ/"),
    ],
)
def test_the_fast_path_gives_the_published_canonical_forms(unsigned: str, folder: str) -> None:
    document = vector_json(unsigned)
    assert fast(document) == published(folder + "canonDocDataInt.txt")
    options = vector_json(folder + "proofConfigDataInt.json")
    assert fast(options) == published(folder + "proofCanonDataInt.txt")


def test_ed25519_signature_2020_vectors_take_the_fast_path() -> None:
    signed = vector_json("ed25519signature2020/signedEdSig.json")
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    assert fast(unsecured) == published("ed25519signature2020/canonDocEdSig.txt")
    options = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    config = {**options, "@context": signed["@context"]}
    assert fast(config) == published("ed25519signature2020/proofCanonEdSig.txt")


def test_signed_vectors_verify_through_the_fast_path() -> None:
    from identity.dids.key import DidKeyResolver
    from identity.proofs import verify_proofs

    registry = default_registry(LOADER)
    suite = registry.named("DataIntegrityProof", "eddsa-rdfc-2022")
    for name in ("eddsa-rdfc-2022/signedDataInt.json", "eddsa-rdfc-2022/employ/signedDataInt.json"):
        verify_proofs(vector_json(name), registry, DidKeyResolver(), purpose="assertionMethod")
    assert suite.rdfc.fast >= 2 and suite.rdfc.full == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", sorted(RULES))
def test_what_the_reference_refuses_is_refused_with_its_error(case: str) -> None:
    document, error = RULES[case]
    assert TABLES.quads(document) is None
    assert isinstance(reference(document), error)
    assert not assert_equal_to_reference(document)


ANONYMOUS = {"type": "Person", "name": "twin"}


@pytest.mark.parametrize(
    "document",
    [
        service_credential(),
        {**service_credential(), "@context": [V2, CITY, EXAMPLES], "anything": {"id": "urn:x"}},
        _credential([V2], name={"@value": "n", "@language": "EN-gb", "@direction": "rtl"}),
        _credential(
            [V2, EXAMPLES],
            credentialSubject=[
                {"knows": copy.deepcopy(ANONYMOUS)},
                {"knows": copy.deepcopy(ANONYMOUS)},
                {"id": "_:b7", "knows": {"id": "_:b7"}},
            ],
        ),
        _credential(
            [V2, EXAMPLES],
            credentialSubject={
                "score": [1, 2.0, 1.5, -0.0, 1e21, 12345678901234, True, False],
                "note": 'quote " backslash \\ tab \t newline \n cr \r bell \x07 del \x7f é 𝄞',
                "typed": {"@value": "2026-01-01", "@type": "http://www.w3.org/2001/XMLSchema#date"},
            },
        ),
    ],
    ids=["service", "vocab", "language", "twin-blank-nodes", "literals"],
)
def test_credentials_take_the_fast_path_with_the_reference_result(document: Any) -> None:
    assert not isinstance(reference(document), IdentityError)
    assert assert_equal_to_reference(document)


def test_blank_nodes_too_alike_hit_the_same_work_limit() -> None:
    # Blank nodes all linked to each other and otherwise alike (the RDFC worst case).
    ring: dict[str, Any] = {"@context": [V2, EXAMPLES], "id": "urn:clique", "member": []}
    for i in range(6):
        others = [{"id": f"_:n{j}"} for j in range(6) if j != i]
        ring["member"].append({"id": f"_:n{i}", "knows": others})
    assert isinstance(reference(ring), CanonicalizationLimitError)
    assert TABLES.quads(ring) is not None
    with pytest.raises(CanonicalizationLimitError):
        Rdfc(LOADER)(ring)


# -- generated documents ------------------------------------------------------------------

LANGS = ["en", "zh-Hans", "DE"]
DATATYPES = ["xsd:date", "http://www.w3.org/2001/XMLSchema#date", "https://example.org/dt"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
literals = st.one_of(
    TEXT,
    st.integers(-(2**53) + 1, 2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.builds(lambda v, lang: {"@value": v, "@language": lang}, TEXT, st.sampled_from(LANGS)),
    st.builds(lambda v, t: {"@value": v, "@type": t}, TEXT, st.sampled_from(DATATYPES)),
)
PROPS = ["name", "description", "knows", "score", "id", "type", "https://example.org/p"]


def nodes(depth: int) -> st.SearchStrategy[Any]:
    inner = literals if depth <= 0 else st.one_of(literals, st.deferred(lambda: nodes(depth - 1)))
    return st.dictionaries(
        st.sampled_from(PROPS),
        st.one_of(inner, st.lists(inner, max_size=3)),
        max_size=4,
    ).map(_fix_node)


def _fix_node(node: dict[str, Any]) -> dict[str, Any]:
    if "id" in node:
        label = node["id"]
        node["id"] = "_:x" if not isinstance(label, str) else f"urn:n:{len(label) % 3}"
    if "type" in node:
        node["type"] = ["Person", "https://example.org/T"][: 1 + (len(str(node["type"])) % 2)]
    return node


@st.composite
def credentials(draw: st.DrawFn) -> dict[str, Any]:
    document = _credential([V2, EXAMPLES])
    subjects = st.one_of(nodes(2), st.lists(nodes(1), min_size=1, max_size=3))
    document["credentialSubject"] = draw(subjects)
    if draw(st.booleans()):
        document["name"] = draw(literals)
    return document


SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(credentials())
def test_generated_credentials_equal_the_reference(document: dict[str, Any]) -> None:
    assert_equal_to_reference(document)


@SETTINGS
@given(documents())
def test_generated_documents_of_the_jsonld_check_equal_the_reference(
    document: dict[str, Any],
) -> None:
    assert_equal_to_reference(document)


def test_the_generators_reach_the_fast_path_and_the_reference() -> None:
    seen = {"fast": 0, "reference": 0, "refused": 0}

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(st.one_of(credentials(), documents()))
    def tally(document: dict[str, Any]) -> None:
        seen["fast" if TABLES.quads(document) is not None else "reference"] += 1
        seen["refused"] += isinstance(reference(document), IdentityError)

    tally()
    assert seen["fast"] >= 30 and seen["reference"] >= 10 and seen["refused"] >= 10, seen
