"""OpenID4VP 1.0 end to end in-process: a verifier creates a DCQL request, the reference
wallet (identity/wallet_client/presentation.py) fetches, verifies and answers it, the
verifier reads exactly the disclosed claims; and each abuse is refused with its error,
the request's state unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.jose.jws import parse_compact
from identity.jose.keys import SigningKey
from identity.sdjwt.holder import KeyBinding, present
from identity.wallet_client.presentation import (
    HeldCredential,
    build_response,
    unsigned_request,
    verify_request_object,
)
from service.cli_wallet import answer, parse_authorization_uri
from tests.sdjwt.conftest import counter_random
from tests.sdjwt.service_helpers import sd_issue
from tests.service.conftest import NOW, admin, make_issuer

VCT_SUFFIX = "/vct/ResidencePermitCredential"


@pytest.fixture
def verifier(client: TestClient) -> dict[str, str]:
    response = client.post("/verifiers", json={"name": "City counter"}, headers=admin())
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['apiKey']}"}


@pytest.fixture
def holder() -> SigningKey:
    return SigningKey.generate_p256(counter_random())


@pytest.fixture
def held(client: TestClient, holder: SigningKey) -> HeldCredential:
    issued = sd_issue(client, make_issuer(client), holder)
    assert issued.status_code == 201, issued.text
    return HeldCredential("permit.sd-jwt", "dc+sd-jwt", issued.json()["credential"])


def query(base: str, claims: tuple[str, ...] = ("dateOfBirth", "district")) -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "permit",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [base + VCT_SUFFIX]},
                "claims": [{"path": [c]} for c in claims],
            }
        ]
    }


def create(client: TestClient, verifier: dict[str, str], **extra: Any) -> dict[str, Any]:
    base = str(client.app.state.services.settings.public_url).rstrip("/")  # type: ignore[attr-defined]
    body = {"dcql_query": query(base), **extra}
    response = client.post("/oid4vp/requests", json=body, headers=verifier)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def path_of(url: str) -> str:
    return urlsplit(url).path


def fetch(client: TestClient, created: dict[str, Any]) -> dict[str, Any]:
    params = parse_authorization_uri(created["authorizationRequest"])
    response = client.get(path_of(params["request_uri"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/oauth-authz-req+jwt")
    return verify_request_object(response.text, params["client_id"], now=int(NOW.timestamp()))


def post(client: TestClient, request: dict[str, Any], form: dict[str, str]) -> Any:
    return client.post(path_of(request["response_uri"]), data=form)


def result(client: TestClient, created: dict[str, Any], verifier: dict[str, str], **q: str) -> Any:
    return client.get(path_of(created["result"]), headers=verifier, params=q)


def answer_form(
    request: dict[str, Any], held: HeldCredential, holder: SigningKey
) -> dict[str, str]:
    return build_response(request, [held], holder, now=int(NOW.timestamp()))


def test_cross_device_round_trip_reports_exactly_the_disclosed_claims(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    assert created["client_id"].startswith("decentralized_identifier:did:key:")
    assert created["authorizationRequest"].startswith("openid4vp://?")
    qr = client.get(path_of(created["qr"]), headers=verifier, params={"format": "svg"})
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    png = client.get(path_of(created["qr"]), headers=verifier, params={"format": "png"})
    assert png.content.startswith(b"\x89PNG")
    assert result(client, created, verifier).json()["status"] == "created"
    request = fetch(client, created)
    assert request["nonce"] == created["nonce"] and request["response_mode"] == "direct_post"
    assert result(client, created, verifier).json()["status"] == "fetched"
    response = post(client, request, answer_form(request, held, holder))
    assert response.status_code == 200, response.text
    assert response.json() == {}
    body = result(client, created, verifier).json()
    assert body["status"] == "answered" and body["verified"] is True
    permit = body["credentials"]["permit"][0]
    assert permit["disclosed"] == ["dateOfBirth", "district"]
    assert permit["claims"] == {"dateOfBirth": "1990-02-03", "district": "Chaoyang"}
    assert permit["vct"].endswith(VCT_SUFFIX)


def test_the_kb_jwt_aud_is_the_full_client_id(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    token = json.loads(answer_form(request, held, holder)["vp_token"])["permit"][0]
    kb = parse_compact(token.rsplit("~", 1)[1]).claims()
    assert kb["aud"] == created["client_id"] and kb["nonce"] == created["nonce"]


def test_post_request_uri_method_carries_the_wallet_nonce(
    client: TestClient, verifier: dict[str, str]
) -> None:
    created = create(client, verifier)
    params = parse_authorization_uri(created["authorizationRequest"])
    assert params["request_uri_method"] == "post"
    response = client.post(path_of(params["request_uri"]), data={"wallet_nonce": "wn-1"})
    assert response.status_code == 200
    claims = verify_request_object(response.text, params["client_id"], now=int(NOW.timestamp()))
    assert claims["wallet_nonce"] == "wn-1"


def test_same_device_redirect_with_a_response_code(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier, redirectUri="https://counter.example/done")
    request = fetch(client, created)
    response = post(client, request, answer_form(request, held, holder))
    assert response.status_code == 200
    redirect = response.json()["redirect_uri"]
    assert redirect.startswith("https://counter.example/done#response_code=")
    code = redirect.partition("response_code=")[2]
    refused = result(client, created, verifier)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("oid4vp-invalid-request")
    assert result(client, created, verifier, response_code="wrong").status_code == 422
    body = result(client, created, verifier, response_code=code).json()
    assert body["verified"] is True


def test_unsigned_request_uses_the_redirect_uri_prefix(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier, signed=False)
    assert created["client_id"].startswith("redirect_uri:")
    assert "request_uri" not in created
    request = unsigned_request(parse_authorization_uri(created["authorizationRequest"]))
    response = post(client, request, answer_form(request, held, holder))
    assert response.status_code == 200, response.text
    assert result(client, created, verifier).json()["verified"] is True


# -- bad input and abuse: the error, and the state unchanged ------------------------------


def status_of(client: TestClient, created: dict[str, Any], verifier: dict[str, str]) -> str:
    body = result(client, created, verifier).json()
    assert "verified" not in body or body["verified"] is not True or body["status"] == "answered"
    return str(body["status"])


def refused(response: Any) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    return str(body["error"])


def test_a_presentation_for_another_requests_nonce_is_refused(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    first, second = create(client, verifier), create(client, verifier)
    request_a, request_b = fetch(client, first), fetch(client, second)
    form = answer_form(request_a, held, holder)
    form["state"] = request_b["state"]
    assert refused(post(client, request_b, form)) == "invalid_request"
    assert status_of(client, second, verifier) == "fetched"


def test_a_replayed_presentation_is_refused(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    form = answer_form(request, held, holder)
    assert post(client, request, form).status_code == 200
    before = result(client, created, verifier).json()
    assert refused(post(client, request, form)) == "invalid_request"
    assert result(client, created, verifier).json() == before


def test_a_response_disclosing_less_than_required_is_refused(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    token = present(
        held.credential,
        ["dateOfBirth"],
        holder_key=holder,
        binding=KeyBinding(request["nonce"], request["client_id"], int(NOW.timestamp())),
    )
    form = {"vp_token": json.dumps({"permit": [token]}), "state": request["state"]}
    assert refused(post(client, request, form)) == "invalid_request"
    assert status_of(client, created, verifier) == "fetched"


def test_a_request_object_fetched_after_use_is_refused(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    assert post(client, request, answer_form(request, held, holder)).status_code == 200
    again = client.get(path_of(created["request_uri"]))
    assert refused(again) == "invalid_request_uri"
    assert status_of(client, created, verifier) == "answered"


def test_a_kb_jwt_for_another_audience_is_refused(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    bare = request["client_id"].removeprefix("decentralized_identifier:")
    form = answer_form({**request, "client_id": bare}, held, holder)
    assert refused(post(client, request, form)) == "invalid_request"
    assert status_of(client, created, verifier) == "fetched"


def test_an_expired_request_is_refused(
    client: TestClient,
    verifier: dict[str, str],
    held: HeldCredential,
    holder: SigningKey,
    clock: FixedClock,
) -> None:
    created = create(client, verifier, expiresIn=60)
    request = fetch(client, created)
    form = answer_form(request, held, holder)
    clock.advance(timedelta(seconds=61))
    assert refused(post(client, request, form)) == "invalid_request"
    assert refused(client.get(path_of(created["request_uri"]))) == "invalid_request_uri"
    assert status_of(client, created, verifier) == "expired"


def test_a_wrong_state_and_garbage_are_refused(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    form = answer_form(request, held, holder)
    assert refused(post(client, request, {**form, "state": "other"})) == "invalid_request"
    assert refused(post(client, request, {**form, "vp_token": "{"})) == "invalid_request"
    assert refused(post(client, request, {"state": request["state"]})) == "invalid_request"
    other = {"vp_token": json.dumps({"unknown": ["x~"]}), "state": request["state"]}
    assert refused(post(client, request, other)) == "invalid_request"
    assert refused(client.post("/oid4vp/responses/nope", data=form)) == "invalid_request"
    assert status_of(client, created, verifier) == "fetched"


def test_the_wallet_may_decline(client: TestClient, verifier: dict[str, str]) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    form = {"error": "access_denied", "state": request["state"]}
    assert post(client, request, form).status_code == 200
    body = result(client, created, verifier).json()
    assert body["verified"] is False and body["error"] == "access_denied"


def test_the_verifier_api_needs_a_verifier_key(
    client: TestClient, verifier: dict[str, str]
) -> None:
    base = "https://identity-service.example"
    anonymous = client.post("/oid4vp/requests", json={"dcql_query": query(base)})
    assert anonymous.status_code == 401
    operator = client.post("/oid4vp/requests", json={"dcql_query": query(base)}, headers=admin())
    assert operator.status_code == 403
    created = create(client, verifier)
    other = client.post("/verifiers", json={"name": "Other"}, headers=admin()).json()["apiKey"]
    stranger = client.get(path_of(created["result"]), headers={"Authorization": f"Bearer {other}"})
    assert stranger.status_code == 404
    assert stranger.json()["type"].endswith("oid4vp-request-not-found")


@pytest.mark.parametrize(
    "dcql_query",
    [
        None,
        {"credentials": []},
        {"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]},
        {"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {}}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {}}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]},
                          "claims": [{"path": []}]}]},
        {"credentials": [{"id": "a", "format": "ldp_vc", "meta": {"type_values": ["x"]}}]},
    ],
)  # fmt: skip
def test_a_bad_dcql_query_is_a_problem(
    client: TestClient, verifier: dict[str, str], dcql_query: Any
) -> None:
    response = client.post("/oid4vp/requests", json={"dcql_query": dcql_query}, headers=verifier)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("oid4vp-invalid-dcql")


def test_the_cli_wallet_answers_from_a_folder(
    client: TestClient,
    verifier: dict[str, str],
    held: HeldCredential,
    holder: SigningKey,
    tmp_path: Any,
    clock: FixedClock,
) -> None:
    import time

    clock.at = datetime.fromtimestamp(int(time.time()), UTC)  # the CLI signs with real time
    (tmp_path / "permit.sd-jwt").write_text(held.credential)
    (tmp_path / "holder.jwk").write_text(json.dumps(holder.private_jwk()))
    created = create(client, verifier)
    assert answer(created["authorizationRequest"], tmp_path, client) == {}
    body = result(client, created, verifier).json()
    assert body["verified"] is True
    assert body["credentials"]["permit"][0]["disclosed"] == ["dateOfBirth", "district"]


def ldp_query() -> dict[str, Any]:
    return {
        "credentials": [
            {
                "id": "permit",
                "format": "ldp_vc",
                "meta": {"type_values": [["VerifiableCredential", "ResidencePermitCredential"]]},
                "claims": [{"path": ["credentialSubject", "fullName"]}],
            }
        ]
    }


def test_a_data_integrity_presentation_with_challenge_and_domain(
    client: TestClient, verifier: dict[str, str]
) -> None:
    from tests.service.test_presentations import _present, _vc

    vc = _vc(client)
    response = client.post("/oid4vp/requests", json={"dcql_query": ldp_query()}, headers=verifier)
    created = response.json()
    request = fetch(client, created)
    wrong_domain = _present([vc], request["nonce"], domain="verifier.example")
    form = {"vp_token": json.dumps({"permit": [wrong_domain]}), "state": request["state"]}
    assert refused(post(client, request, form)) == "invalid_request"
    other_nonce = _present([vc], "another-nonce", domain=request["client_id"])
    form = {"vp_token": json.dumps({"permit": [other_nonce]}), "state": request["state"]}
    assert refused(post(client, request, form)) == "invalid_request"
    assert status_of(client, created, verifier) == "fetched"
    vp = _present([vc], request["nonce"], domain=request["client_id"])
    form = {"vp_token": json.dumps({"permit": [vp]}), "state": request["state"]}
    assert post(client, request, form).status_code == 200
    body = result(client, created, verifier).json()
    assert body["verified"] is True
    assert body["credentials"]["permit"][0]["claims"]["fullName"] == "Li Lei"
