"""The reference wallet's ``ldp_vc`` answer (identity/wallet_client/presentation.py): a
Data Integrity presentation by the holder's did:key with challenge = nonce and domain =
the full client_id; the whole credential; a P-256 holder key refused with a clear error."""

from __future__ import annotations

import json

import pytest

from identity.dids.key import did_from_key
from identity.errors import MalformedValueError
from identity.jose.keys import SigningKey
from identity.wallet_client.presentation import HeldCredential, build_response
from tests.sdjwt.conftest import counter_random

TYPE = ["VerifiableCredential", "ResidencePermitCredential"]
VC = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": TYPE,
    "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "credentialSubject": {"id": "did:example:li", "fullName": "Li Lei"},
}
REQUEST = {
    "client_id": "decentralized_identifier:did:key:z6MkVerifier",
    "nonce": "n-0S6_WzA2Mj",
    "state": "s-1",
    "dcql_query": {
        "credentials": [
            {
                "id": "permit",
                "format": "ldp_vc",
                "meta": {"type_values": [TYPE]},
                "claims": [{"path": ["credentialSubject", "fullName"]}],
            }
        ]
    },
}
HELD = [HeldCredential("permit.json", "ldp_vc", json.dumps(VC))]


def test_an_ldp_vc_query_gets_a_data_integrity_presentation() -> None:
    holder = SigningKey.generate_ed25519(counter_random())
    form = build_response(REQUEST, HELD, holder, now=1_780_000_000)
    assert form["state"] == "s-1"
    (vp,) = json.loads(form["vp_token"])["permit"]
    did = did_from_key(holder.public_jwk.ed25519())
    assert vp["holder"] == did and vp["verifiableCredential"] == [VC]
    proof = vp["proof"]
    assert proof["proofPurpose"] == "authentication"
    assert proof["challenge"] == REQUEST["nonce"] and proof["domain"] == REQUEST["client_id"]
    assert proof["verificationMethod"].startswith(did + "#")
    assert proof["cryptosuite"] == "eddsa-jcs-2022"


def test_a_p256_holder_key_cannot_sign_an_ldp_presentation() -> None:
    with pytest.raises(MalformedValueError, match="Ed25519 holder key"):
        build_response(REQUEST, HELD, SigningKey.generate_p256(counter_random()), now=1)


def test_a_credential_of_another_type_answers_nothing() -> None:
    other = {**VC, "type": ["VerifiableCredential", "BusinessLicenceCredential"]}
    held = [HeldCredential("other.json", "ldp_vc", json.dumps(other))]
    with pytest.raises(MalformedValueError, match="no held credential answers: permit"):
        build_response(REQUEST, held, SigningKey.generate_ed25519(counter_random()), now=1)
