"""Every bad input: RFC 9457 problem+json with a stable type, never a 500, nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.errors import PROBLEMS, VC_DI, VC_DM
from tests.service.conftest import admin, credential_for, make_issuer, services_of

PROBLEM = "application/problem+json"


def snapshot(client: TestClient) -> tuple[Any, ...]:
    store = services_of(client).store
    return (store.count_credentials(), [i.id for i in store.list_issuers()])


def assert_problem(response: Any, status: int, type_uri: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == type_uri
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def _cred(did: str, **changes: Any) -> dict[str, Any]:
    cred = credential_for(did)
    for key, value in changes.items():
        if value is ...:
            cred.pop(key, None)
        else:
            cred[key] = value
    return cred


ISSUE_CASES: dict[str, tuple[Any, int, str]] = {
    # name: (body builder given the agency DID, status, type)
    "body is an array": (lambda d: [1, 2], 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    "credential is a string": (lambda d: {"credential": "x"}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    "credential missing": (lambda d: {"options": {}}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    "options is a string": (
        lambda d: {"credential": _cred(d), "options": "x"},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "@context is 4": (
        lambda d: {"credential": _cred(d, **{"@context": 4})},
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "@context item is 4": (
        lambda d: {
            "credential": _cred(d, **{"@context": ["https://www.w3.org/ns/credentials/v2", 4]})
        },
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "@context first is wrong": (
        lambda d: {"credential": _cred(d, **{"@context": ["https://example.com/ctx"]})},
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "type lacks VerifiableCredential": (
        lambda d: {"credential": _cred(d, type=["ResidencePermitCredential"])},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "type missing": (
        lambda d: {"credential": _cred(d, type=...)},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "credentialSubject is a string": (
        lambda d: {"credential": _cred(d, credentialSubject="alice")},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "credentialSubject missing": (
        lambda d: {"credential": _cred(d, credentialSubject=...)},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "validFrom without time zone": (
        lambda d: {"credential": _cred(d, validFrom="2026-01-01T00:00:00")},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "validUntil before validFrom": (
        lambda d: {"credential": _cred(d, validUntil="2025-01-01T00:00:00Z")},
        422,
        VC_DM + "RANGE_ERROR",
    ),
    "credentialStatus without type": (
        lambda d: {"credential": _cred(d, credentialStatus={"id": "https://x.example/1"})},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "credentialSchema without id": (
        lambda d: {"credential": _cred(d, credentialSchema={"type": "JsonSchema"})},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "credentialSubject is empty": (
        lambda d: {"credential": _cred(d, credentialSubject={})},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "termsOfUse without type": (
        lambda d: {"credential": _cred(d, termsOfUse={})},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "evidence without type": (
        lambda d: {"credential": _cred(d, evidence=[{"id": "urn:x:1"}])},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "refreshService without type": (
        lambda d: {"credential": _cred(d, refreshService={"id": "https://x.example"})},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "relatedResource without id": (
        lambda d: {"credential": _cred(d, relatedResource=[{"digestSRI": "sha384-x"}])},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "relatedResource without digest": (
        lambda d: {"credential": _cred(d, relatedResource=[{"id": "https://x.example/a"}])},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "relatedResource ids repeat": (
        lambda d: {
            "credential": _cred(
                d,
                relatedResource=[
                    {"id": "https://x.example/a", "digestSRI": "sha384-x"},
                    {"id": "https://x.example/a", "digestSRI": "sha384-y"},
                ],
            )
        },
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "relatedResource is strings": (
        lambda d: {"credential": _cred(d, relatedResource=["https://x.example/a"])},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "id is not a URL": (
        lambda d: {"credential": _cred(d, id="not a url")},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "proof is null": (
        lambda d: {"credential": _cred(d, proof=None)},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "issuer is another DID": (
        lambda d: {
            "credential": _cred(
                d, issuer="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
            )
        },
        403,
        PROBLEMS + "forbidden",
    ),
    "issuer is a number": (
        lambda d: {"credential": _cred(d, issuer=7)},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "unknown cryptosuite": (
        lambda d: {"credential": _cred(d), "options": {"cryptosuite": "ecdsa-rdfc-2019"}},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",  # the options are wrong, not a proof
    ),
}


@pytest.mark.parametrize("case", sorted(ISSUE_CASES))
def test_bad_issue_request_is_a_problem_and_writes_nothing(client: TestClient, case: str) -> None:
    agency = make_issuer(client)
    build, status, type_uri = ISSUE_CASES[case]
    before = snapshot(client)
    response = client.post(
        "/credentials/issue",
        json=build(agency["did"]),
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert_problem(response, status, type_uri)
    assert snapshot(client) == before


RAW_CASES: dict[str, tuple[bytes, int, str]] = {
    "not JSON": (b"{not json", 400, VC_DM + "PARSING_ERROR"),
    "not UTF-8": (b"\xff\xfe{}", 400, VC_DM + "PARSING_ERROR"),
    "duplicate member": (b'{"credential": {}, "credential": {}}', 400, VC_DM + "PARSING_ERROR"),
    "integer beyond 2^53": (
        b'{"credential": {"n": 9007199254740993}}',
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "integer of 5,000 digits": (
        b'{"credential": {"n": ' + b"9" * 5_000 + b"}}",
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "negative integer of 60,000 digits": (
        b'{"credential": {"n": -' + b"1" * 60_000 + b"}}",
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "float of 5,000 digits": (
        b'{"credential": {"n": ' + b"9" * 5_000 + b".5}}",
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "NaN": (b'{"credential": {"n": NaN}}', 400, VC_DM + "PARSING_ERROR"),
    "nested too deep": (
        b'{"credential": ' + b"[" * 100 + b"]" * 100 + b"}",
        400,
        VC_DM + "PARSING_ERROR",
    ),
    "empty body": (b"", 400, VC_DM + "PARSING_ERROR"),
}


@pytest.mark.parametrize("endpoint", ["/credentials/issue", "/credentials/verify"])
@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_unparseable_bodies_are_400_and_write_nothing(
    client: TestClient, case: str, endpoint: str
) -> None:
    agency = make_issuer(client)
    body, status, type_uri = RAW_CASES[case]
    before = snapshot(client)
    response = client.post(
        endpoint,
        content=body,
        headers={"Authorization": f"Bearer {agency['apiKey']}", "Content-Type": "application/json"},
    )
    assert_problem(response, status, type_uri)
    assert snapshot(client) == before


@pytest.mark.parametrize("endpoint", ["/credentials/issue", "/credentials/verify", "/issuers"])
def test_oversized_bodies_get_413(client: TestClient, endpoint: str) -> None:
    agency = make_issuer(client)
    big = json.dumps({"credential": {"blob": "x" * 70_000}}).encode()
    auth = {"Authorization": f"Bearer {agency['apiKey']}"} if "cred" in endpoint else admin()
    before = snapshot(client)
    response = client.post(
        endpoint, content=big, headers={**auth, "Content-Type": "application/json"}
    )
    assert_problem(response, 413, PROBLEMS + "payload-too-large")
    assert snapshot(client) == before


def test_oversized_chunked_body_without_length_gets_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    response = client.post(
        "/credentials/verify", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, PROBLEMS + "payload-too-large")


JSON_MEDIA_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON",
    "application/ld+json",
    "application/vc+ld+json",
    "application/vp+ld+json; charset=UTF-8",
]
NOT_JSON = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/jsonx",
    "multipart/form-data; boundary=x",
    "text/json",
    "application/+json",
    None,
]


@pytest.mark.parametrize("endpoint", ["/credentials/issue", "/credentials/verify", "/issuers"])
@pytest.mark.parametrize("media_type", NOT_JSON)
def test_a_body_not_declared_as_json_gets_415_and_writes_nothing(
    client: TestClient, endpoint: str, media_type: str | None
) -> None:
    agency = make_issuer(client)
    auth = {"Authorization": f"Bearer {agency['apiKey']}"} if "cred" in endpoint else admin()
    body = {"credential": credential_for(agency["did"]), "verifiableCredential": {}, "name": "x"}
    headers = {**auth, **({"Content-Type": media_type} if media_type else {})}
    before = snapshot(client)
    response = client.post(endpoint, content=json.dumps(body).encode(), headers=headers)
    problem = assert_problem(response, 415, PROBLEMS + "unsupported-media-type")
    assert problem["media_type"] == (media_type or "").partition(";")[0].strip().lower()
    assert snapshot(client) == before


@pytest.mark.parametrize("media_type", JSON_MEDIA_TYPES)
def test_json_media_types_are_accepted(client: TestClient, media_type: str) -> None:
    agency = make_issuer(client)
    response = client.post(
        "/credentials/issue",
        content=json.dumps({"credential": credential_for(agency["did"])}).encode(),
        headers={"Authorization": f"Bearer {agency['apiKey']}", "Content-Type": media_type},
    )
    assert response.status_code == 201, response.text


VERIFY_CASES: dict[str, tuple[Any, int, str]] = {
    "verifiableCredential is a string": (
        {"verifiableCredential": "x"},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "verifiableCredential missing": ({}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    "proof is null": (None, 400, VC_DM + "MALFORMED_VALUE_ERROR"),
    "no proof": (..., 422, VC_DI + "MALFORMED_PROOF_ERROR"),
    "@context is 4": ({"@context": 4}, 400, VC_DM + "PARSING_ERROR"),
}


@pytest.mark.parametrize("case", sorted(VERIFY_CASES))
def test_bad_verify_request_is_a_problem(client: TestClient, case: str) -> None:
    agency = make_issuer(client)
    vc = client.post(
        "/credentials/issue",
        json={"credential": credential_for(agency["did"])},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    ).json()["verifiableCredential"]
    change, status, type_uri = VERIFY_CASES[case]
    if change is None:
        body: Any = {"verifiableCredential": {**vc, "proof": None}}
    elif change is ...:
        body = {"verifiableCredential": {k: v for k, v in vc.items() if k != "proof"}}
    elif "@context" in change:
        body = {"verifiableCredential": {**vc, **change}}
    else:
        body = change
    before = snapshot(client)
    problem = assert_problem(client.post("/credentials/verify", json=body), status, type_uri)
    if "verifiableCredential" in body and isinstance(body["verifiableCredential"], dict):
        assert problem["verified"] is False
    assert snapshot(client) == before


AUTH_CASES = {
    "no credentials": ({}, 401, PROBLEMS + "unauthenticated"),
    "unknown key": ({"Authorization": "Bearer ik_0000.secret"}, 401, PROBLEMS + "unauthenticated"),
    "malformed key": ({"Authorization": "Bearer whatever"}, 401, PROBLEMS + "unauthenticated"),
    "admin token is no API key": (admin(), 403, PROBLEMS + "forbidden"),
    "basic scheme": ({"Authorization": "Basic abc"}, 401, PROBLEMS + "unauthenticated"),
}


@pytest.mark.parametrize("case", sorted(AUTH_CASES))
def test_issue_without_a_valid_api_key_is_401(client: TestClient, case: str) -> None:
    agency = make_issuer(client)
    headers, status, type_uri = AUTH_CASES[case]
    before = snapshot(client)
    response = client.post(
        "/credentials/issue", json={"credential": credential_for(agency["did"])}, headers=headers
    )
    assert_problem(response, status, type_uri)
    assert snapshot(client) == before


def test_wrong_secret_for_a_real_key_id_is_401(client: TestClient) -> None:
    agency = make_issuer(client)
    key_id = agency["apiKey"].split(".")[0]
    response = client.post(
        "/credentials/issue",
        json={"credential": credential_for(agency["did"])},
        headers={"Authorization": f"Bearer {key_id}.wrong"},
    )
    assert_problem(response, 401, PROBLEMS + "unauthenticated")


def test_revoked_api_key_is_401(client: TestClient) -> None:
    agency = make_issuer(client)
    key_id = agency["apiKey"].split(".")[0].removeprefix("ik_")
    assert (
        client.delete(f"/issuers/{agency['id']}/keys/{key_id}", headers=admin()).status_code == 204
    )
    response = client.post(
        "/credentials/issue",
        json={"credential": credential_for(agency["did"])},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert_problem(response, 401, PROBLEMS + "unauthenticated")


def test_duplicate_credential_id_is_409_and_writes_nothing(client: TestClient) -> None:
    agency = make_issuer(client)
    cred = credential_for(agency["did"], id="urn:uuid:7a1c5d5e-0000-4000-8000-000000000001")
    headers = {"Authorization": f"Bearer {agency['apiKey']}"}
    assert (
        client.post("/credentials/issue", json={"credential": cred}, headers=headers).status_code
        == 201
    )
    before = snapshot(client)
    response = client.post("/credentials/issue", json={"credential": cred}, headers=headers)
    assert_problem(response, 409, PROBLEMS + "conflict")
    assert snapshot(client) == before


ISSUER_CASES: dict[str, tuple[dict[str, str], Any, int, str]] = {
    "no token": ({}, {"name": "X"}, 401, PROBLEMS + "unauthenticated"),
    "wrong token": (
        {"Authorization": "Bearer nope"},
        {"name": "X"},
        401,
        PROBLEMS + "unauthenticated",
    ),
    "name missing": (admin(), {}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    "name empty": (admin(), {"name": ""}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    "unknown field": (
        admin(),
        {"name": "X", "privateKey": "x"},
        422,
        VC_DM + "MALFORMED_VALUE_ERROR",
    ),
    "bad id": (admin(), {"name": "X", "id": "../etc"}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
    "name is a number": (admin(), {"name": 5}, 422, VC_DM + "MALFORMED_VALUE_ERROR"),
}


@pytest.mark.parametrize("case", sorted(ISSUER_CASES))
def test_bad_create_issuer_request_is_a_problem(client: TestClient, case: str) -> None:
    headers, body, status, type_uri = ISSUER_CASES[case]
    before = snapshot(client)
    assert_problem(client.post("/issuers", json=body, headers=headers), status, type_uri)
    assert snapshot(client) == before


def test_agency_key_cannot_create_issuers(client: TestClient) -> None:
    agency = make_issuer(client)
    before = snapshot(client)
    response = client.post(
        "/issuers", json={"name": "X"}, headers={"Authorization": f"Bearer {agency['apiKey']}"}
    )
    assert_problem(response, 403, PROBLEMS + "forbidden")  # known, not allowed (issue #13)
    assert "www-authenticate" not in response.headers
    assert snapshot(client) == before


def test_duplicate_issuer_id_is_409(client: TestClient) -> None:
    assert (
        client.post("/issuers", json={"name": "A", "id": "bureau"}, headers=admin()).status_code
        == 201
    )
    before = snapshot(client)
    response = client.post("/issuers", json={"name": "B", "id": "bureau"}, headers=admin())
    assert_problem(response, 409, PROBLEMS + "conflict")
    assert snapshot(client) == before


@pytest.mark.parametrize(
    "did",
    [
        "did:key:zzz",
        "did:key:z6LSj72tK8brWgZja8NLRwPigth2T9QRiG1uH9oKZuKjdh9p",
        "nope",
        "did:foo:bar",
    ],
)
def test_unresolvable_dids_are_400(client: TestClient, did: str) -> None:
    assert_problem(client.get(f"/dids/{did}"), 400, PROBLEMS + "invalid-did")


def test_unknown_route_and_method_are_problem_json(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404, PROBLEMS + "not-found")
    assert_problem(client.get("/credentials/issue"), 405, PROBLEMS + "method-not-allowed")


def test_unknown_issuer_is_404(client: TestClient) -> None:
    assert_problem(client.get("/issuers/nobody"), 404, PROBLEMS + "not-found")
