"""The issue path's shortcuts equal the slow path they replace (issue #15).

* :func:`sign_bound` reuses the parsed view of the unsigned document for the signed one;
  it must equal parsing the signed JSON again, for every shape Add Proof produces (one
  proof, a proof set, VC 2.0 and 1.1, validity, status, schema, subjects as a list).
* A credential type compiles its JSON Schema once; its answers equal a validator built
  per call, for subjects that fit and subjects that do not.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.credentials.issuer import bind_issuer, sign_bound, sign_credential
from identity.credentials.model import parse_credential
from identity.errors import SchemaViolationError
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.registry.types import CredentialType, bundled_types

KEY = Ed25519PrivateKey(b"\x05" * 32)
DID = "did:key:" + KEY.public_key().multibase
METHOD = f"{DID}#{DID.removeprefix('did:key:')}"
CREATED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)

simple_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | simple_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(simple_text, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def credentials(draw: st.DrawFn) -> dict[str, Any]:
    """Well-formed credentials of the shapes the service issues and co-signs."""
    v2 = draw(st.booleans())
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"]
        if v2
        else [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "type": ["VerifiableCredential", draw(st.sampled_from(["PermitCredential", "X1"]))],
        "issuer": DID,
    }
    subject = {"id": "did:example:" + draw(st.text("abc123", min_size=1, max_size=6))}
    subject |= draw(st.dictionaries(st.sampled_from(["name", "n", "ü"]), json_values, max_size=2))
    doc["credentialSubject"] = [subject, {"name": "x"}] if draw(st.booleans()) else subject
    if draw(st.booleans()):
        doc["id"] = "urn:uuid:" + draw(st.uuids()).hex
    start = "validFrom" if v2 else "issuanceDate"
    doc[start] = "2026-01-01T00:00:00Z"
    if draw(st.booleans()):
        doc["validUntil" if v2 else "expirationDate"] = "2027-01-01T00:00:00+08:00"
    if draw(st.booleans()):
        doc["credentialStatus"] = {
            "id": "https://x.example/status/1#7",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": "https://x.example/status/1",
        }
    if draw(st.booleans()):
        doc["credentialSchema"] = {"id": "https://x.example/schema", "type": "JsonSchema"}
    if draw(st.booleans()):  # already signed: Add Proof makes a proof set
        doc = sign_credential(
            doc,
            issuer_did=DID,
            verification_method=METHOD,
            key=KEY,
            suite=EddsaJcs2022(),
            created=CREATED,
        ).json
    return doc


@settings(max_examples=150, deadline=None)
@given(credentials())
def test_sign_bound_views_the_signed_json_as_parsing_it_again(document: dict[str, Any]) -> None:
    before = copy.deepcopy(document)
    bound = bind_issuer(document, DID)
    signed = sign_bound(
        bound,
        parse_credential(bound),
        verification_method=METHOD,
        key=KEY,
        suite=EddsaJcs2022(),
        created=CREATED,
    )
    assert signed.credential == parse_credential(signed.json)
    assert signed.credential.json is signed.json
    assert document == before  # the caller's document is never changed
    slow = sign_credential(
        before,
        issuer_did=DID,
        verification_method=METHOD,
        key=KEY,
        suite=EddsaJcs2022(),
        created=CREATED,
    )
    assert slow == signed


SUBJECTS = [
    {"id": "did:example:a"},
    {"id": 7},
    {"id": "did:example:a", "fullName": "Li Lei", "dateOfBirth": "1990-02-03"},
    {"id": "did:example:a", "dateOfBirth": "not a date", "extra": [1, 2]},
    {"fullName": 3, "permitNumber": None},
    [{"id": "did:example:a"}, {"id": "did:example:b", "fullName": ""}],
    "a string",
    None,
    {},
]


@pytest.mark.parametrize("credential_type", bundled_types(), ids=lambda t: t.name)
@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_compiled_schema_answers_as_a_validator_built_per_call(
    credential_type: CredentialType, subject: Any
) -> None:
    def per_call() -> str | None:
        subjects = subject if isinstance(subject, list) else [subject]
        validator = jsonschema.Draft202012Validator(
            credential_type.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        for item in subjects:
            errors = sorted(validator.iter_errors(item), key=lambda e: list(e.absolute_path))
            if errors:
                return errors[0].message
        return None

    expected = per_call()
    if expected is None:
        credential_type.validate_subject(subject)
        return
    with pytest.raises(SchemaViolationError) as raised:
        credential_type.validate_subject(subject)
    assert raised.value.detail.endswith(expected)
