"""Shared by the SD-JWT service tests, the interop tests and the benchmark: issue one
SD-JWT VC over HTTP and present it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from identity.jose.keys import SigningKey

SUBJECT: dict[str, Any] = {
    "id": "did:example:citizen-1",
    "fullName": "李雷",
    "dateOfBirth": "1990-02-03",
    "residenceAddress": "Xuhui",
    "district": "Chaoyang",
    "permitNumber": "SH2026001",
}
AUD = "https://counter.example"
NONCE = "n-0S6_WzA2Mj"


def sd_issue(
    client: TestClient, agency: dict[str, Any], holder: SigningKey, **credential: Any
) -> Any:
    """POST /credentials/sd-jwt/issue of a residence permit bound to ``holder``."""
    body = {
        "credential": {
            "type": "ResidencePermitCredential",
            "credentialSubject": SUBJECT,
            **credential,
        },
        "options": {"cnf": {"jwk": holder.public_jwk.to_dict()}},
    }
    return client.post(
        "/credentials/sd-jwt/issue",
        json=body,
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )


def sd_verify(client: TestClient, token: str, **options: Any) -> Any:
    """POST /credentials/sd-jwt/verify, asking for key binding unless told otherwise."""
    options.setdefault("keyBinding", {"nonce": NONCE, "audience": AUD})
    if options["keyBinding"] is None:
        del options["keyBinding"]
    return client.post("/credentials/sd-jwt/verify", json={"credential": token, "options": options})
