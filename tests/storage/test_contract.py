"""The storage contract of identity/stores.py, proved on every backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from identity.errors import ConflictError, InvalidChallengeError, NotFoundError
from identity.registry.accreditation import Accreditation
from identity.registry.types import bundled_types
from identity.storage.redis import RedisStore
from identity.storage.sqlite import SqliteStore
from identity.stores import (
    CHALLENGE_RETENTION,
    LOGIN,
    MAX_VERSION_READS,
    Anchor,
    ApiKeyRecord,
    CredentialRecord,
    IssuerRecord,
    Store,
    StoreVersions,
    presentation_purpose,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def issuer(n: int = 1) -> IssuerRecord:
    return IssuerRecord(f"agency-{n}", f"Agency {n}", f"did:key:z{n}", b"sealed" * 8, T0)


def api_key(n: int = 1, issuer_id: str = "agency-1") -> ApiKeyRecord:
    return ApiKeyRecord(f"key-{n}", bytes([n]) * 32, issuer_id, frozenset({"issue", "read"}), T0)


def credential(n: int = 1, digest: bytes | None = None) -> CredentialRecord:
    return CredentialRecord(
        id=f"urn:uuid:{n}",
        digest=digest or bytes([n]) * 32,
        issuer_id="agency-1",
        issuer_did="did:key:z1",
        type="ResidencePermit",
        subject_id="did:key:zSubject",
        issued_at=T0,
        status_index=n,
        log_index=n,
    )


def test_issuer_and_first_key_are_stored_together(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    assert store.get_issuer("agency-1") == issuer()
    assert store.find_api_key("key-1") == api_key()
    assert store.find_issuer_by_did("did:key:z1") == issuer()
    assert store.list_issuers() == [issuer()]


def test_duplicate_issuer_is_a_conflict_and_changes_nothing(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    with pytest.raises(ConflictError):
        store.create_issuer(issuer(), api_key(2))
    assert store.find_api_key("key-2") is None
    assert store.list_issuers() == [issuer()]


def test_duplicate_key_id_rolls_back_the_issuer_too(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    with pytest.raises(ConflictError):
        store.create_issuer(issuer(2), api_key(1, "agency-2"))
    with pytest.raises(NotFoundError):
        store.get_issuer("agency-2")


def test_missing_issuer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_issuer("nobody")
    assert store.find_issuer_by_did("did:key:znobody") is None


def test_api_keys_can_be_added_and_revoked(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    store.add_api_key(api_key(2))
    store.revoke_api_key("key-2")
    revoked = store.find_api_key("key-2")
    assert revoked is not None and revoked.revoked
    assert store.find_api_key("key-1") == api_key()
    with pytest.raises(NotFoundError):
        store.revoke_api_key("key-9")
    with pytest.raises(NotFoundError):
        store.add_api_key(api_key(3, "agency-9"))
    with pytest.raises(ConflictError):
        store.add_api_key(api_key(2))


def test_credentials_are_stored_and_found_by_id_and_digest(store: Store) -> None:
    store.put_credential(credential(1))
    store.put_credential(credential(2))
    assert store.get_credential("urn:uuid:1") == credential(1)
    assert store.find_credential("urn:uuid:2") == credential(2)
    assert store.find_credential_by_digest(bytes([2]) * 32) == credential(2)
    assert store.find_credential_by_digest(b"\0" * 32) is None
    assert store.count_credentials() == 2


def test_credential_id_is_unique(store: Store) -> None:
    store.put_credential(credential(1))
    with pytest.raises(ConflictError):
        store.put_credential(credential(1, digest=b"x" * 32))
    assert store.count_credentials() == 1
    assert store.find_credential_by_digest(b"x" * 32) is None


def test_identical_reissues_share_a_digest_and_the_first_wins(store: Store) -> None:
    store.put_credential(credential(1, digest=b"d" * 32))
    store.put_credential(credential(2, digest=b"d" * 32))
    found = store.find_credential_by_digest(b"d" * 32)
    assert found is not None and found.id == "urn:uuid:1"


def test_missing_credential_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_credential("urn:uuid:none")
    assert store.find_credential("urn:uuid:none") is None


def test_concurrent_writers_each_land_exactly_once(store: Store) -> None:
    store.create_issuer(issuer(), api_key())

    def write(start: int) -> None:
        for n in range(start, start + 25):
            store.put_credential(credential(n))

    threads = [threading.Thread(target=write, args=(i * 25 + 1,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_credentials() == 100


def test_sqlite_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "durable.sqlite3"
    first = SqliteStore(path)
    first.create_issuer(issuer(), api_key())
    first.put_credential(credential(1))
    first.close()
    second = SqliteStore(path)
    assert second.get_issuer("agency-1") == issuer()
    assert second.get_credential("urn:uuid:1") == credential(1)
    second.close()


def test_sqlite_uses_wal_and_full_synchronous_by_default(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3")
    db = store._conn()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_batch_put_stores_all_and_refuses_only_the_taken_ids(store: Store) -> None:
    store.put_credential(credential(2))
    outcomes = store.put_credentials([credential(1), credential(2), credential(3)])
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], ConflictError)
    assert store.count_credentials() == 3
    assert store.get_credential("urn:uuid:2") == credential(2)


def test_a_challenge_is_consumed_exactly_once(store: Store) -> None:
    store.create_challenge("c1", LOGIN, T0 + timedelta(minutes=5))
    store.consume_challenge("c1", LOGIN, T0)
    with pytest.raises(InvalidChallengeError):
        store.consume_challenge("c1", LOGIN, T0)


def test_unknown_and_expired_challenges_are_refused(store: Store) -> None:
    with pytest.raises(InvalidChallengeError):
        store.consume_challenge("never-issued", LOGIN, T0)
    store.create_challenge("c2", LOGIN, T0 + timedelta(minutes=5))
    with pytest.raises(InvalidChallengeError, match="expired"):
        store.consume_challenge("c2", LOGIN, T0 + timedelta(minutes=6))
    with pytest.raises(ConflictError):
        store.create_challenge("c3", LOGIN, T0)
        store.create_challenge("c3", LOGIN, T0)


BANK = presentation_purpose("key:bank")


@pytest.mark.parametrize(
    ("issued", "used"),
    [
        (LOGIN, BANK),
        (BANK, LOGIN),
        (BANK, presentation_purpose("key:shop")),
        (BANK, presentation_purpose("anonymous")),
        (presentation_purpose("anonymous"), LOGIN),
    ],
)
def test_a_challenge_never_serves_another_purpose_and_survives_the_attempt(
    store: Store, issued: str, used: str
) -> None:
    store.create_challenge("bound", issued, T0 + timedelta(minutes=5))
    with pytest.raises(InvalidChallengeError) as refused:
        store.consume_challenge("bound", used, T0)
    assert refused.value.data["reason"] == "purpose"
    store.consume_challenge("bound", issued, T0)  # untouched: still good for its own
    with pytest.raises(InvalidChallengeError) as spent:
        store.consume_challenge("bound", issued, T0)
    assert spent.value.data["reason"] == "unknown"


def test_concurrent_consumers_of_one_challenge_get_one_success(store: Store) -> None:
    store.create_challenge("race", LOGIN, T0 + timedelta(minutes=5))
    wins: list[bool] = []

    def take() -> None:
        try:
            store.consume_challenge("race", LOGIN, T0)
            wins.append(True)
        except InvalidChallengeError:
            wins.append(False)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


def _counter() -> Callable[[int], int]:
    """A deterministic 'random' pick that repeats itself, to exercise reuse refusal."""
    seq = iter([5, 5, 9, 5, 9, 1, 2, 3, 4, 6, 7, 8, 0, 10, 11, 12, 13, 14, 15] * 50)
    return lambda size: next(seq) % size


def test_status_indices_are_never_handed_out_twice(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    got = store.reserve_status_indices("agency-1", 3, _counter(), 64, ["revocation"])
    assert [i for _, i in got] == [5, 9, 1]
    more = store.reserve_status_indices("agency-1", 5, _counter(), 64, ["revocation"])
    assert not {i for _, i in got} & {i for _, i in more}


def test_a_half_full_group_is_closed_and_a_new_one_opened(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    got = store.reserve_status_indices("agency-1", 12, _counter(), 16, ["revocation", "suspension"])
    groups = [g for g, _ in got]
    assert len(set(groups)) >= 2
    assert groups.count(groups[0]) == 8  # half of 16
    for group in set(groups):
        for purpose in ("revocation", "suspension"):
            listed = store.get_status_list(group, purpose)
            assert (
                listed.bits == bytes(2) and listed.version == 0 and listed.issuer_id == "agency-1"
            )


def test_setting_a_status_bit_bumps_the_version_once(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    [(group, index)] = store.reserve_status_indices(
        "agency-1", 1, lambda size: 9, 64, ["revocation"]
    )
    assert store.set_status(group, "revocation", index, True) == 1
    assert store.set_status(group, "revocation", index, True) == 1  # no change, same version
    listed = store.get_status_list(group, "revocation")
    assert listed.bits[1] == 0x40 and listed.version == 1
    assert store.set_status(group, "revocation", index, False) == 2
    assert store.get_status_list(group, "revocation").bits == bytes(8)


def test_unknown_status_lists_and_unreserved_indices_are_not_found(store: Store) -> None:
    store.create_issuer(issuer(), api_key())
    [(group, _)] = store.reserve_status_indices("agency-1", 1, lambda size: 9, 64, ["revocation"])
    with pytest.raises(NotFoundError):
        store.set_status(group, "revocation", 10, True)
    with pytest.raises(NotFoundError):
        store.get_status_list(group, "suspension")
    with pytest.raises(NotFoundError):
        store.set_status("nope", "revocation", 9, True)
    assert store.get_status_list(group, "revocation").version == 0


def test_read_versions_equals_the_single_reads(store: Store) -> None:
    """VersionReads (issue #15): one call answers ``trust_version()`` and each named
    list's ``status_list_version``; an unknown list is left out, never an error; every
    write is seen by the next call (what keeps the verifier's caches exact)."""
    assert store.read_versions([]) == StoreVersions(0, {})
    assert store.read_versions([("nope", "revocation")]) == StoreVersions(0, {})
    store.create_issuer(issuer(), api_key())
    got = store.reserve_status_indices("agency-1", 2, _counter(), 64, ["revocation", "suspension"])
    [(group, index), _] = got
    lists = [(group, "revocation"), (group, "suspension"), (group, "nope"), ("nope", "x")]

    def single() -> StoreVersions:
        found = {key: store.status_list_version(*key) for key in lists[:2]}
        return StoreVersions(store.trust_version(), found)

    first = store.read_versions(lists)
    assert first == single() and first.trust > 0
    assert first.status == {(group, "revocation"): 0, (group, "suspension"): 0}
    store.set_status(group, "suspension", index, True)
    after_bit = store.read_versions(lists)
    assert after_bit == single()
    assert after_bit.status[(group, "suspension")] == 1 and after_bit.trust == first.trust
    store.revoke_api_key("key-1")
    after_trust = store.read_versions(lists[:1])
    assert after_trust == StoreVersions(single().trust, {(group, "revocation"): 0})
    assert after_trust.trust > first.trust
    assert store.read_versions([]).trust == after_trust.trust
    many = [*lists, *((f"g-{n}", "revocation") for n in range(40))]  # SQLite: a scan
    assert store.read_versions(many) == StoreVersions(single().trust, after_bit.status)
    with pytest.raises(ValueError, match="at most"):
        store.read_versions([(group, str(n)) for n in range(MAX_VERSION_READS + 1)])


def test_credential_records_keep_their_status_group(store: Store) -> None:
    record = CredentialRecord(
        id="urn:uuid:g",
        digest=b"g" * 32,
        issuer_id="agency-1",
        issuer_did="did:key:z1",
        type="T",
        subject_id=None,
        issued_at=T0,
        status_index=3,
        status_group="agency-1-1",
    )
    store.put_credential(record)
    assert store.get_credential("urn:uuid:g") == record


def _acc(n: int, issuer_id: str = "agency-1", **kw: Any) -> Accreditation:
    base = dict(
        id=f"acc-{n}",
        issuer_id=issuer_id,
        types=frozenset({"ResidencePermitCredential"}),
        valid_from=T0,
        valid_until=T0 + timedelta(days=365),
        accredited_by="operator",
        parent_id=None,
        depth=0,
        created=T0 + timedelta(seconds=n),
    )
    base.update(kw)
    return Accreditation(**base)  # type: ignore[arg-type]


def test_credential_types_are_stored_once(store: Store) -> None:
    [first, *_] = bundled_types()
    store.create_type(first)
    assert store.find_type(first.name) == first
    assert store.find_type("Nope") is None
    with pytest.raises(ConflictError):
        store.create_type(first)
    assert store.list_types() == [first]


def test_accreditations_are_stored_listed_and_revoked(store: Store) -> None:
    store.add_accreditation(_acc(1))
    store.add_accreditation(
        _acc(2, issuer_id="agency-2", parent_id="acc-1", depth=1, accredited_by="agency-1")
    )
    assert store.get_accreditation("acc-1") == _acc(1)
    assert [a.id for a in store.accreditations_of("agency-2")] == ["acc-2"]
    revoked = store.revoke_accreditation("acc-1", T0 + timedelta(days=1))
    assert revoked.revoked_at == T0 + timedelta(days=1)
    again = store.revoke_accreditation("acc-1", T0 + timedelta(days=5))
    assert again.revoked_at == T0 + timedelta(days=1)  # the first revocation stands
    with pytest.raises(NotFoundError):
        store.get_accreditation("acc-9")
    with pytest.raises(ConflictError):
        store.add_accreditation(_acc(2))


def test_unused_challenges_are_forgotten_after_they_expire(store: Store) -> None:
    store.create_challenge("old", LOGIN, T0 + timedelta(minutes=5))
    store.create_challenge("fresh", LOGIN, T0 + timedelta(minutes=30))
    purged = store.purge_challenges(T0 + timedelta(minutes=10))
    store.consume_challenge("fresh", LOGIN, T0 + timedelta(minutes=20))  # untouched
    if isinstance(store, RedisStore):
        assert purged == 0  # Redis forgets them itself: every challenge key has a TTL
        key = store._k("challenge:old")
        assert 0 < store._client.ttl(key) <= CHALLENGE_RETENTION.total_seconds()
    else:
        assert purged == 1
        with pytest.raises(InvalidChallengeError):
            store.consume_challenge("old", LOGIN, T0)  # gone, though not yet expired at T0


def test_every_trust_write_grows_the_trust_version_and_a_refused_one_does_not(
    store: Store,
) -> None:
    """TrustVersioned (issue #15): the version caches key on grows with each write that
    changes an issuer, an API key, a type or an accreditation, and only when it did."""
    [first, *_] = bundled_types()
    assert store.trust_version() == 0
    writes: list[Callable[[], object]] = [
        lambda: store.create_issuer(issuer(), api_key()),
        lambda: store.add_api_key(api_key(2)),
        lambda: store.revoke_api_key("key-2"),
        lambda: store.create_type(first),
        lambda: store.add_accreditation(_acc(1)),
        lambda: store.revoke_accreditation("acc-1", T0 + timedelta(days=1)),
    ]
    for write in writes:
        before = store.trust_version()
        write()
        assert store.trust_version() > before
    refused: list[Callable[[], object]] = [
        lambda: store.create_issuer(issuer(), api_key(5)),
        lambda: store.add_api_key(api_key(2)),
        lambda: store.add_api_key(api_key(6, "agency-9")),
        lambda: store.revoke_api_key("key-9"),
        lambda: store.create_type(first),
        lambda: store.add_accreditation(_acc(1)),
        lambda: store.revoke_accreditation("acc-9", T0),
    ]
    for write in refused:
        before = store.trust_version()
        with pytest.raises((ConflictError, NotFoundError)):
            write()
        assert store.trust_version() == before


def test_the_trust_version_grows_with_anchored_acts(store: Store) -> None:
    """The acts that admit a log entry grow the version in that same transaction."""
    [first, *_] = bundled_types()
    acts: list[Callable[[], object]] = [
        lambda: store.create_issuer(issuer(), api_key(), Anchor(b"issuer")),
        lambda: store.create_type(first, Anchor(b"type")),
        lambda: store.add_accreditation(_acc(1), Anchor(b"granted")),
        lambda: store.revoke_accreditation("acc-1", T0, Anchor(b"revoked")),
    ]
    for act in acts:
        before = store.trust_version()
        act()
        assert store.trust_version() > before
    before = store.trust_version()
    with pytest.raises(ConflictError):  # a second anchored revocation is refused
        store.revoke_accreditation("acc-1", T0, Anchor(b"again"))
    assert store.trust_version() == before


def test_a_reader_that_read_the_version_first_never_misses_a_revocation(store: Store) -> None:
    """What makes a versioned cache exact: once ``revoke_api_key`` returned, a reader
    sees a larger version than any read before the revocation began, and the revoked key."""
    store.create_issuer(issuer(), api_key())
    seen = store.trust_version()
    store.revoke_api_key("key-1")
    assert store.trust_version() > seen
    record = store.find_api_key("key-1")
    assert record is not None and record.revoked
