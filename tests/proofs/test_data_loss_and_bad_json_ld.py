"""JSON-LD that would change or lose meaning is refused with a clear identity error
(VC-DI "DATA_LOSS_DETECTION"; JSON-LD 1.1 API error codes), never a raw pyld exception."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from identity.canonical import rdfc
from identity.errors import (
    CanonicalizationLimitError,
    ContextNotAllowedError,
    DataLossError,
    InvalidJsonLdError,
    ParsingError,
    ProofVerificationError,
    ProtectedTermRedefinitionError,
)
from identity.proofs import add_proof, verify_proofs
from tests.proofs.support import EXAMPLES, LOADER, RDFC, REGISTRY, RESOLVER, V2, fixed_key, options


def _credential(context: Any, **claims: Any) -> dict[str, Any]:
    return {
        "@context": context,
        "id": "urn:uuid:1f8b6b1c-0c1e-4d4e-9b0e-3c5a2f7d9a10",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject", **claims},
    }


def _sign(document: dict[str, Any]) -> dict[str, Any]:
    key, vm = fixed_key()
    return add_proof(RDFC, document, options(vm), key)


def _verify(document: dict[str, Any]) -> None:
    verify_proofs(document, REGISTRY, RESOLVER, purpose="assertionMethod")


def test_issuer_refuses_a_term_the_contexts_do_not_define() -> None:
    with pytest.raises(DataLossError, match="favouriteColour") as caught:
        _sign(_credential([V2], favouriteColour="blue"))
    assert caught.value.data["term"] == "favouriteColour"


def test_verifier_rejects_an_undefined_term_added_after_signing() -> None:
    signed = _sign(_credential([V2]))
    _verify(signed)
    signed["credentialSubject"]["favouriteColour"] = "blue"
    with pytest.raises(DataLossError, match="favouriteColour"):
        _verify(signed)


def test_verifier_rejects_a_defined_term_added_after_signing() -> None:
    # Under the examples @vocab the new term is defined, so it changes the signed N-Quads.
    signed = _sign(_credential([V2, EXAMPLES], alumniOf="Example University"))
    _verify(signed)
    signed["credentialSubject"]["degree"] = "PhD"
    with pytest.raises(ProofVerificationError):
        _verify(signed)


def test_undefined_type_is_data_loss() -> None:
    document = _credential([V2])
    document["type"] = ["VerifiableCredential", "AgencyPermit"]
    with pytest.raises(DataLossError, match="AgencyPermit"):
        rdfc(document, LOADER)


def test_relative_id_is_data_loss() -> None:
    document = {**_credential([V2]), "id": "credentials/42"}
    with pytest.raises(DataLossError, match="credentials/42"):
        rdfc(document, LOADER)


@pytest.mark.parametrize("base", [None, "relative/"])
def test_base_that_leaves_iris_relative_is_data_loss(base: str | None) -> None:
    document = {**_credential([V2, {"@base": base}]), "id": "credentials/42"}
    with pytest.raises(DataLossError, match="credentials/42"):
        rdfc(document, LOADER)


def test_absolute_base_resolves_relative_ids_without_loss() -> None:
    document = {**_credential([V2, {"@base": "https://agency.example/"}]), "id": "credentials/42"}
    assert "<https://agency.example/credentials/42>" in rdfc(document, LOADER)


def test_relative_vocab_is_data_loss() -> None:
    with pytest.raises(DataLossError, match="terms#colour"):
        rdfc({"@context": {"@vocab": "terms#"}, "colour": "blue"}, LOADER)


def test_keyword_lookalike_is_data_loss() -> None:
    with pytest.raises(DataLossError):
        rdfc({**_credential([V2]), "@colour": "blue"}, LOADER)


def test_document_without_context_is_data_loss() -> None:
    with pytest.raises(DataLossError, match="name"):
        rdfc({"name": "x"}, LOADER)


def test_term_mapped_to_a_blank_node_is_data_loss() -> None:
    with pytest.raises(DataLossError, match="_:colour"):
        rdfc({"@context": {"colour": "_:colour"}, "@id": "urn:x", "colour": "blue"}, LOADER)


def test_context_that_is_a_number_is_invalid_json_ld() -> None:
    with pytest.raises(InvalidJsonLdError, match="@context must be an object") as caught:
        rdfc({"@context": 4, "name": "x"}, LOADER)
    assert caught.value.data["code"] == "invalid local context"


@pytest.mark.parametrize("entry", [4, True, ["nested"]])
def test_context_entry_neither_string_nor_object_is_invalid_json_ld(entry: Any) -> None:
    with pytest.raises(InvalidJsonLdError):
        rdfc(_credential([V2, entry]), LOADER)


def test_term_mapped_to_a_non_iri_is_invalid_json_ld() -> None:
    with pytest.raises(InvalidJsonLdError) as caught:
        rdfc(_credential([V2, {"colour": "not an iri"}], colour="blue"), LOADER)
    assert caught.value.data["code"] == "invalid IRI mapping"


def test_redefining_a_protected_term_is_refused() -> None:
    context = [V2, {"name": "https://evil.example/name"}]
    with pytest.raises(ProtectedTermRedefinitionError) as caught:
        rdfc(_credential(context), LOADER)
    assert caught.value.data["code"] == "protected term redefinition"


def test_nullifying_a_protected_context_is_refused() -> None:
    with pytest.raises(InvalidJsonLdError, match="protected"):
        rdfc(_credential([V2, None]), LOADER)


def test_unknown_context_url_is_not_allowed_and_never_fetched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the JSON-LD processor tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(ContextNotAllowedError) as caught:
        rdfc(_credential([V2, "https://contexts.example/evil/v1"]), LOADER)
    assert caught.value.data["url"] == "https://contexts.example/evil/v1"


def test_relative_context_url_is_not_allowed() -> None:
    with pytest.raises(ContextNotAllowedError):
        rdfc(_credential([V2, "contexts/v1.jsonld"]), LOADER)


def test_verifier_refuses_a_document_with_an_unknown_context() -> None:
    signed = _sign(_credential([V2]))
    signed["@context"] = [V2, "https://contexts.example/evil/v1"]
    with pytest.raises(ContextNotAllowedError):
        _verify(signed)


def test_document_that_is_not_an_object_is_a_parsing_error() -> None:
    with pytest.raises(ParsingError):
        rdfc([{"@context": V2}], LOADER)  # type: ignore[arg-type]


def test_deeply_nested_document_is_a_parsing_error() -> None:
    value: Any = "x"
    for _ in range(2000):
        value = {"@list": [value]}
    with pytest.raises(ParsingError, match="deeply"):
        rdfc({"@context": {"p": "https://example.org/p"}, "p": value}, LOADER)


def _clique(size: int) -> dict[str, Any]:
    """Blank nodes all linked to each other and otherwise alike: the RDFC worst case."""
    nodes = [
        {"@id": f"_:n{i}", "p": [{"@id": f"_:n{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    return {"@context": {"p": {"@id": "https://example.org/p", "@type": "@id"}}, "@graph": nodes}


def test_small_symmetric_graph_canonicalizes_within_the_limit() -> None:
    assert rdfc(_clique(4), LOADER).count("\n") == 12


@pytest.mark.parametrize("size", [6, 10, 40])
def test_blank_node_poisoning_hits_the_work_limit_quickly(size: int) -> None:
    started = time.perf_counter()
    with pytest.raises(CanonicalizationLimitError):
        rdfc(_clique(size), LOADER)
    assert time.perf_counter() - started < 2.0


def test_work_limit_is_a_parameter() -> None:
    with pytest.raises(CanonicalizationLimitError):
        rdfc(_clique(4), LOADER, max_work=10)
