"""An example request body for every operation that takes one (shown in /docs and /redoc,
and the fuzzer's first case for each operation)."""

from __future__ import annotations

from typing import Any

AGENCY_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
CITIZEN_DID = "did:key:z6MktiSzqF9kqwdU8VkdBKx56EYzXfpgnNPUAGznpicNiWfn"
PROOF: dict[str, Any] = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2026-06-01T12:00:00Z",
    "verificationMethod": AGENCY_DID + "#" + AGENCY_DID.removeprefix("did:key:"),
    "proofPurpose": "assertionMethod",
    "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKKF"
    "kuRKbvEUyPnS5qe",
}
CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "ResidencePermitCredential"],
    "issuer": AGENCY_DID,
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {
        "id": CITIZEN_DID,
        "fullName": "Li Lei",
        "dateOfBirth": "1990-02-03",
        "residenceAddress": "Xuhui",
        "permitNumber": "SH2026001",
    },
}
SIGNED: dict[str, Any] = {**CREDENTIAL, "proof": PROOF}
PRESENTATION: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiablePresentation"],
    "holder": CITIZEN_DID,
    "verifiableCredential": [SIGNED],
    "proof": {
        **PROOF,
        "verificationMethod": CITIZEN_DID + "#" + CITIZEN_DID.removeprefix("did:key:"),
        "proofPurpose": "authentication",
        "challenge": "Tb1ZcmVRb3Pv8bA2Nw4nqkN7dOqJwX9x",
        "domain": "identity.example",
    },
}
DID_CREATE: dict[str, Any] = {
    "type": "create",
    "nonce": "2f0c6d1e",
    "document": {
        "verificationMethod": [
            {
                "id": "#key-1",
                "type": "Multikey",
                "publicKeyMultibase": CITIZEN_DID.removeprefix("did:key:"),
            }
        ],
        "authentication": ["#key-1"],
        "capabilityInvocation": ["#key-1"],
    },
    "proof": {**PROOF, "proofPurpose": "capabilityInvocation"},
}
DID_UPDATE: dict[str, Any] = {
    "type": "update",
    "did": "did:cityid:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
    "previous": "sha256:" + "ab" * 32,
    "document": DID_CREATE["document"],
    "proof": DID_CREATE["proof"],
}
CONSENT: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://identity-service.example/contexts/city/v1",
    ],
    "type": ["VerifiableCredential", "DataSharingConsent"],
    "issuer": CITIZEN_DID,
    "validFrom": "2026-06-01T12:00:00Z",
    "validUntil": "2027-06-01T12:00:00Z",
    "credentialSubject": {
        "id": AGENCY_DID,
        "sharingRequest": "4a0b8f4e-2c1d-4d0e-9a53-3f1f2b3c4d5e",
        "requestDigest": "sha256:" + "cd" * 32,
        "decision": "grant",
    },
    "proof": {**PROOF, "verificationMethod": PRESENTATION["proof"]["verificationMethod"]},
}

