"""One store round trip for a verification's versions (issue #15, service/request_versions.py).

On Redis each version a verification keys its caches on (the trust version, each status
list's) used to be a blocking round trip of its own on the event loop. Here a counting
wrapper around the service's Redis client records every round trip (a command sent
alone, or a pipeline sent in one write with its replies read together) and the tests
count those that read a version.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.credentials.status import PLANES
from identity.storage.redis import RedisStore
from identity.storage.redis_directory import RedisDirectoryStore
from identity.storage.redis_log import RedisLogStore
from identity.stores import MAX_VERSION_READS
from service.app import create_app
from service.status import NAMED_PER_CREDENTIAL
from tests.service.conftest import NOW, admin, issue, make_issuer, service_settings, services_of
from tests.service.test_verify_bad_key import new_verifier
from tests.storage.redis_backends import new_prefix, real_redis


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class RoundTrips:
    """Every round trip ``client`` makes from now on, each as the words it sent."""

    def __init__(self, client: redis.Redis) -> None:
        self.made: list[list[str]] = []
        execute_command = client.execute_command
        pipeline = client.pipeline

        def counted_command(*args: Any, **options: Any) -> Any:
            self.made.append([_text(a) for a in args])
            return execute_command(*args, **options)

        def counted_pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = pipeline(*args, **kwargs)
            run = pipe.execute

            def execute(*run_args: Any, **run_kwargs: Any) -> Any:
                sent = [_text(a) for command, _ in pipe.command_stack for a in command]
                self.made.append(sent)
                return run(*run_args, **run_kwargs)

            pipe.execute = execute  # type: ignore[method-assign]
            return pipe

        client.execute_command = counted_command  # type: ignore[method-assign]
        client.pipeline = counted_pipeline  # type: ignore[method-assign]

    def clear(self) -> None:
        self.made.clear()

    def of_versions(self) -> list[list[str]]:
        """The round trips that read a version (the trust counter or a status list's)."""
        return [sent for sent in self.made if _reads_a_version(sent)]


def _reads_a_version(sent: list[str]) -> bool:
    """``GET <prefix>trust-version`` or ``HGET <prefix>status-list:… version`` among the
    words (a list's record, ``HMGET`` of its bits, is not a version read)."""
    pairs = zip(sent, sent[1:], sent[2:], strict=False)
    return any(
        (a == "GET" and b.endswith("trust-version"))
        or (a == "HGET" and ":status-list:" in b and c == "version")
        for a, b, c in pairs
    ) or (sent[:1] == ["GET"] and sent[-1].endswith("trust-version"))


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.redis_server)])
def counted(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, RoundTrips]]:
    prefix = new_prefix()
    with ExitStack() as stack:
        if request.param == "fakeredis":
            connection: redis.Redis = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        else:
            connection = stack.enter_context(real_redis(prefix))
        app = create_app(
            service_settings(tmp_path),
            clock=FixedClock(NOW),
            store=RedisStore(connection, prefix),
            log_store=RedisLogStore(connection, prefix),
            directory=RedisDirectoryStore(connection, prefix),
        )
        client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
        yield client, RoundTrips(connection)


def _lists_of(vc: dict[str, Any]) -> set[str]:
    """``group/purpose`` of each status list the credential names."""
    return {e["statusListCredential"].partition("status-lists/")[2] for e in vc["credentialStatus"]}


def _lists_read(sent: list[str]) -> set[str]:
    """``group/purpose`` of each status list whose version the round trip read."""
    return {w.partition(":status-list:")[2].replace(":", "/") for w in sent if ":status-list:" in w}


def test_a_verification_reads_every_version_in_one_round_trip(
    counted: tuple[TestClient, RoundTrips],
) -> None:
    client, trips = counted
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    assert len(vc["credentialStatus"]) == 2  # revocation and suspension: two lists
    key = {"Authorization": f"Bearer {new_verifier(client)}"}
    body = {"verifiableCredential": vc}
    for headers in (key, {}):
        assert client.post("/credentials/verify", json=body, headers=headers).status_code == 200
        for _ in range(2):  # warm and cold alike: one round trip for the versions
            trips.clear()
            response = client.post("/credentials/verify", json=body, headers=headers)
            assert response.status_code == 200, response.text
            [one] = trips.of_versions()
            assert trips.made == [one]  # and nothing else reaches Redis on a warm request
            assert any(w.endswith("trust-version") for w in one)
            read = {
                w.partition(":status-list:")[2].replace(":", "/")
                for w in one
                if ":status-list:" in w
            }
            assert _lists_of(vc) <= read


def test_a_batch_reads_its_versions_in_one_round_trip(
    counted: tuple[TestClient, RoundTrips],
) -> None:
    """One for the batch's versions, whatever its size and agencies, plus the caller's
    authentication (made before the body is read, on purpose)."""
    client, trips = counted
    agencies = [make_issuer(client, f"Agency {n}") for n in range(3)]
    vcs = [issue(client, a).json()["verifiableCredential"] for a in agencies for _ in range(2)]
    headers = {"Authorization": f"Bearer {new_verifier(client)}"}
    batch = [{"verifiableCredential": vc} for vc in vcs]
    for warm in (False, True):
        trips.clear()
        response = client.post("/credentials/verify/batch", json=batch, headers=headers)
        assert response.status_code == 200 and response.json()["verifiedCount"] == len(vcs)
        auth, batch_read = trips.of_versions()
        if warm:  # the trust records come from the service's versioned cache
            assert trips.made == [auth, batch_read]
        assert auth == ["GET", auth[1]] and auth[1].endswith("trust-version")
        assert set().union(*(_lists_of(vc) for vc in vcs)) <= _lists_read(batch_read)


