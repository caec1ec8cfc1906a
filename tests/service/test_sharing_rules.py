"""Data-sharing requests: every refusal is problem+json with a stable type and writes
nothing (no log entry, no state change); consent, exemption and withdrawal rules."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock, xsd_datetime
from tests.service.conftest import admin, make_issuer, services_of
from tests.service.directory_helpers import (
    Citizen,
    agency_headers,
    ask,
    catalog_entry,
    publish,
    settle,
    stats,
)

PROBLEMS = "https://identity-service.example/problems/"
SHARING_STATE = PROBLEMS + "sharing-state"
INVALID_CONSENT = PROBLEMS + "invalid-consent"


class World:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.holder = make_issuer(client, "Public Security Bureau")
        self.requester = make_issuer(client, "Education Bureau")
        assert publish(client, self.holder).status_code == 201
        self.citizen = Citizen()
        self.citizen.register(client)

    def request(self) -> str:
        response = ask(self.client, self.requester, self.citizen.did)
        assert response.status_code == 201, response.text
        request_id: str = response.json()["id"]
        return request_id

    def snapshot(self, request_id: str | None = None) -> tuple[Any, ...]:
        svc = services_of(self.client)
        state = svc.directory.get_request(request_id) if request_id else None
        return svc.logs.log.store.entry_count(), stats(self.client), state

    def post(self, path: str, who: dict[str, str], body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {}, headers=who)


@pytest.fixture
def world(client: TestClient) -> World:
    return World(client)


def refused(response: Any, status: int, problem: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == problem


def test_a_request_for_a_resource_not_in_the_catalog_is_404_and_writes_nothing(
    world: World,
) -> None:
    before = world.snapshot()
    refused(
        ask(world.client, world.requester, world.citizen.did, resource="psb.nothing"),
        404,
        PROBLEMS + "not-found",
    )
    assert world.snapshot() == before


@pytest.mark.parametrize(
    ("extra", "status", "problem"),
    [
        ({"purpose": ""}, 422, "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"),
        ({"fields": ["salary"]}, 422, "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"),
        ({"subject": "did:cityid:zNobody"}, 404, PROBLEMS + "not-found"),
        ({"subject": "nobody"}, 400, PROBLEMS + "invalid-did"),
        ({"subject": 7}, 422, "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"),
        ({"unexpected": 1}, 422, "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"),
    ],
)
def test_malformed_requests_are_refused_and_write_nothing(
    world: World, extra: dict[str, Any], status: int, problem: str
) -> None:
    before = world.snapshot()
    body = {"resource": "psb.household-register", "subject": world.citizen.did, "purpose": "x"}
    response = world.client.post(
        "/sharing/requests", json={**body, **extra}, headers=agency_headers(world.requester)
    )
    refused(response, status, problem)
    assert world.snapshot() == before


def test_the_holder_cannot_request_its_own_data_and_unlisted_agencies_cannot_ask(
    world: World,
) -> None:
    refused(
        ask(world.client, world.holder, world.citizen.did),
        422,
        "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
    )
    entry = catalog_entry("psb.restricted", requesters=[world.holder["id"]])
    assert publish(world.client, world.holder, entry).status_code == 201
    before = world.snapshot()
    refused(
        ask(world.client, world.requester, world.citizen.did, resource="psb.restricted"),
        403,
        PROBLEMS + "forbidden",
    )
    assert world.snapshot() == before


def test_approval_needs_consent_or_an_exemption(world: World) -> None:
    request_id = world.request()
    before = world.snapshot(request_id)
    refused(
        world.post(f"/sharing/requests/{request_id}/approve", agency_headers(world.holder)),
        409,
        SHARING_STATE,
    )
    refused(
        world.post(f"/sharing/requests/{request_id}/accesses", agency_headers(world.holder)),
        409,
        SHARING_STATE,
    )
    assert world.snapshot(request_id) == before
    exempt = world.post(
        f"/sharing/requests/{request_id}/exemption",
        admin(),
        {"legalBasis": "Public Health Emergency Act art. 4", "reference": "PH-2026-17"},
    )
    assert exempt.status_code == 200, exempt.text
    assert exempt.json()["state"] == "exempted"
    assert (
        world.post(
            f"/sharing/requests/{request_id}/approve", agency_headers(world.holder)
        ).status_code
        == 200
    )
    access = world.post(f"/sharing/requests/{request_id}/accesses", agency_headers(world.holder))
    assert access.status_code == 201 and access.json()["record"]["basis"] == "exemption"
    headers = world.citizen.headers(world.client, services_of(world.client).clock.now())
    refused(world.post(f"/sharing/requests/{request_id}/withdraw", headers), 409, SHARING_STATE)


def test_only_the_holder_approves_and_only_the_operator_exempts(world: World) -> None:
    request_id = world.request()
    outsider = make_issuer(world.client, "Tax Bureau")
    before = world.snapshot(request_id)
    refused(
        world.post(f"/sharing/requests/{request_id}/approve", agency_headers(world.requester)),
        403,
        PROBLEMS + "forbidden",
    )
    refused(
        world.post(f"/sharing/requests/{request_id}/approve", agency_headers(outsider)),
        404,
        PROBLEMS + "not-found",
    )
    refused(
        world.post(
            f"/sharing/requests/{request_id}/exemption",
            agency_headers(world.holder),
            {"legalBasis": "x"},
        ),
        403,
        PROBLEMS + "forbidden",
    )
    refused(
        world.post(f"/sharing/requests/{request_id}/exemption", admin(), {"legalBasis": ""}),
        422,
        "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
    )
    assert world.snapshot(request_id) == before


def test_consent_signed_by_another_did_is_refused_and_writes_nothing(
    world: World, clock: FixedClock
) -> None:
    request_id = world.request()
    other = Citizen(seed=11)
    other.register(world.client)
    headers = world.citizen.headers(world.client, clock.now())
    template = world.client.get(
        f"/sharing/requests/{request_id}/consent-template", headers=headers
    ).json()
    template["issuer"] = other.did
    signed = other.sign(template, clock.now())
    before = world.snapshot(request_id)
    refused(
        world.post(f"/sharing/requests/{request_id}/consent", headers, signed), 422, INVALID_CONSENT
    )
    assert world.snapshot(request_id) == before


def test_a_replayed_consent_is_refused(world: World, clock: FixedClock) -> None:
    first = world.request()
    headers = world.citizen.headers(world.client, clock.now())
    template = world.client.get(
        f"/sharing/requests/{first}/consent-template", headers=headers
    ).json()
    signed = world.citizen.sign(template, clock.now())
    assert world.post(f"/sharing/requests/{first}/consent", headers, signed).status_code == 200
    before = world.snapshot(first)
    refused(world.post(f"/sharing/requests/{first}/consent", headers, signed), 409, SHARING_STATE)
    assert world.snapshot(first) == before
    second = world.request()
    before = world.snapshot(second)
    refused(
        world.post(f"/sharing/requests/{second}/consent", headers, signed), 422, INVALID_CONSENT
    )
    assert world.snapshot(second) == before


def test_an_expired_consent_is_refused_at_submission_and_stops_later_access(
    world: World, clock: FixedClock
) -> None:
    request_id = world.request()
    headers = world.citizen.headers(world.client, clock.now())
    template = world.client.get(
        f"/sharing/requests/{request_id}/consent-template",
        params={"validUntil": xsd_datetime(clock.now() + timedelta(hours=1))},
        headers=headers,
    ).json()
    signed = world.citizen.sign(template, clock.now())
    clock.advance(timedelta(hours=2))
    headers = world.citizen.headers(world.client, clock.now())
    before = world.snapshot(request_id)
    refused(
        world.post(f"/sharing/requests/{request_id}/consent", headers, signed), 422, INVALID_CONSENT
    )
    assert world.snapshot(request_id) == before

    assert (
        world.citizen.consent(
            world.client, request_id, clock.now(), valid_for=timedelta(days=1)
        ).status_code
        == 200
    )
    assert (
        world.post(
            f"/sharing/requests/{request_id}/approve", agency_headers(world.holder)
        ).status_code
        == 200
    )
    clock.advance(timedelta(days=2))
    before = world.snapshot(request_id)
    refused(
        world.post(f"/sharing/requests/{request_id}/accesses", agency_headers(world.holder)),
        409,
        SHARING_STATE,
    )
    assert world.snapshot(request_id) == before


def test_a_refusal_is_recorded_and_final(world: World, clock: FixedClock) -> None:
    request_id = world.request()
    answer = world.citizen.consent(world.client, request_id, clock.now(), decision="refuse")
    assert answer.status_code == 200 and answer.json()["state"] == "refused"
    refused(
        world.post(f"/sharing/requests/{request_id}/approve", agency_headers(world.holder)),
        409,
        SHARING_STATE,
    )


def test_an_access_after_withdrawal_is_refused_and_writes_nothing(
    world: World, clock: FixedClock
) -> None:
    request_id = world.request()
    assert world.citizen.consent(world.client, request_id, clock.now()).status_code == 200
    assert (
        world.post(
            f"/sharing/requests/{request_id}/approve", agency_headers(world.holder)
        ).status_code
        == 200
    )
    headers = world.citizen.headers(world.client, clock.now())
    assert world.post(f"/sharing/requests/{request_id}/withdraw", headers).status_code == 200
    before = world.snapshot(request_id)
    refused(
        world.post(f"/sharing/requests/{request_id}/accesses", agency_headers(world.holder)),
        409,
        SHARING_STATE,
    )
    refused(world.post(f"/sharing/requests/{request_id}/withdraw", headers), 409, SHARING_STATE)
    assert world.snapshot(request_id) == before


def test_who_sees_what(world: World, clock: FixedClock) -> None:
    request_id = world.request()
    other = Citizen(seed=12)
    other.register(world.client)
    other_headers = other.headers(world.client, clock.now())
    assert (
        world.client.get(f"/sharing/requests/{request_id}", headers=other_headers).status_code
        == 404
    )
    assert (
        world.client.get("/wallet/access-history", headers=other_headers).json()["requests"] == []
    )
    mine = world.client.get(
        f"/sharing/requests/{request_id}", headers=world.citizen.headers(world.client, clock.now())
    )
    assert mine.status_code == 200 and mine.json()["request"]["subject"] == world.citizen.did
    for agency in (world.holder, world.requester):
        listed = world.client.get("/sharing/requests", headers=agency_headers(agency)).json()
        assert [r["id"] for r in listed] == [request_id]
    outsider = make_issuer(world.client, "Tax Bureau")
    assert world.client.get("/sharing/requests", headers=agency_headers(outsider)).json() == []
    assert world.client.get("/sharing/stats").status_code == 401
    operator = world.client.get(f"/sharing/requests/{request_id}", headers=admin())
    assert operator.status_code == 403  # the operator sees aggregates only
    settle(world.client)
    aggregate = stats(world.client)
    assert aggregate["requests"] == 1 and aggregate["byState"] == {"awaiting-consent": 1}
    assert world.citizen.did not in str(aggregate)


def _leaves(client: TestClient, kind: str) -> int:
    store = services_of(client).logs.log.store
    entries = store.read_entries(0, store.entry_count())
    return sum(f'"kind":"{kind}"'.encode() in e for e in entries)


def test_concurrent_acts_on_one_request_leave_no_log_entry_without_its_record(
    world: World, clock: FixedClock
) -> None:
    request_id = world.request()
    assert world.citizen.consent(world.client, request_id, clock.now()).status_code == 200
    holder = agency_headers(world.holder)
    assert world.post(f"/sharing/requests/{request_id}/approve", holder).status_code == 200
    citizen = world.citizen.headers(world.client, clock.now())
    path = f"/sharing/requests/{request_id}"

    def act(n: int) -> int:
        if n == 12:
            return int(world.post(path + "/withdraw", citizen).status_code)
        return int(world.post(path + "/accesses", holder).status_code)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(act, range(24)))
    assert set(statuses) <= {200, 201, 409} and statuses[12] == 200
    served = statuses.count(201)
    events = services_of(world.client).directory.request_events(request_id)
    assert [e.kind for e in events].count("data.accessed") == served
    assert _leaves(world.client, "data.accessed") == served  # no refused act was logged
    assert events[-1].kind == "consent.withdrawn" or statuses.count(409) == 0


def test_a_consent_template_is_only_for_grant_refuse_or_withdraw(
    world: World, clock: FixedClock
) -> None:
    request_id = world.request()
    headers = world.citizen.headers(world.client, clock.now())
    path = f"/sharing/requests/{request_id}/consent-template"
    refused(
        world.client.get(path, params={"decision": "maybe"}, headers=headers),
        422,
        "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR",
    )
    refused(  # nothing to withdraw yet
        world.client.get(path, params={"decision": "withdraw"}, headers=headers),
        409,
        SHARING_STATE,
    )
    template = world.client.get(path, params={"decision": "refuse"}, headers=headers).json()
    assert template["credentialSubject"]["decision"] == "refuse"
    assert template["issuer"] == world.citizen.did