EXAMPLES: dict[tuple[str, str], Any] = {
    ("POST", "/issuers"): {"name": "Public Security Bureau", "id": "psb"},
    ("POST", "/issuers/{issuer_id}/keys"): {"scopes": ["issue", "revoke"]},
    ("POST", "/verifiers"): {"name": "Counter 3, Xuhui service centre"},
    ("POST", "/credential-types"): {
        "type": "LibraryCardCredential",
        "title": "Library card",
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["id", "cardNumber"],
            "properties": {"id": {"type": "string"}, "cardNumber": {"type": "string"}},
        },
        "validityDays": 365,
        "suspendable": True,
    },
    ("POST", "/accreditations"): {
        "issuer": "psb",
        "types": ["ResidencePermitCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
    },
    ("POST", "/credentials/issue"): {
        "credential": CREDENTIAL,
        "options": {"cryptosuite": "eddsa-rdfc-2022"},
    },
    ("POST", "/wallet/credentials/{credential_id}/qr"): SIGNED,
    ("POST", "/credentials/verify"): {
        "verifiableCredential": SIGNED,
        "options": {"requireAccreditedIssuer": True},
    },
    ("POST", "/credentials/verify/batch"): [
        {"verifiableCredential": SIGNED},
        {"verifiableCredential": SIGNED, "options": {"requireAccreditedIssuer": True}},
    ],
    ("POST", "/credentials/status"): {
        "credentialId": "urn:uuid:5f7c3a52-9d4b-4b6f-8a58-0d1e2f3a4b5c",
        "credentialStatus": [{"type": "BitstringStatusListCredential", "status": "revoked"}],
    },
    ("POST", "/presentations/verify"): {
        "verifiablePresentation": PRESENTATION,
        "options": {"challenge": PRESENTATION["proof"]["challenge"], "domain": "identity.example"},
    },
    ("POST", "/auth/token"): {
        "verifiablePresentation": {**PRESENTATION, "verifiableCredential": []}
    },
    ("POST", "/dids"): DID_CREATE,
    ("POST", "/dids/{did}/operations"): DID_UPDATE,
    ("POST", "/catalog"): {
        "id": "household-register",
        "title": "Household register",
        "description": "Registered residence of each household member",
        "fields": [
            {"name": "fullName", "personal": True},
            {"name": "residenceAddress", "description": "registered address", "personal": True},
        ],
        "legalBasis": "Household Registration Regulations, art. 10",
        "responsibility": "Public Security Bureau, household registration office",
        "requesters": ["*"],
        "conditions": "for residence-based services only",
    },
    ("POST", "/sharing/requests"): {
        "resource": "household-register",
        "subject": CITIZEN_DID,
        "purpose": "school enrolment: proof of residence",
        "fields": ["residenceAddress"],
    },
    ("POST", "/sharing/requests/{request_id}/consent"): CONSENT,
    ("POST", "/sharing/requests/{request_id}/withdraw"): CONSENT,  # decision: withdraw
    ("POST", "/sharing/requests/{request_id}/exemption"): {
        "legalBasis": "Emergency Response Law, art. 45",
        "reference": "case 2026-0412",
    },
    ("POST", "/sharing/requests/{request_id}/accesses"): {"fields": ["residenceAddress"]},
    ("POST", "/oid4vci/offers"): {
        "type": "ResidencePermitCredential",
        "claims": {k: v for k, v in CREDENTIAL["credentialSubject"].items() if k != "id"},
        "formats": ["dc+sd-jwt", "ldp_vc"],
        "cryptosuite": "eddsa-rdfc-2022",
        "txCode": True,
    },
    ("POST", "/oid4vci/par"): {
        "response_type": "code",
        "client_id": "https://wallet.example",
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "issuer_state": "the offer's issuer_state",
        "scope": "ResidencePermitCredential",
        "state": "af0ifjsldkj",
    },
    ("POST", "/oid4vci/authorize/{request_id}"): {
        "presentation": '{"@context":["https://www.w3.org/ns/credentials/v2"],'
        '"type":["VerifiablePresentation"],"holder":"' + CITIZEN_DID + '",'
        '"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022",'
        '"proofPurpose":"authentication","verificationMethod":"' + CITIZEN_DID + '#key-1",'
        '"challenge":"the challenge of GET /oid4vci/authorize","domain":'
        '"identity-service.example","proofValue":"z…"}}'
    },
    ("POST", "/credentials/sd-jwt/issue"): {
        "credential": {
            "type": "ResidencePermitCredential",
            "credentialSubject": CREDENTIAL["credentialSubject"],
            "validFrom": "2026-01-01T00:00:00Z",
        },
        "options": {
            "cnf": {
                "jwk": {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
                    "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
                }
            }
        },
    },
    ("POST", "/oid4vp/requests"): {
        "dcql_query": {
            "credentials": [
                {
                    "id": "permit",
                    "format": "dc+sd-jwt",
                    "meta": {
                        "vct_values": [
                            "https://identity-service.example/vct/ResidencePermitCredential"
                        ]
                    },
                    "claims": [{"path": ["dateOfBirth"]}, {"path": ["district"]}],
                }
            ]
        },
        "expiresIn": 300,
    },
    ("POST", "/credentials/sd-jwt/verify"): {
        "credential": "eyJhbGciOiJFZERTQSIsInR5cCI6ImRjK3NkLWp3dCJ9.e30.c2ln~",
        "options": {
            "keyBinding": {"nonce": "n-0S6_WzA2Mj", "audience": "https://verifier.example"},
            "requireAccreditedIssuer": True,
        },
    },
}


# VC-JOSE-COSE (docs/jose-cose.md): the same routes with enveloped credentials. The tokens
# are shortened for reading; a real one is a full compact JWS or base64 COSE_Sign1.
ENVELOPED_VC = {
    "@context": "https://www.w3.org/ns/credentials/v2",
    "type": "EnvelopedVerifiableCredential",
    "id": "data:application/vc+jwt,eyJhbGciOiJFZERTQSIsImtpZCI6ImRpZDprZXk6ejZNa2hhWGdCWkR2"
    "b3REa0w1MjU3ZmFpenRpR2lDMlF0S0xHcGJubkVHdGEyZG9LI3o2TWtoYVhnQlpEdm90RGtMNTI1N2ZhaXp0aUdp"
    "QzJRdEtMR3Bibm5FR3RhMmRvSyIsInR5cCI6InZjK2p3dCIsImN0eSI6InZjIn0.eyJAY29udGV4dCI6Wy4uLl19."
    "c2lnbmF0dXJl",
}
NAMED_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/credentials/issue"): {
        "vcJwt": {"credential": CREDENTIAL, "options": {"envelope": "application/vc+jwt"}},
        "vcCose": {"credential": CREDENTIAL, "options": {"envelope": "application/vc+cose"}},
    },
    ("POST", "/credentials/verify"): {"enveloped": {"verifiableCredential": ENVELOPED_VC}},
    ("POST", "/oid4vci/offers"): {  # issue #18: the citizen signs in with their DID
        "authorizationCode": {
            "type": "ResidencePermitCredential",
            "claims": {k: v for k, v in CREDENTIAL["credentialSubject"].items() if k != "id"},
            "subject": CITIZEN_DID,
            "grants": ["authorization_code"],
        }
    },
    ("POST", "/presentations/verify"): {
        "enveloped": {
            "verifiablePresentation": {
                "@context": "https://www.w3.org/ns/credentials/v2",
                "type": "EnvelopedVerifiablePresentation",
                "id": "data:application/vp+jwt,eyJhbGciOiJFZERTQSJ9.eyJub25jZSI6Ii4uLiJ9.c2ln",
            },
            "options": {"challenge": "the challenge from POST /challenges (the nonce claim)"},
        }
    },
}
"""Further named request examples per route (``examples`` beside the one above)."""
