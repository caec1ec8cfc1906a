"""The authorization code flow of OpenID4VCI 1.0 §5 with PKCE: an offer with
``issuer_state``, the Authorization Request, the citizen's DID sign-in (page and wallet),
the redirect with ``code``/``state``/``iss``, the code-for-token exchange, the credential;
and every refusal (status, error code, nothing issued, offer and request unchanged)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.credentials.presentations import sign_presentation
from identity.dids.key import did_from_key
from identity.encoding import b64url
from identity.jose.keys import SigningKey
from identity.keys import Ed25519PrivateKey
from identity.oid4vci.authorization import s256
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.wallet_client.issuance import credential_request, key_proof
from tests.service.conftest import NOW, make_issuer, services_of
from tests.service.test_oid4vci_api import CLAIMS, LDP, SD, TYPE, T, oauth, records

CITIZEN = Ed25519PrivateKey(b"\x18" * 32)
DID = did_from_key(CITIZEN.public_key())
KID = f"{DID}#{DID.removeprefix('did:key:')}"
VERIFIER = "v" * 43
REDIRECT = "http://127.0.0.1:9123/callback"
AUTHORIZATION_CODE = "authorization_code"


@pytest.fixture
def agency(client: TestClient) -> dict[str, Any]:
    return make_issuer(client)


def offered(client: TestClient, agency: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = client.post(
        "/oid4vci/offers",
        json={"type": TYPE, "claims": CLAIMS, "subject": DID,
              "grants": [AUTHORIZATION_CODE], **body},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def params(made: dict[str, Any], **changes: str | None) -> dict[str, str]:
    grant = made["credential_offer"]["grants"][AUTHORIZATION_CODE]
    base: dict[str, str | None] = {
        "response_type": "code", "client_id": "wallet-1", "redirect_uri": REDIRECT,
        "code_challenge": s256(VERIFIER), "code_challenge_method": "S256",
        "issuer_state": grant["issuer_state"], "scope": TYPE, "state": "st-1",
    }  # fmt: skip
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def authorize(client: TestClient, query: dict[str, str], html: bool = False) -> Any:
    accept = "text/html" if html else "application/json"
    return client.get("/oid4vci/authorize?" + urlencode(query), headers={"Accept": accept},
                      follow_redirects=False)  # fmt: skip


def presentation(
    client: TestClient, challenge: str, key: Ed25519PrivateKey = CITIZEN, **changes: Any
) -> dict[str, Any]:
    did = did_from_key(key.public_key())
    domain = urlsplit(services_of(client).settings.public_url).netloc
    args: dict[str, Any] = {"challenge": challenge, "domain": domain, "created": NOW}
    args.update(changes)
    return sign_presentation([], holder_key=key, holder_did=did, suite=EddsaJcs2022(),
                             verification_method=f"{did}#{did[8:]}", **args)  # fmt: skip


def sign_in(client: TestClient, started: dict[str, Any], vp: Any, html: bool = False) -> Any:
    return client.post(
        urlsplit(started["sign_in_uri"]).path,
        data={"presentation": json.dumps(vp)},
        headers={"Accept": "text/html" if html else "*/*"},
        follow_redirects=False,
    )


def answer_of(response: Any) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_for(client: TestClient, made: dict[str, Any], **changes: str | None) -> dict[str, str]:
    started = authorize(client, params(made, **changes))
    assert started.status_code == 200, started.text
    return answer_of(
        sign_in(client, started.json(), presentation(client, started.json()["challenge"]))
    )


def exchange(client: TestClient, code: str, **changes: str | None) -> Any:
    form: dict[str, str | None] = {"grant_type": AUTHORIZATION_CODE, "code": code,
                                   "redirect_uri": REDIRECT, "client_id": "wallet-1",
                                   "code_verifier": VERIFIER}  # fmt: skip
    form.update(changes)
    return client.post("/oid4vci/token", data={k: v for k, v in form.items() if v is not None})


def stored_offer(client: TestClient, made: dict[str, Any]) -> Any:
    return client.app.state.oid4vci.store.get_offer(made["offerId"])  # type: ignore[attr-defined]


def ask(client: TestClient, bearer: str, body: Any) -> Any:
    return client.post("/oid4vci/credential", json=body,
                       headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip


def citizen_proof(client: TestClient) -> str:
    nonce = client.post("/oid4vci/nonce").json()["c_nonce"]
    audience = services_of(client).settings.public_url.rstrip("/")
    return key_proof(SigningKey.from_ed25519(CITIZEN), audience=audience, nonce=nonce,
                     issued_at=T, kid=KID)  # fmt: skip


# -- the flow ---------------------------------------------------------------------------


def test_metadata_announces_the_authorization_code_flow(client: TestClient) -> None:
    meta = client.get("/.well-known/oauth-authorization-server").json()
    issuer = services_of(client).settings.public_url.rstrip("/")
    assert meta["authorization_endpoint"] == issuer + "/oid4vci/authorize"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in meta["grant_types_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert TYPE in meta["scopes_supported"]
    vci = client.get("/.well-known/openid-credential-issuer").json()
    assert vci["authorization_servers"] == [meta["issuer"]]


def test_an_offer_carries_issuer_state_and_no_pin_without_a_pre_authorized_code(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    grants = made["credential_offer"]["grants"]
    assert list(grants) == [AUTHORIZATION_CODE] and grants[AUTHORIZATION_CODE]["issuer_state"]
    assert "txCode" not in made
    both = offered(client, agency, grants=["pre-authorized_code", AUTHORIZATION_CODE])
    assert set(both["credential_offer"]["grants"]) == {
        AUTHORIZATION_CODE, "urn:ietf:params:oauth:grant-type:pre-authorized_code"
    } and both["txCode"]  # fmt: skip


def test_the_citizen_signs_in_and_the_wallet_gets_a_credential(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency, formats=["dc+sd-jwt", "ldp_vc"])
    started = authorize(client, params(made, scope=f"{TYPE} {TYPE}_ldp"))
    assert started.status_code == 200 and started.headers["cache-control"] == "no-store"
    body = started.json()
    assert body["domain"] == "localhost:8000" and body["credential_configuration_ids"] == [SD, LDP]
    answer = answer_of(sign_in(client, body, presentation(client, body["challenge"])))
    issuer = services_of(client).settings.public_url.rstrip("/")
    assert answer["state"] == "st-1" and answer["iss"] == issuer and answer["code"]
    store = client.app.state.oid4vci.store  # type: ignore[attr-defined]
    assert store.authorization_by_code(answer["code"]) is None  # only its digest is stored
    token = exchange(client, answer["code"])
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    bearer = token.json()["access_token"]
    assert "authorization_details" not in token.json()  # asked by scope
    assert stored_offer(client, made).authorized["did"] == DID
    before = records(client)
    for config in (SD, LDP):
        issued = ask(client, bearer, credential_request(config, citizen_proof(client)))
        assert issued.status_code == 200, issued.text
    assert records(client) == before + 2  # each anchored like any other
    oauth(exchange(client, answer["code"]), 400, "invalid_grant")  # single-use
    assert client.get(f"/oid4vci/offers/{made['offerId']}").status_code == 404


def test_authorization_details_are_answered_with_credential_identifiers(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency, formats=["dc+sd-jwt", "ldp_vc"])
    details = json.dumps([{"type": "openid_credential", "credential_configuration_id": SD}])
    answer = code_for(client, made, scope=None, authorization_details=details)
    token = exchange(client, answer["code"]).json()
    assert token["authorization_details"] == [
        {"type": "openid_credential", "credential_configuration_id": SD,
         "credential_identifiers": [SD]}
    ]  # fmt: skip
    bearer, before = token["access_token"], records(client)
    oauth(
        ask(client, bearer, credential_request(SD, citizen_proof(client))),
        400,
        "invalid_credential_request",
    )  # the identifier must be used (OID4VCI §8.2)
    other = {"credential_identifier": LDP, "proofs": {"jwt": [citizen_proof(client)]}}
    oauth(ask(client, bearer, other), 400, "unknown_credential_identifier")  # not authorized
    assert records(client) == before
    named = {"credential_identifier": SD, "proofs": {"jwt": [citizen_proof(client)]}}
    assert ask(client, bearer, named).status_code == 200
    assert records(client) == before + 1


def test_a_wallet_asking_for_json_gets_the_answer_as_json(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    started = authorize(client, params(made)).json()
    vp = presentation(client, started["challenge"])
    path = urlsplit(started["sign_in_uri"]).path
    answer = client.post(path, data={"presentation": json.dumps(vp)},
                         headers={"Accept": "application/json"})  # fmt: skip
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    query = parse_qs(urlsplit(answer.json()["redirect_to"]).query)
    assert exchange(client, query["code"][0]).status_code == 200


def test_the_sign_in_page_is_served_in_both_languages(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    page = authorize(client, params(made), html=True)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "form-action 'self' http://127.0.0.1:9123" in page.headers["content-security-policy"]
    assert DID in page.text and "wallet-1" in page.text and 'name="presentation"' in page.text
    chinese = authorize(client, {**params(made), "lang": "zh-CN"}, html=True)
    assert "登录以领取凭证" in chinese.text


# -- refusals -----------------------------------------------------------------------------


def test_a_code_is_single_use_short_lived_and_pkce_bound(
    client: TestClient, agency: dict[str, Any], clock: FixedClock
) -> None:
    made = offered(client, agency)
    answer = code_for(client, made)
    before, offer = records(client), stored_offer(client, made)
    cases = [
        (exchange(client, answer["code"], code_verifier="w" * 43), "invalid_grant"),
        (exchange(client, answer["code"], redirect_uri=REDIRECT + "x"), "invalid_grant"),
        (exchange(client, answer["code"], client_id="wallet-2"), "invalid_grant"),
        (exchange(client, answer["code"], code_verifier="short"), "invalid_request"),
        (exchange(client, answer["code"], code_verifier=None), "invalid_request"),
        (exchange(client, answer["code"], redirect_uri=None), "invalid_request"),
        (exchange(client, "nope"), "invalid_grant"),
    ]
    for response, error in cases:
        oauth(response, 400, error)
    assert stored_offer(client, made) == offer and records(client) == before  # unchanged
    clock.advance(timedelta(seconds=61))  # IDENTITY_OID4VCI_AUTH_CODE_SECONDS: 60
    oauth(exchange(client, answer["code"]), 400, "invalid_grant")
    assert stored_offer(client, made) == offer


def test_the_pre_authorized_code_of_an_authorization_code_offer_does_not_exist(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    vci = client.app.state.oid4vci  # type: ignore[attr-defined]
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": vci.code_of(made["offerId"])}  # fmt: skip
    oauth(client.post("/oid4vci/token", data=form), 400, "invalid_grant")


def test_once_one_grant_is_redeemed_the_other_is_refused(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency, grants=["pre-authorized_code", AUTHORIZATION_CODE])
    answer = code_for(client, made)
    pre_authorized = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
    pre = made["credential_offer"]["grants"][pre_authorized]
    form = {
        "grant_type": pre_authorized,
        "pre-authorized_code": pre["pre-authorized_code"],
        "tx_code": made["txCode"],
    }
    assert client.post("/oid4vci/token", data=form).status_code == 200
    oauth(exchange(client, answer["code"]), 400, "invalid_grant")


@pytest.mark.parametrize(
    "changes,error",
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"issuer_state": "unknown"}, "invalid_request"),
        ({"scope": "NoSuchCredential"}, "invalid_scope"),
        ({"scope": None}, "invalid_request"),
        ({"scope": None, "authorization_details": "[{\"type\": \"x\"}]"},
         "invalid_authorization_details"),
        ({"scope": None, "authorization_details": "not json"}, "invalid_authorization_details"),
        ({"resource": "https://elsewhere.example"}, "invalid_target"),
    ],
)  # fmt: skip
def test_bad_authorization_requests_are_redirected_errors(
    client: TestClient, agency: dict[str, Any], changes: dict[str, str | None], error: str
) -> None:
    made = offered(client, agency)
    store = client.app.state.oid4vci.store  # type: ignore[attr-defined]
    before = store._read("SELECT COUNT(*) FROM oid4vci_authorizations")
    answer = answer_of(authorize(client, params(made, **changes)))
    assert answer["error"] == error and answer["state"] == "st-1" and answer["iss"]
    assert "code" not in answer
    assert store._read("SELECT COUNT(*) FROM oid4vci_authorizations") == before


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": None},
        {"redirect_uri": None},
        {"redirect_uri": "https://attacker.example/cb"},  # not registered
        {"redirect_uri": REDIRECT + "#fragment"},
        {"redirect_uri": "javascript:alert(1)"},
        {"redirect_uri": "http://x;script-src *@127.0.0.1/cb"},  # no CSP injection
        {"redirect_uri": "http://evil.example@127.0.0.1/cb"},  # no userinfo
    ],
)
def test_an_unusable_client_or_redirect_uri_is_shown_never_redirected(
    client: TestClient, agency: dict[str, Any], changes: dict[str, str | None]
) -> None:
    made = offered(client, agency, grants=[AUTHORIZATION_CODE])
    shown = authorize(client, params(made, **changes, response_type="token"))
    assert shown.status_code == 400 and "location" not in shown.headers
    assert shown.headers["content-type"] == "application/problem+json"
    assert shown.json()["error"] == "invalid_request"
    page = authorize(client, params(made, **changes), html=True)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert 'id="authorize-error"' in page.text


def test_a_repeated_parameter_is_shown(client: TestClient, agency: dict[str, Any]) -> None:
    made = offered(client, agency)
    query = urlencode(params(made)) + "&state=again"
    shown = client.get("/oid4vci/authorize?" + query, follow_redirects=False)
    assert shown.status_code == 400 and shown.json()["error"] == "invalid_request"


def test_another_did_signing_in_is_access_denied(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    started = authorize(client, params(made)).json()
    intruder = Ed25519PrivateKey(b"\x19" * 32)
    answer = answer_of(
        sign_in(client, started, presentation(client, started["challenge"], intruder))
    )
    assert answer["error"] == "access_denied" and "code" not in answer
    assert stored_offer(client, made).state == "offered"  # the offer is untouched
    again = sign_in(client, started, presentation(client, started["challenge"]))
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"  # spent


def test_sign_ins_that_do_not_verify_change_nothing(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    started = authorize(client, params(made)).json()
    login = client.post("/auth/challenge").json()["challenge"]  # another purpose
    cases = [
        (presentation(client, started["challenge"], domain="elsewhere.example"), 422),
        (presentation(client, login), 422),
        (presentation(client, "never-issued"), 422),
        ({"holder": DID}, 422),
    ]
    for vp, status in cases:
        response = sign_in(client, started, vp)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
    tampered = presentation(client, started["challenge"])
    tampered["holder"] = did_from_key(Ed25519PrivateKey(b"\x20" * 32).public_key())
    assert sign_in(client, started, tampered).status_code == 422
    page = sign_in(client, started, {"holder": DID}, html=True)
    assert page.status_code == 422 and 'id="authorize-error"' in page.text
    wrong_media = client.post(urlsplit(started["sign_in_uri"]).path, json={"presentation": "{}"},
                              follow_redirects=False)  # fmt: skip
    assert wrong_media.status_code == 400
    auth = client.app.state.oid4vci.store.get_authorization(started["request_id"])  # type: ignore[attr-defined]
    assert auth.status == "pending" and auth.version == 0  # nothing changed
    assert client.post("/auth/token", json={"verifiablePresentation": presentation(
        client, login)}).status_code == 200  # the login challenge was not spent  # fmt: skip
    answer_of(sign_in(client, started, presentation(client, started["challenge"])))  # still open


def test_a_sign_in_after_the_request_expired_is_refused(
    client: TestClient, agency: dict[str, Any], clock: FixedClock
) -> None:
    made = offered(client, agency)
    started = authorize(client, params(made)).json()
    clock.advance(timedelta(minutes=6))
    vp = presentation(client, started["challenge"], created=clock.now())
    response = sign_in(client, started, vp)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "body",
    [
        {"grants": ["authorization_code"], "subject": None},
        {"grants": []},
        {"grants": ["implicit"]},
        {"grants": "authorization_code"},
    ],
)
def test_bad_grants_are_problems(
    client: TestClient, agency: dict[str, Any], body: dict[str, Any]
) -> None:
    payload = {"type": TYPE, "claims": CLAIMS, "subject": DID, **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = client.post("/oid4vci/offers", json=payload,
                           headers={"Authorization": f"Bearer {agency['apiKey']}"})  # fmt: skip
    assert response.status_code == 422 and response.headers["content-type"] == (
        "application/problem+json"
    )
    vci = client.app.state.oid4vci  # type: ignore[attr-defined]
    assert vci.store._read("SELECT COUNT(*) FROM oid4vci_offers") == [(0,)]


def test_codes_and_verifiers_are_never_logged(
    client: TestClient, agency: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    made = offered(client, agency)
    with caplog.at_level("DEBUG"):
        answer = code_for(client, made)
        exchange(client, answer["code"])
    text = caplog.text + "".join(str(getattr(r, "fields", "")) for r in caplog.records)
    assert answer["code"] not in text and VERIFIER not in text
    assert b64url(b"x")  # (the encoder the wallet uses for its verifier)


def test_the_reference_wallet_signs_in_with_its_did_key(
    client: TestClient, agency: dict[str, Any], tmp_path: Any
) -> None:
    from service.wallet_authorize import did_key
    from service.wallet_cli import receive

    folder = tmp_path / "wallet"
    _, did = did_key(folder)
    assert (folder / "did-key.json").stat().st_mode & 0o777 == 0o600
    made = offered(client, agency, subject=did, formats=["dc+sd-jwt", "ldp_vc"])
    before = records(client)
    written = receive(client, made["offerUri"], None, folder, lambda: T)
    assert len(written) == 2 and records(client) == before + 2
    kept = [json.loads(p.read_text()) for p in written]
    ldp = next(k for k in kept if k["format"] == "ldp_vc")
    assert ldp["credential"]["credentialSubject"]["id"] == did
    assert stored_offer(client, made).authorized["did"] == did
    other = offered(client, agency)  # for another citizen: access_denied, nothing issued
    with pytest.raises(Exception, match="access_denied"):
        receive(client, other["offerUri"], None, folder, lambda: T)
    assert records(client) == before + 2 and stored_offer(client, other).state == "offered"


# -- Pushed Authorization Requests (RFC 9126) ------------------------------------------------


def test_a_pushed_request_is_opened_once_by_its_client(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    meta = client.get("/.well-known/oauth-authorization-server").json()
    assert meta["pushed_authorization_request_endpoint"].endswith("/oid4vci/par")
    pushed = client.post("/oid4vci/par", data=params(made))
    assert pushed.status_code == 201 and pushed.headers["cache-control"] == "no-store"
    uri = pushed.json()["request_uri"]
    assert uri.startswith("urn:ietf:params:oauth:request_uri:") and pushed.json()["expires_in"] > 0
    oauth_refused = authorize(client, {"client_id": "wallet-2", "request_uri": uri})
    assert oauth_refused.status_code == 400  # another client: shown, never redirected
    started = authorize(client, {"client_id": "wallet-1", "request_uri": uri})
    assert started.status_code == 200, started.text
    body = started.json()
    answer = answer_of(sign_in(client, body, presentation(client, body["challenge"])))
    assert answer["state"] == "st-1"
    assert exchange(client, answer["code"]).status_code == 200
    again = authorize(client, {"client_id": "wallet-1", "request_uri": uri})
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"  # one-time


@pytest.mark.parametrize(
    "changes,error",
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"redirect_uri": "https://attacker.example/cb"}, "invalid_request"),
        ({"client_id": None}, "invalid_request"),
        ({"scope": "NoSuchCredential"}, "invalid_scope"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
    ],
)
def test_bad_pushed_requests_are_oauth_errors_and_store_nothing(
    client: TestClient, agency: dict[str, Any], changes: dict[str, str | None], error: str
) -> None:
    made = offered(client, agency)
    store = client.app.state.oid4vci.store  # type: ignore[attr-defined]
    oauth(client.post("/oid4vci/par", data=params(made, **changes)), 400, error)
    assert store._read("SELECT COUNT(*) FROM oid4vci_authorizations") == [(0,)]
    oauth(client.post("/oid4vci/par", json=params(made)), 400, "invalid_request")
    unknown = authorize(client, {"client_id": "wallet-1", "request_uri": "urn:x"})
    assert unknown.status_code == 400 and "location" not in unknown.headers


def test_of_two_racing_exchanges_of_one_code_exactly_one_gets_a_token(
    client: TestClient, agency: dict[str, Any]
) -> None:
    from identity.oid4vci.errors import InvalidGrant
    from service.oid4vci_authorize import code_token
    from tests.storage.races import winners

    made = offered(client, agency)
    answer = code_for(client, made)
    vci = client.app.state.oid4vci  # type: ignore[attr-defined]
    form = {"grant_type": AUTHORIZATION_CODE, "code": answer["code"], "redirect_uri": REDIRECT,
            "client_id": "wallet-1", "code_verifier": VERIFIER}  # fmt: skip

    def attempt(_: int) -> bool:
        try:
            code_token(vci, form)
        except InvalidGrant:
            return False
        return True

    assert len(winners(4, attempt)) == 1
    assert stored_offer(client, made).state == "redeemed"


def test_a_replayed_code_revokes_the_token_issued_from_it(
    client: TestClient, agency: dict[str, Any]
) -> None:
    """RFC 6749 §4.1.2 / RFC 9700 §4.2.4: the second presentation of a code is refused
    and the access token already issued from it no longer gets a credential."""
    made = offered(client, agency, formats=["dc+sd-jwt", "ldp_vc"])
    answer = code_for(client, made, scope=f"{TYPE} {TYPE}_ldp")
    bearer = exchange(client, answer["code"]).json()["access_token"]
    issued = ask(client, bearer, credential_request(SD, citizen_proof(client)))
    assert issued.status_code == 200, issued.text
    before, offer = records(client), stored_offer(client, made)
    oauth(exchange(client, answer["code"], code_verifier="w" * 43), 400, "invalid_grant")
    refused = ask(client, bearer, credential_request(LDP, citizen_proof(client)))
    oauth(refused, 401, "invalid_token")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    notified = client.post("/oid4vci/notification", headers={"Authorization": f"Bearer {bearer}"},
                           json={"notification_id": issued.json()["notification_id"],
                                 "event": "credential_accepted"})  # fmt: skip
    oauth(notified, 401, "invalid_token")
    oauth(exchange(client, answer["code"]), 400, "invalid_grant")  # still refused
    assert records(client) == before  # nothing issued
    assert stored_offer(client, made) == offer  # the offer untouched: LDP never issued


def test_a_replay_before_the_first_credential_leaves_nothing_issued(
    client: TestClient, agency: dict[str, Any]
) -> None:
    made = offered(client, agency)
    answer = code_for(client, made)
    bearer = exchange(client, answer["code"]).json()["access_token"]
    before, offer = records(client), stored_offer(client, made)
    oauth(exchange(client, answer["code"]), 400, "invalid_grant")
    oauth(ask(client, bearer, credential_request(SD, citizen_proof(client))), 401, "invalid_token")
    assert records(client) == before and stored_offer(client, made) == offer
    assert offer.issued == () and offer.state == "redeemed"


def test_of_racing_exchanges_one_token_is_issued_and_a_later_replay_revokes_it(
    client: TestClient, agency: dict[str, Any]
) -> None:
    from identity.oid4vci.errors import InvalidGrant
    from service.oid4vci_authorize import code_token
    from tests.storage.races import winners

    made = offered(client, agency, formats=["dc+sd-jwt", "ldp_vc"])
    answer = code_for(client, made, scope=f"{TYPE} {TYPE}_ldp")
    vci = client.app.state.oid4vci  # type: ignore[attr-defined]
    form = {"grant_type": AUTHORIZATION_CODE, "code": answer["code"], "redirect_uri": REDIRECT,
            "client_id": "wallet-1", "code_verifier": VERIFIER}  # fmt: skip
    tokens: list[str] = []

    def attempt(_: int) -> bool:
        try:
            tokens.append(code_token(vci, form)["access_token"])
        except InvalidGrant:
            return False
        return True

    assert len(winners(4, attempt)) == 1 and len(tokens) == 1  # exactly one token
    # (a racer that read the code already redeemed was itself a replay and may have
    # revoked it; one that lost the compare-and-set revoked nothing)
    before, offer = records(client), stored_offer(client, made)
    oauth(exchange(client, answer["code"]), 400, "invalid_grant")  # replayed later
    for config in (SD, LDP):
        oauth(ask(client, tokens[0], credential_request(config, citizen_proof(client))), 401,
              "invalid_token")  # fmt: skip
    assert records(client) == before and stored_offer(client, made) == offer
