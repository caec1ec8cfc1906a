"""The signed credential's bytes and digest come from the canonical runs the proof
already serialized (issue #15: no fourth JCS pass on issue). They must equal the slow
path -- :func:`add_proof_to` then :func:`jcs` of the result, hashed -- for every
document, including members that sort before and after ``proof`` in UTF-16 order,
non-BMP names, escapes, and documents the proof cannot be made for."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.canonical import jcs
from identity.clock import xsd_datetime
from identity.credentials.issuer import bind_issuer, sign_bound
from identity.credentials.model import parse_credential
from identity.proofs import add_proof_to
from identity.proofs.eddsa_jcs import EddsaJcs2022

from .test_issuer_fast import CREATED, DID, KEY, METHOD, credentials

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
names = text | st.sampled_from(["proof", "proo", "proofs", "p\U0001f600", "\ufb01", "pr", "z"])
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)


def slow(document: dict[str, Any]) -> tuple[dict[str, Any], bytes, bytes]:
    """The reference: Add Proof, then JCS of the signed document and its SHA-256."""
    suite = EddsaJcs2022()
    options = {
        "type": suite.proof_type,
        "cryptosuite": suite.cryptosuite,
        "created": xsd_datetime(CREATED),
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
    }
    signed = add_proof_to(suite, copy.deepcopy(document), options, KEY)
    serialized = jcs(signed)
    return signed, serialized, hashlib.sha256(serialized).digest()


def fast(document: dict[str, Any]) -> tuple[dict[str, Any], bytes, bytes]:
    bound = bind_issuer(document, DID)
    signed = sign_bound(
        bound,
        parse_credential(bound),
        verification_method=METHOD,
        key=KEY,
        suite=EddsaJcs2022(),
        created=CREATED,
    )
    return signed.json, signed.serialized or b"", signed.digest


@settings(max_examples=200, deadline=None)
@given(credentials(), st.dictionaries(names.filter(lambda n: n != "proof"), values, max_size=4))
def test_signed_bytes_and_digest_equal_the_slow_path(
    document: dict[str, Any], extra: dict[str, Any]
) -> None:
    for name, value in extra.items():
        document.setdefault(name, value)
    assert fast(document) == slow(document)


def test_members_sorting_around_proof_in_utf16_order() -> None:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "credentialSubject": {"id": "did:example:a"},
        "proo": 1,
        "proofs": [2],
        "p\U0001f600": "non-BMP",
        "\ufb01": "after a surrogate pair in UTF-16",
        'quote"\\': "escapes\n\u2028",
    }
    signed, serialized, digest = fast(document)
    assert (signed, serialized, digest) == slow(document)
    assert serialized == jcs(signed)


def test_a_document_the_proof_cannot_be_made_for_is_refused_alike() -> None:
    bad: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "credentialSubject": {"id": "did:example:a", "n": 1.5e400},
    }
    with pytest.raises(Exception) as slow_error:
        slow(bad)
    with pytest.raises(Exception) as fast_error:
        fast(bad)
    assert type(fast_error.value) is type(slow_error.value)
    assert str(fast_error.value) == str(slow_error.value)