def test_an_accreditation_revoked_between_two_batches_is_seen_by_the_second(
    counted: tuple[TestClient, RoundTrips],
) -> None:
    """The batch's trust reads answer from the service's versioned cache under the
    batch's one version read: a revocation moves the version, the next batch reloads."""
    client, _ = counted
    agency = make_issuer(client)
    vc = issue(client, agency).json()["verifiableCredential"]
    batch = [{"verifiableCredential": vc, "options": {"requireAccreditedIssuer": True}}]
    headers = {"Authorization": f"Bearer {new_verifier(client)}"}
    first = client.post("/credentials/verify/batch", json=batch, headers=headers).json()
    assert first["verifiedCount"] == 1
    revoked = client.post(f"/accreditations/{agency['accreditation']}/revoke", headers=admin())
    assert revoked.status_code == 200
    then = client.post("/credentials/verify/batch", json=batch, headers=headers).json()
    assert then["verifiedCount"] == 0
    assert then["results"][0]["results"]["issuerTrust"]["valid"] is False


def test_a_revocation_between_two_requests_is_seen_by_the_second(
    counted: tuple[TestClient, RoundTrips],
) -> None:
    client, _ = counted
    agency = make_issuer(client)
    issued = issue(client, agency).json()
    body = {"verifiableCredential": issued["verifiableCredential"]}
    assert client.post("/credentials/verify", json=body).status_code == 200
    changed = client.post(
        "/credentials/status",
        json={"credentialId": issued["credentialId"], "credentialStatus": [{"status": "revoked"}]},
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert changed.status_code == 200, changed.text
    refused = client.post("/credentials/verify", json=body)
    assert refused.status_code == 422
    assert refused.json()["results"]["status"]["valid"] is False


def test_a_refused_credential_is_answered_before_a_bad_body(
    counted: tuple[TestClient, RoundTrips],
) -> None:
    """The body is read before the bearer credential is judged; the answer's precedence
    is the same as before: 401 for a wrong key whatever the body, then the body's 400."""
    client, _ = counted
    bad = {"Content-Type": "application/json"}
    wrong = client.post(
        "/credentials/verify", content=b"{bad", headers={**bad, "Authorization": "Bearer ik_x.y"}
    )
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    key = {"Authorization": f"Bearer {new_verifier(client)}"}
    malformed = client.post("/credentials/verify", content=b"{bad", headers={**bad, **key})
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
    listed = client.post("/credentials/verify", content=b"[]", headers={**bad, **key})
    assert listed.status_code == 422  # the body must be an object (problems.py: Malformed)
    assert listed.headers["content-type"] == "application/problem+json"


def test_lists_named_are_this_services_stored_lists(
    counted: tuple[TestClient, RoundTrips],
) -> None:
    client, _ = counted
    status = services_of(client).issuance.status
    own = status.url("g-1", "revocation")
    entries: list[Any] = [
        {"statusListCredential": own},
        {"statusListCredential": status.url("g-1", "message-2")},
        {"statusListCredential": status.url("g-1", PLANES[0])},  # a plane alone: never served
        {"statusListCredential": "https://elsewhere.example/status-lists/g-1/revocation"},
        {"statusListCredential": 7},
        "not an entry",
    ]
    named = status.lists_named([{"credentialStatus": entries}, "a token", None, {}])
    assert named == [("g-1", "revocation"), ("g-1", PLANES[0]), ("g-1", PLANES[1])]
    many = [{"statusListCredential": status.url(f"g-{n}", "revocation")} for n in range(50)]
    one_credential = status.lists_named([{"credentialStatus": many}])
    assert one_credential == [(f"g-{n}", "revocation") for n in range(NAMED_PER_CREDENTIAL)]
    assert status.lists_named([{"credentialStatus": {"statusListCredential": own}}]) == [
        ("g-1", "revocation")
    ]
    flood = [
        {"credentialStatus": {"statusListCredential": status.url(f"g-{n}", "revocation")}}
        for n in range(MAX_VERSION_READS + 5)
    ]
    assert len(status.lists_named(flood)) == MAX_VERSION_READS  # the rest read alone


def test_a_bearer_not_accepted_lately_is_judged_before_its_body_is_read(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong or random bearer is 401 without its body being read (no cost for the
    body-first order that one version read needs); a key accepted once is judged under
    that read, and forgotten again once refused (revoked)."""
    import service.routers.credentials as route

    reads: list[int] = []
    real = route.read_json

    async def counted(request: Any) -> Any:
        reads.append(1)
        return await real(request)

    monkeypatch.setattr(route, "read_json", counted)
    for wrong in ("ik_nope.secret", "garbage", "ct_x.y"):
        answer = client.post(
            "/credentials/verify",
            content=b"{" * 100,
            headers={"Authorization": f"Bearer {wrong}", "Content-Type": "application/json"},
        )
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert reads == []
    svc = services_of(client)
    made = client.post("/verifiers", json={"name": "Bank"}, headers=admin()).json()
    key = made["apiKey"]
    bad_body = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    assert client.post("/credentials/verify", content=b"[", headers=bad_body).status_code == 400
    assert reads == [1] and svc.access.known_bearers.holds(key)
    assert client.delete(f"/verifiers/{made['keyId']}", headers=admin()).status_code == 204
    revoked = client.post("/credentials/verify", content=b"[", headers=bad_body)
    assert revoked.status_code == 401  # the credential before the body, as always
    assert not svc.access.known_bearers.holds(key)
    assert client.post("/credentials/verify", content=b"[", headers=bad_body).status_code == 401
    assert reads == [1, 1]  # the revoked key's second try is judged before its body
