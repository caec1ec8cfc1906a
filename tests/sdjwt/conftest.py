"""Shared SD-JWT fixtures: a deterministic agency key, a P-256 holder, one issued VC."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import pytest

from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.sdjwt.issuance import IssuedSdJwt, SdJwtVcClaims, issue_sd_jwt_vc

ISS = "https://identity.example"
VCT = "https://identity.example/credentials/types/ResidencePermitCredential"
NOW = 1_780_000_000
CLAIMS: dict[str, Any] = {
    "fullName": "张三",
    "dateOfBirth": "1990-05-01",
    "residenceAddress": {"district": "Chaoyang", "street": "1 Guanghua Road"},
    "nationalities": ["CN", "HK"],
}
DISCLOSABLE = (
    "dateOfBirth",
    "residenceAddress",
    "residenceAddress.district",
    "residenceAddress.street",
    "nationalities[]",
)
ALWAYS = ("fullName",)


def counter_random() -> Callable[[int], bytes]:
    """Deterministic bytes (SHA-256 of a counter): reproducible salts and decoys."""
    state = {"n": 0}

    def random(n: int) -> bytes:
        out = b""
        while len(out) < n:
            state["n"] += 1
            out += hashlib.sha256(state["n"].to_bytes(8, "big")).digest()
        return out[:n]

    return random


@pytest.fixture
def agency() -> SigningKey:
    return SigningKey.from_ed25519(Ed25519PrivateKey(bytes(range(32))))


@pytest.fixture
def holder() -> SigningKey:
    return SigningKey.generate_p256(counter_random())


def issue_vc(agency: SigningKey, holder: SigningKey, **overrides: Any) -> IssuedSdJwt:
    envelope = SdJwtVcClaims(
        issuer=ISS,
        vct=VCT,
        issued_at=NOW - 10,
        holder=holder.public_jwk,
        valid_from=overrides.pop("valid_from", NOW - 10),
        valid_until=overrides.pop("valid_until", NOW + 86_400),
        status={"status_list": {"idx": 3, "uri": ISS + "/statuslists/1"}},
    )
    return issue_sd_jwt_vc(
        overrides.pop("claims", CLAIMS),
        envelope,
        agency,
        kid=overrides.pop("kid", "did:web:identity.example#key-1"),
        disclosable=overrides.pop("disclosable", DISCLOSABLE),
        random=overrides.pop("random", os.urandom),
    )


@pytest.fixture
def issued(agency: SigningKey, holder: SigningKey) -> IssuedSdJwt:
    return issue_vc(agency, holder)
