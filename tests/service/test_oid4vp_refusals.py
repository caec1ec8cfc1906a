"""Refused OpenID4VP responses are kept on the open request (issue #18): the verifier's
result shows each refusal with the §8.5 error code and the failed check -- what the wallet
was told, never the token or a claim -- nothing is ever recorded as verified by one, the
request stays open (status, nonce, single use unchanged) and a correct answer still wins;
a replay of an answered request is refused and kept nowhere; a flood keeps the bound."""

# ruff: noqa: F811 (the fixtures of test_oid4vp_api, imported, are parameters here)
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.jose.keys import SigningKey
from identity.oid4vp.requests import KEEP_REFUSALS
from identity.sdjwt.holder import KeyBinding, present
from identity.wallet_client.presentation import HeldCredential
from tests.service.conftest import NOW
from tests.service.test_oid4vp_api import (  # noqa: F401 (fixtures)
    answer_form,
    create,
    fetch,
    held,
    holder,
    path_of,
    post,
    refused,
    result,
    verifier,
)

PROBLEMS = "https://identity-service.example/problems/"


def shown(client: TestClient, created: dict[str, Any], verifier: dict[str, str]) -> Any:
    response = result(client, created, verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "verified" not in body and "credentials" not in body  # never an answer
    assert body["status"] == "fetched"
    return body


def test_each_refusal_kind_is_shown_with_its_code_and_check(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created, other = create(client, verifier), create(client, verifier)
    request, other_request = fetch(client, created), fetch(client, other)
    good = answer_form(request, held, holder)
    less = present(
        held.credential,
        ["dateOfBirth"],
        holder_key=holder,
        binding=KeyBinding(request["nonce"], request["client_id"], int(NOW.timestamp())),
    )
    bare = request["client_id"].removeprefix("decentralized_identifier:")
    kinds: list[tuple[dict[str, str], str, str]] = [
        ({**good, "state": "other"}, "oid4vp-invalid-request", "state"),
        ({**good, "vp_token": "{"}, "oid4vp-invalid-request", "vp_token"),
        ({"state": request["state"]}, "oid4vp-invalid-request", "vp_token"),
        (  # another request's nonce (its whole answer, posted here)
            {**answer_form(other_request, held, holder), "state": request["state"]},
            "oid4vp-presentation-rejected",
            "",
        ),
        (  # discloses less than the query requires
            {"vp_token": json.dumps({"permit": [less]}), "state": request["state"]},
            "oid4vp-presentation-rejected",
            "",
        ),
        (  # a Key Binding JWT for another audience
            answer_form({**request, "client_id": bare}, held, holder),
            "oid4vp-presentation-rejected",
            "",
        ),
        (  # a bad signature: the last character of the KB-JWT changed
            {**good, "vp_token": json.dumps({"permit": [_tampered(good)]})},
            "oid4vp-presentation-rejected",
            "",
        ),
    ]
    before = client.app.state.oid4vp.requests.get(created["id"])  # type: ignore[attr-defined]
    for n, (form, check, field) in enumerate(kinds, start=1):
        response = post(client, request, form)
        assert refused(response) == "invalid_request"
        body = shown(client, created, verifier)
        assert body["refusedCount"] == n
        last = body["refusals"][-1]
        assert last["error"] == "invalid_request"
        assert last["error_description"] == response.json()["error_description"]
        assert last["check"] == PROBLEMS + check
        if field:
            assert last["field"] == field
        assert len(body["refusals"]) == min(n, KEEP_REFUSALS)
        text = json.dumps(body)
        for secret in ("1990-02-03", "Chaoyang", "Li Lei", good["vp_token"][:40], less[:40]):
            assert secret not in text  # neither the token nor a claim
    after = client.app.state.oid4vp.requests.get(created["id"])  # type: ignore[attr-defined]
    assert (after.status, after.nonce, after.state, after.result) == (
        before.status, before.nonce, before.state, before.result
    )  # fmt: skip
    # the request stayed open: the correct answer still wins, and ends it
    assert post(client, request, good).status_code == 200
    body = result(client, created, verifier).json()
    assert body["status"] == "answered" and body["verified"] is True
    assert body["refusedCount"] == len(kinds)
    # a replayed good response is still refused, and is not kept
    assert refused(post(client, request, good)) == "invalid_request"
    assert result(client, created, verifier).json() == body


def _tampered(form: dict[str, str]) -> str:
    token: str = json.loads(form["vp_token"])["permit"][0]
    return token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]


def test_a_flood_of_refusals_keeps_the_bound(
    client: TestClient, verifier: dict[str, str], held: HeldCredential, holder: SigningKey
) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    for n in range(3 * KEEP_REFUSALS):
        form = {"vp_token": "{", "state": request["state"], "n": str(n)}
        assert refused(post(client, request, form)) == "invalid_request"
    body = shown(client, created, verifier)
    assert body["refusedCount"] == 3 * KEEP_REFUSALS
    assert len(body["refusals"]) == KEEP_REFUSALS
    assert post(client, request, answer_form(request, held, holder)).status_code == 200
    assert result(client, created, verifier).json()["verified"] is True


def test_a_non_form_body_is_a_refusal_too(client: TestClient, verifier: dict[str, str]) -> None:
    created = create(client, verifier)
    request = fetch(client, created)
    response = client.post(
        path_of(request["response_uri"]),
        content=b"{}",
        headers={"content-type": "application/json"},
    )
    assert refused(response) == "invalid_request"
    last = shown(client, created, verifier)["refusals"][-1]
    assert last["check"] == PROBLEMS + "unsupported-media-type"


def test_an_expired_or_unknown_request_keeps_no_refusal(
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
    assert refused(post(client, request, {**form, "state": "other"})) == "invalid_request"
    body = result(client, created, verifier).json()
    assert body["status"] == "expired" and "refusals" not in body
    assert refused(client.post("/oid4vp/responses/nope", data=form)) == "invalid_request"
