"""POST /challenges and /presentations/verify: holder proof, challenge, domain, replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.credentials.presentations import sign_presentation
from identity.errors import VC_DI, VC_DM, InvalidChallengeError
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.stores import presentation_purpose
from tests.service.conftest import NOW, credential_for, issue, make_issuer, services_of

ANONYMOUS_PURPOSE = presentation_purpose("anonymous")

HOLDER = Ed25519PrivateKey(b"\x09" * 32)
HOLDER_DID = "did:key:" + HOLDER.public_key().multibase
HOLDER_VM = f"{HOLDER_DID}#{HOLDER_DID[8:]}"


def _vc(client: TestClient) -> dict[str, Any]:
    agency = make_issuer(client)
    cred = credential_for(agency["did"])
    cred["credentialSubject"]["id"] = HOLDER_DID
    vc: dict[str, Any] = issue(client, agency, cred).json()["verifiableCredential"]
    return vc


def _challenge(client: TestClient) -> str:
    response = client.post("/challenges")
    assert response.status_code == 201
    value: str = response.json()["challenge"]
    return value


def _present(
    vcs: list[dict[str, Any]],
    challenge: str,
    domain: str | None = "verifier.example",
    key: Ed25519PrivateKey = HOLDER,
) -> dict[str, Any]:
    return sign_presentation(
        vcs,
        holder_key=key,
        holder_did=HOLDER_DID,
        verification_method=HOLDER_VM,
        challenge=challenge,
        domain=domain,
        suite=EddsaJcs2022(),
        created=NOW,
    )


def _verify(
    client: TestClient, vp: Any, challenge: str, domain: str | None = "verifier.example"
) -> Any:
    options = {"challenge": challenge} | ({"domain": domain} if domain else {})
    return client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": options}
    )


def test_a_presentation_with_the_expected_challenge_and_domain_verifies(client: TestClient) -> None:
    challenge = _challenge(client)
    response = _verify(client, _present([_vc(client)], challenge), challenge)
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    assert response.json()["holder"] == HOLDER_DID
    assert response.json()["credentials"] == 1


def test_a_replayed_presentation_is_refused(client: TestClient) -> None:
    challenge = _challenge(client)
    vp = _present([_vc(client)], challenge)
    assert _verify(client, vp, challenge).status_code == 200
    again = _verify(client, vp, challenge)
    assert again.status_code == 422
    assert again.json()["type"] == VC_DI + "INVALID_CHALLENGE_ERROR"


def test_a_wrong_challenge_is_invalid_challenge_error(client: TestClient) -> None:
    challenge = _challenge(client)
    other = _challenge(client)
    response = _verify(client, _present([_vc(client)], challenge), other)
    assert response.status_code == 422
    assert response.json()["type"] == VC_DI + "INVALID_CHALLENGE_ERROR"
    # The expected challenge was not used up by the failed attempt.
    assert _verify(client, _present([_vc(client)], other), other).status_code == 200


def test_a_challenge_not_issued_here_is_refused(client: TestClient) -> None:
    response = _verify(client, _present([_vc(client)], "made-up"), "made-up")
    assert response.status_code == 422
    assert response.json()["type"] == VC_DI + "INVALID_CHALLENGE_ERROR"


def test_an_expired_challenge_is_refused(client: TestClient, clock: FixedClock) -> None:
    challenge = _challenge(client)
    vp = _present([_vc(client)], challenge)
    clock.advance(timedelta(minutes=6))
    response = _verify(client, vp, challenge)
    assert response.status_code == 422
    assert response.json()["type"] == VC_DI + "INVALID_CHALLENGE_ERROR"
    assert "expired" in response.json()["detail"]


def test_a_missing_challenge_option_is_malformed(client: TestClient) -> None:
    vp = _present([_vc(client)], "x")
    response = client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": {}}
    )
    assert response.status_code == 422
    assert response.json()["type"] == VC_DM + "MALFORMED_VALUE_ERROR"


def test_a_wrong_domain_is_invalid_domain_error(client: TestClient) -> None:
    challenge = _challenge(client)
    response = _verify(client, _present([_vc(client)], challenge), challenge, domain="evil.example")
    assert response.status_code == 422
    assert response.json()["type"] == VC_DI + "INVALID_DOMAIN_ERROR"


def test_a_presentation_signed_by_someone_else_than_the_holder_fails(client: TestClient) -> None:
    challenge = _challenge(client)
    vp = _present([_vc(client)], challenge, key=Ed25519PrivateKey(b"\x0a" * 32))
    response = _verify(client, vp, challenge)
    assert response.status_code == 422
    assert response.json()["results"]["holderProof"]["valid"] is False


def test_the_answer_names_which_credential_failed_which_check(client: TestClient) -> None:
    challenge = _challenge(client)
    good, bad = _vc(client), _vc(client)
    bad["credentialSubject"]["residenceAddress"] = "Elsewhere"
    response = _verify(client, _present([good, bad], challenge), challenge)
    assert response.status_code == 422
    body = response.json()
    assert list(body["credentialResults"]) == ["1"]
    assert [r["check"] for r in body["credentialResults"]["1"]] == ["proof"]


@pytest.mark.parametrize("vp", [{"type": ["VerifiablePresentation"]}, {"@context": 4}, "x"])
def test_malformed_presentations_are_problems_and_use_no_challenge(
    client: TestClient, vp: Any
) -> None:
    challenge = _challenge(client)
    response = _verify(client, vp, challenge)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"
    services_of(client).store.consume_challenge(challenge, ANONYMOUS_PURPOSE, NOW)  # unused


def test_caller_owned_challenges_are_accepted_only_when_configured(tmp_path: Any) -> None:
    from identity.clock import FixedClock
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(
        data_dir=tmp_path,
        admin_token="a" * 40,
        master_secret="ab" * 32,
        accept_caller_challenges=True,
        allow_unregistered_types=True,
    )
    with TestClient(create_app(settings, clock=FixedClock(NOW))) as client:
        vp = _present([], "the-callers-own-challenge")
        assert _verify(client, vp, "the-callers-own-challenge").status_code == 200
        issued = _challenge(client)
        vp = _present([], issued)
        assert _verify(client, vp, issued).status_code == 200
        again = _verify(client, vp, issued)  # a consumed service challenge is "unknown" now
        assert again.status_code == 200  # ... so with this setting the caller owns replay


def test_unused_challenges_are_purged_as_new_ones_are_made(
    client: TestClient, clock: FixedClock
) -> None:
    old = client.post("/challenges").json()["challenge"]
    clock.advance(timedelta(hours=1))
    client.post("/challenges")  # more than ten minutes later: a purge runs
    store = services_of(client).store
    with pytest.raises(InvalidChallengeError) as caught:
        store.consume_challenge(old, ANONYMOUS_PURPOSE, clock.now() - timedelta(hours=1))
    assert caught.value.data["reason"] == "unknown"  # forgotten, not merely expired
