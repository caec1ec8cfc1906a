"""OpenID4VCI 1.0 on the service: offers, metadata, the pre-authorized code flow with a
PIN, nonce, credential (dc+sd-jwt and ldp_vc), deferred issuance, notification, and
every refusal (status, OAuth error code, nothing issued or recorded)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.dids.key import did_from_key
from identity.jose.jws import parse_compact
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.sdjwt.format import split
from identity.wallet_client.issuance import (
    credential_request,
    key_proof,
    parse_offer,
    token_form,
)
from service.wallet_cli import parse_offer_uri
from tests.sdjwt.conftest import counter_random
from tests.service.conftest import NOW, make_issuer, services_of

TYPE = "ResidencePermitCredential"
SD = f"{TYPE}_dc_sd_jwt"
LDP = f"{TYPE}_ldp_vc"
CLAIMS = {
    "fullName": "李雷",
    "dateOfBirth": "1990-02-03",
    "residenceAddress": "Xuhui",
    "permitNumber": "SH2026001",
}
T = int(NOW.timestamp())


@pytest.fixture
def agency(client: TestClient) -> dict[str, Any]:
    return make_issuer(client)


@pytest.fixture
def holder() -> SigningKey:
    return SigningKey.generate_p256(counter_random())


def offer(client: TestClient, agency: dict[str, Any], **body: Any) -> Any:
    return client.post(
        "/oid4vci/offers",
        json={"type": TYPE, "claims": CLAIMS, **body},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )


def created(client: TestClient, agency: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = offer(client, agency, **body)
    assert response.status_code == 201, response.text
    value: dict[str, Any] = response.json()
    return value


def token(client: TestClient, code: str, pin: str | None) -> Any:
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": code}  # fmt: skip
    if pin is not None:
        form["tx_code"] = pin
    return client.post("/oid4vci/token", data=form)


def code_of(made: dict[str, Any]) -> str:
    grant = made["credential_offer"]["grants"][
        "urn:ietf:params:oauth:grant-type:pre-authorized_code"
    ]
    return str(grant["pre-authorized_code"])


def access(client: TestClient, made: dict[str, Any]) -> str:
    response = token(client, code_of(made), made.get("txCode"))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def nonce(client: TestClient) -> str:
    response = client.post("/oid4vci/nonce")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    return str(response.json()["c_nonce"])


def ask(client: TestClient, access_token: str, body: Any) -> Any:
    return client.post(
        "/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access_token}"}
    )


def proof(client: TestClient, key: SigningKey, **changes: Any) -> str:
    args: dict[str, Any] = {
        "audience": services_of(client).settings.public_url.rstrip("/"),
        "nonce": nonce(client),
        "issued_at": T,
    }
    args.update(changes)
    return key_proof(key, **args)


def records(client: TestClient) -> int:
    svc = services_of(client)
    return svc.logs.log.store.entry_count()


def oauth(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


# -- the happy paths -------------------------------------------------------------------


def test_pre_authorized_flow_issues_an_anchored_sd_jwt_vc(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    made = created(client, agency)
    assert len(made["txCode"]) == 6 and made["txCode"].isdigit()
    by_ref = urlsplit(made["offerUri"])
    assert by_ref.scheme == "openid-credential-offer"
    uri = parse_qs(by_ref.query)["credential_offer_uri"][0]
    fetched = client.get(urlsplit(uri).path)
    assert fetched.status_code == 200 and fetched.json() == made["credential_offer"]
    value, _ = parse_offer_uri(made["offerUriByValue"])
    parsed = parse_offer(value)
    assert parsed.configuration_ids == (SD,) and parsed.tx_code == {
        "input_mode": "numeric", "length": 6, "description": parsed.tx_code["description"]
    }  # fmt: skip
    before = records(client)
    answer = client.post("/oid4vci/token", data=token_form(parsed, made["txCode"]))
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    issued = ask(client, body["access_token"], credential_request(SD, proof(client, holder)))
    assert issued.status_code == 200, issued.text
    credential = issued.json()["credentials"][0]["credential"]
    payload = parse_compact(split(credential).issuer_jwt).claims()
    assert payload["vct"].endswith(f"/vct/{TYPE}") and payload["fullName"] == "李雷"
    assert payload["cnf"]["jwk"] == holder.public_jwk.to_dict()
    assert records(client) == before + 1  # anchored like any other issuance
    note = client.post(
        "/oid4vci/notification",
        json={"notification_id": issued.json()["notification_id"], "event": "credential_accepted"},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert note.status_code == 204
    verified = client.post("/credentials/sd-jwt/verify", json={"credential": credential})
    assert verified.status_code == 200 and verified.json()["verified"] is True


def test_ldp_vc_is_issued_to_the_holder_did(client: TestClient, agency: dict[str, Any]) -> None:
    seed = Ed25519PrivateKey.generate(counter_random())
    key = SigningKey.from_ed25519(seed)
    did = did_from_key(seed.public_key())
    made = created(client, agency, formats=["ldp_vc"], cryptosuite="eddsa-rdfc-2022",
                   subject=did)  # fmt: skip
    kid = f"{did}#{did.removeprefix('did:key:')}"
    issued = ask(client, access(client, made), credential_request(LDP, proof(client, key, kid=kid)))
    assert issued.status_code == 200, issued.text
    vc = issued.json()["credentials"][0]["credential"]
    assert vc["credentialSubject"]["id"] == did
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200


def test_metadata_documents(client: TestClient) -> None:
    svc = services_of(client)
    issuer = svc.settings.public_url.rstrip("/")
    meta = client.get("/.well-known/openid-credential-issuer").json()
    assert meta["credential_issuer"] == issuer
    assert meta["nonce_endpoint"] == issuer + "/oid4vci/nonce"
    config = meta["credential_configurations_supported"][SD]
    assert config["format"] == "dc+sd-jwt" and config["vct"] == f"{issuer}/vct/{TYPE}"
    locales = {d["locale"] for d in config["credential_metadata"]["display"]}
    assert {"zh-CN", "en"} <= locales
    ldp = meta["credential_configurations_supported"][LDP]
    assert ldp["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
    oauth_meta = client.get("/.well-known/oauth-authorization-server").json()
    assert oauth_meta["pre-authorized_grant_anonymous_access_supported"] is True
    assert oauth_meta["token_endpoint"] == issuer + "/oid4vci/token"
    assert client.get("/.well-known/openid-credential-issuer/other").status_code == 404


def test_an_issuer_identifier_with_a_path_puts_well_known_after_the_host(tmp_path: Any) -> None:
    from service.app import create_app
    from service.settings import Settings
    from tests.service.conftest import ADMIN

    settings = Settings(data_dir=tmp_path / "d", admin_token=ADMIN, master_secret="ab" * 32,
                        public_url="https://id.example/city")  # fmt: skip
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as c:
        meta = c.get("/.well-known/openid-credential-issuer/city")
        assert meta.status_code == 200
        assert meta.json()["credential_issuer"] == "https://id.example/city"
        assert c.get("/.well-known/openid-credential-issuer").status_code == 404
        assert c.get("/.well-known/oauth-authorization-server/city").status_code == 200


def test_qr_codes_of_an_offer(client: TestClient, agency: dict[str, Any]) -> None:
    made = created(client, agency)
    svg = client.get(urlsplit(made["qr"]["svg"]).path + "?format=svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg")
    png = client.get(urlsplit(made["qr"]["svg"]).path + "?format=png")
    assert png.content.startswith(b"\x89PNG")
    assert client.get(urlsplit(made["qr"]["svg"]).path + "?format=gif").status_code == 422


def test_deferred_issuance_waits_for_the_agency(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    made = created(client, agency, deferred=True)
    bearer = access(client, made)
    before = records(client)
    pending = ask(client, bearer, credential_request(SD, proof(client, holder)))
    assert pending.status_code == 202 and pending.json()["interval"] == 5
    transaction = pending.json()["transaction_id"]
    headers = {"Authorization": f"Bearer {bearer}"}
    poll = client.post("/oid4vci/deferred_credential", json={"transaction_id": transaction},
                       headers=headers)  # fmt: skip
    assert poll.status_code == 202 and records(client) == before
    key = {"Authorization": f"Bearer {agency['apiKey']}"}
    assert client.post(f"/oid4vci/offers/{made['offerId']}/approve", headers=key).status_code == 200
    done = client.post("/oid4vci/deferred_credential", json={"transaction_id": transaction},
                       headers=headers)  # fmt: skip
    assert done.status_code == 200 and done.json()["credentials"][0]["credential"]
    assert records(client) == before + 1
    again = client.post("/oid4vci/deferred_credential", json={"transaction_id": transaction},
                        headers=headers)  # fmt: skip
    oauth(again, 400, "invalid_transaction_id")
    assert records(client) == before + 1


# -- refusals ------------------------------------------------------------------------------


def test_a_code_is_single_use(client: TestClient, agency: dict[str, Any]) -> None:
    made = created(client, agency)
    access(client, made)
    oauth(token(client, code_of(made), made["txCode"]), 400, "invalid_grant")
    assert client.get(f"/oid4vci/offers/{made['offerId']}").status_code == 404


def test_an_expired_code_is_refused(
    client: TestClient, agency: dict[str, Any], clock: FixedClock
) -> None:
    from datetime import timedelta

    made = created(client, agency)
    clock.advance(timedelta(minutes=16))
    oauth(token(client, code_of(made), made["txCode"]), 400, "invalid_grant")


def test_wrong_pins_lock_the_offer_after_the_configured_tries(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = created(client, agency)
    wrong = "000000" if made["txCode"] != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        response = token(client, code_of(made), wrong)
        oauth(response, 400, "invalid_grant")
        stored = client.app.state.oid4vci.store.get_offer(made["offerId"])  # type: ignore[attr-defined]
        assert stored.tries_left == left
    oauth(token(client, code_of(made), made["txCode"]), 400, "invalid_grant")  # locked
    oauth(token(client, code_of(made), None), 400, "invalid_grant")


def test_token_request_errors(client: TestClient, agency: dict[str, Any]) -> None:
    made = created(client, agency)
    oauth(token(client, code_of(made), None), 400, "invalid_request")  # PIN missing
    oauth(token(client, "nope", "123456"), 400, "invalid_grant")
    oauth(client.post("/oid4vci/token", data={"grant_type": "password"}), 400,
          "unsupported_grant_type")  # fmt: skip
    oauth(client.post("/oid4vci/token", json={"grant_type": "x"}), 400, "invalid_request")
    oauth(client.post("/oid4vci/token", data={}), 400, "invalid_request")
    no_pin = created(client, agency, txCode=False)
    assert "txCode" not in no_pin
    oauth(token(client, code_of(no_pin), "123456"), 400, "invalid_request")
    assert token(client, code_of(made), made["txCode"]).status_code == 200  # not spent


@pytest.mark.parametrize(
    "path", ["/oid4vci/credential", "/oid4vci/deferred_credential", "/oid4vci/notification"]
)
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_bad_token_is_refused_before_the_body_is_read(
    client: TestClient, agency: dict[str, Any], path: str, token: str | None
) -> None:
    """RFC 6750 §3.1: a missing or unknown token is 401 ``invalid_token`` whatever the
    body holds; a body that is not JSON does not turn it into a 400."""
    created(client, agency)
    before = records(client)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = client.post(path, content=b"{not json", headers=headers)
    oauth(response, 401, "invalid_token")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert records(client) == before


def test_credential_request_refusals_issue_nothing(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    made = created(client, agency)
    bearer = access(client, made)
    before = records(client)
    cases = [
        (ask(client, "wrong-token", credential_request(SD, proof(client, holder))), 401,
         "invalid_token"),
        (ask(client, bearer, credential_request(LDP, proof(client, holder))), 400,
         "unknown_credential_configuration"),
        (ask(client, bearer, {"proofs": {"jwt": [proof(client, holder)]}}), 400,
         "invalid_credential_request"),
        (ask(client, bearer, {"credential_configuration_id": SD}), 400, "invalid_proof"),
        (ask(client, bearer, credential_request(SD, proof(client, holder, nonce="never-issued"))),
         400, "invalid_nonce"),
        (ask(client, bearer, credential_request(SD, proof(client, holder, audience="https://x"))),
         400, "invalid_proof"),
        (ask(client, bearer, credential_request(SD, proof(client, holder, issued_at=T - 3600))),
         400, "invalid_proof"),
        (ask(client, bearer, {**credential_request(SD, "x"), "proof": {}}), 400,
         "invalid_credential_request"),
        (ask(client, bearer, credential_request(SD, "not-a-jwt")), 400, "invalid_proof"),
    ]  # fmt: skip
    for response, status, error in cases:
        oauth(response, status, error)
    assert cases[0][0].headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert records(client) == before
    stale = nonce(client)
    first = ask(client, bearer, credential_request(SD, proof(client, holder, nonce=stale)))
    assert first.status_code == 200
    oauth(ask(client, bearer, credential_request(SD, proof(client, holder))), 400,
          "credential_request_denied")  # fmt: skip
    assert records(client) == before + 1


def test_a_used_nonce_is_invalid_nonce(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    first, second = created(client, agency), created(client, agency)
    used = nonce(client)
    request = credential_request(SD, proof(client, holder, nonce=used))
    assert ask(client, access(client, first), request).status_code == 200
    before = records(client)
    replay = credential_request(SD, proof(client, holder, nonce=used))
    oauth(ask(client, access(client, second), replay), 400, "invalid_nonce")
    assert records(client) == before


def test_an_offer_to_a_citizen_needs_that_citizens_key(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    seed = Ed25519PrivateKey.generate(counter_random())
    made = created(client, agency, subject=did_from_key(seed.public_key()))
    before = records(client)
    oauth(ask(client, access(client, made), credential_request(SD, proof(client, holder))), 400,
          "invalid_proof")  # fmt: skip
    assert records(client) == before


@pytest.mark.parametrize(
    "body,status",
    [
        ({"type": "NoSuchCredential"}, 422),
        ({"claims": {"fullName": 3}}, 422),
        ({"formats": ["jwt_vc_json"]}, 422),
        ({"cryptosuite": "ecdsa-rdfc-2019"}, 422),
        ({"validUntil": "2020-01-01T00:00:00Z"}, 422),
        ({"subject": "not-a-did"}, 422),
        ({"txCode": "yes"}, 422),
        ({"pin": "123456"}, 422),
        ({"cryptosuite": {}}, 422),
        ({"formats": [{}]}, 422),  # found by the fuzzer: a falsy non-string
    ],
)
def test_bad_offers_are_problems_and_store_nothing(
    client: TestClient, agency: dict[str, Any], body: dict[str, Any], status: int
) -> None:
    vci = client.app.state.oid4vci  # type: ignore[attr-defined]
    response = offer(client, agency, **body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "credential_offer" not in response.json()
    assert vci.store._read("SELECT COUNT(*) FROM oid4vci_offers") == [(0,)]  # nothing stored


def test_offers_need_an_agency_key(client: TestClient) -> None:
    response = client.post("/oid4vci/offers", json={"type": TYPE, "claims": CLAIMS})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_an_unaccredited_agency_cannot_offer(client: TestClient) -> None:
    other = make_issuer(client, "Other bureau", accredit=False)
    response = offer(client, other)
    assert response.status_code == 403


def test_the_pin_is_never_logged(
    client: TestClient, agency: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("DEBUG"):
        made = created(client, agency)
        token(client, code_of(made), made["txCode"])
    text = caplog.text + "".join(str(getattr(r, "fields", "")) for r in caplog.records)
    assert made["txCode"] not in text and code_of(made) not in text
    assert unquote(made["offerUri"]).startswith("openid-credential-offer://")


def test_the_reference_wallet_receives_into_a_folder(
    client: TestClient, agency: dict[str, Any], tmp_path: Any, clock: FixedClock
) -> None:
    import json

    from service.wallet_cli import receive

    made = created(client, agency, formats=["dc+sd-jwt"])
    folder = tmp_path / "wallet"
    written = receive(client, made["offerUri"], made["txCode"], folder, lambda: T)
    assert len(written) == 1
    kept = json.loads(written[0].read_text())
    assert kept["format"] == "dc+sd-jwt" and kept["configuration_id"] == SD
    assert (folder / "holder-key.jwk").stat().st_mode & 0o777 == 0o600
    again = created(client, agency)  # by value this time, a second credential
    assert len(receive(client, again["offerUriByValue"], again["txCode"], folder, lambda: T)) == 1
    assert len(list(folder.glob("*.json"))) == 2


def test_a_refused_issuance_is_credential_request_denied_and_can_be_retried(
    client: TestClient, agency: dict[str, Any], holder: SigningKey, monkeypatch: Any
) -> None:
    from identity.errors import PermissionDeniedError

    svc = services_of(client)
    made = created(client, agency)
    bearer = access(client, made)
    before = records(client)

    async def refuse(*_: Any) -> Any:
        raise PermissionDeniedError("agency is not accredited to issue it")

    with monkeypatch.context() as patched:
        patched.setattr(svc.issuance.sdjwt, "issue", refuse)
        refused = ask(client, bearer, credential_request(SD, proof(client, holder)))
    oauth(refused, 400, "credential_request_denied")
    assert records(client) == before
    retried = ask(client, bearer, credential_request(SD, proof(client, holder)))
    assert retried.status_code == 200, retried.text  # the configuration was given back
    assert records(client) == before + 1
