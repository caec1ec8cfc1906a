"""rdfc() adds safety and caching around pyld but must not change any canonical form:
for valid documents it agrees with plain ``pyld.jsonld.normalize`` (URDNA2015), on a
cold and on a warm cache, including type-scoped and propagating contexts."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pyld import jsonld

from identity.canonical import rdfc
from identity.jsonld import ContextLoader
from tests.conftest import vector_json
from tests.proofs.support import EXAMPLES, V2

SCOPED = {
    "@version": 1.1,
    "Permit": {
        "@id": "https://agency.example/vocab#Permit",
        "@context": {
            "holder": {"@id": "https://agency.example/vocab#holder", "@type": "@id"},
            "level": "https://agency.example/vocab#level",
        },
    },
    "Propagating": {
        "@id": "https://agency.example/vocab#Propagating",
        "@context": {"@propagate": True, "depth": "https://agency.example/vocab#depth"},
    },
    "inner": {"@id": "https://agency.example/vocab#inner"},
    "label": "https://agency.example/vocab#label",
}


def _documents() -> list[Any]:
    return [
        vector_json("eddsa-common/unsigned.json"),
        vector_json("eddsa-common/employmentAuth.json"),
        {k: v for k, v in vector_json("ed25519signature2020/signedEdSig.json").items()},
        {
            "@context": [V2, EXAMPLES, SCOPED],
            "id": "urn:p:1",
            "type": ["Permit"],
            "level": 3,
            "holder": "did:example:h",
            "inner": {"type": "Propagating", "depth": 1, "inner": {"depth": 2, "label": "x"}},
        },
        {
            "@context": [V2, EXAMPLES, SCOPED],
            "id": "urn:p:2",
            "type": "Propagating",
            "inner": {"type": "Permit", "level": 1, "inner": {"depth": 5}},
        },
    ]


def _plain(document: Any, loader: ContextLoader) -> str:
    def load(url: str, _options: Any = None) -> dict[str, Any]:
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": loader.load(url),
        }

    result: str = jsonld.normalize(
        copy.deepcopy(document),
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": load,
        },
    )
    return result


@pytest.mark.parametrize("index", range(5))
def test_rdfc_equals_plain_pyld_normalize_cold_and_warm(index: int) -> None:
    document = _documents()[index]
    document.pop("proof", None)
    loader = ContextLoader()  # a fresh loader: a cold context cache
    expected = _plain(document, loader)
    assert expected  # every document here has quads
    assert [rdfc(document, loader) for _ in range(3)] == [expected] * 3


def test_documents_in_any_order_share_one_cache_correctly() -> None:
    loader = ContextLoader()
    documents = _documents()
    for document in documents:
        document.pop("proof", None)
    expected = [_plain(d, loader) for d in documents]
    for _ in range(2):
        for document, canonical in reversed(list(zip(documents, expected, strict=True))):
            assert rdfc(document, loader) == canonical
