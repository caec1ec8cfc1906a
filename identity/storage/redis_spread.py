"""Credential records spread over a Redis Cluster's masters, each act still exact (#16).

On a standalone Redis every key of a prefix is one keyspace and
:class:`~identity.storage.redis_credentials.RedisCredentials` writes a credential and its
log entry in one ``MULTI``/``EXEC``. On a Redis Cluster a transaction cannot span hash
slots, and the log is one sequence in one slot (one per log shard). Putting every
credential into the log's slot (as before) keeps the acts atomic but leaves the whole
prefix on one master. :class:`SpreadCredentials` spreads the credentials instead:

**Keys.** Each credential, digest and subject key carries the hash tag of one of
:data:`SPREAD_BUCKETS` buckets, chosen from the key's own lookup value
(:func:`bucket_of`: CRC-32 of the credential id, the digest or the subject id) --
``{identity~17}:credential:<id>``, ``{identity~203}:digest:<hex>``,
``{identity~5}:subject:<id>``. Per bucket also ``credentials`` (set of the settled ids:
count and iteration without ``SCAN``), ``outbox`` (hash: token -> act in flight) and
``replicated`` (the ``WAIT`` fence). The buckets' slots fall on every master. The
issuer registry, status lists, directory chain and the log keep the prefix's own tag
(``{identity}:``): those acts touch the log in the same transaction, co-located by the
shared tag, as before.

**An issuance** (:meth:`SpreadCredentials.put_credentials`), all of it idempotent so any
process can finish it:

1. *Intent.* One transaction in the *home* bucket (the first record's): the act (records,
   entries) into ``outbox`` under a fresh token, and a claim (``claim:<token>``, ``SET``
   only if absent) on each record id of that bucket. Claims of records in other buckets
   follow (``SET NX`` each), then the claim outcomes are written into the outbox entry.
   With ``min_replicas`` the intent reaches the replicas before step 2 -- a failover cannot
   lose an act whose entry the log already holds.
2. *Admission.* The entries of the claimed records are appended to their log (the log
   shard each anchor names, docs/log-shards.md) with one script per shard in the log's
   slot, keyed by the token (``append:<token>`` under that shard's keys, kept
   :data:`ADMIT_TOKEN_TTL_S`): a repeated admission returns the answer it got first, so
   an act crashed between steps lands in exactly one shard, once. For a shard the
   script (:data:`SHARD_ADMIT_SCRIPT`) reads the catalog in the same slot: a shard found
   sealed, frozen or full passes the entries to the next split of its period, and the
   records' ``log_index`` and the anchors follow where they went. (Before step 1 an act
   whose shard is already frozen is refused, nothing written: :meth:`_check_shards`.)
3. *Indexes.* ``digest:<hex>`` (``SET NX``) and ``subject:<id>`` (append unless present).
4. *Settle.* Per record, one script in its bucket (:data:`_SETTLE`): if the key still holds
   our claim, the record (with its ``log_index``) replaces it and its id joins
   ``credentials``.

The other buckets' claims (step 1), the indexes and the settles are each sent as one
non-transactional pipeline per batch (grouped by node): every command in them is
idempotent and single-slot, so a pipeline cut short is finished by the drain.
5. The outbox entry and the admission token are deleted.

**What a reader sees.** A claim or an unsettled record reads as absent
(:meth:`~SpreadCredentials.find_credential` is ``None``; indexes pointing at it are
skipped), so nobody sees a half-written credential; a settled one is whole. Between steps
2 and 4 the log holds an entry whose record is not yet visible: the act is durable (its
outbox entry), only unfinished. :meth:`SpreadCredentials.drain_outbox` finishes every act
left in flight (a writer killed between steps, a master failed over mid-way): the
service runs it periodically and ``identity log reconcile`` runs it first, so
reconciliation finds every stored act once in the log and every entry a record.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from redis.client import Pipeline

from identity.errors import ConflictError
from identity.log.shards import ShardRecord, plan_admission
from identity.log.tiles import encode_bundle
from identity.storage.redis_base import _dump, _load, _text, call, transact
from identity.storage.redis_cluster import AnyRedis, wait_for_replicas
from identity.storage.redis_log_keys import (
    APPEND_SCRIPT,
    LOG_NAMESPACE,
    LogKeys,
    shard_catalog_key,
)
from identity.storage.shard_catalog import parse_record
from identity.stores import Anchor, CredentialRecord

SPREAD_BUCKETS = 256
"""How many hash tags the credentials of one prefix are spread over (each tag one slot,
the slots spread over every master; 256 keeps a bucket's share even for tens of masters
while counting and iterating stay one pipelined round per node)."""
ADMIT_TOKEN_TTL_S = 7 * 24 * 3600
"""How long the log remembers an admission (a drain after a crash finishes far sooner)."""
FINISHED_TOKEN_TTL_S = 600
"""How long the log still remembers a finished act's admission (see :meth:`_finish`)."""
CLAIM = b"claim:"


_ADD_ONCE = """
if redis.call('LPOS', KEYS[1], ARGV[1]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
"""
"""Append ``ARGV[1]`` to the list unless it is in it (a subject's credential ids)."""


_SETTLE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
"""
"""Step 4 of an issuance in one bucket: the record ``ARGV[2]`` replaces the claim
``ARGV[1]`` at ``KEYS[1]`` and its id ``ARGV[3]`` joins the bucket's set ``KEYS[2]``, only
while the key still holds that claim (both keys carry the bucket's tag: one slot)."""


SHARD_ADMIT_SCRIPT = """
local catalog, token = KEYS[1], KEYS[2]
local done = redis.call('GET', token)
if done then
  local first = tonumber(done)
  if first then return {ARGV[1], first, #ARGV - 4} end
  return cjson.decode(done)
end
local before, after = ARGV[3], ARGV[4]
local name = ARGV[1]
local raw = redis.call('HGET', catalog, name)
local rec = nil
if raw then rec = cjson.decode(raw) end
local out = {}
local i = 5
while i <= #ARGV do
  local size_key = before .. name .. after .. 'size'
  local size = tonumber(redis.call('GET', size_key) or '0')
  local room = #ARGV - i + 1
  if rec then
    if rec.sealed == true or (rec.final ~= nil and rec.final ~= cjson.null) then
      room = 0
    elseif rec.limit ~= nil and rec.limit ~= cjson.null then
      room = math.min(room, rec.limit - size)
    end
  end
  if room > 0 then
    local entries = before .. name .. after .. 'entries:'
    for k = 0, room - 1 do
      local chunk = math.floor((size + k) / 256)
      redis.call('APPEND', entries .. string.format('%d', chunk), ARGV[i + k])
    end
    redis.call('SET', size_key, string.format('%d', size + room))
    out[#out + 1] = name
    out[#out + 1] = size
    out[#out + 1] = room
    i = i + room
  else
    local seq = rec.seq + 1
    local nxt = string.format('%d', seq)
    if rec.label ~= '' then nxt = rec.label .. '.' .. nxt end
    local found = redis.call('HGET', catalog, nxt)
    if found then
      rec = cjson.decode(found)
    else
      local base = string.sub(rec.origin, 1, #rec.origin - #rec.name - 1)
      rec = {name = nxt, label = rec.label, seq = seq, origin = base .. '/' .. nxt,
             final = cjson.null, order = redis.call('HLEN', catalog), sealed = false,
             limit = rec.limit}
      redis.call('HSET', catalog, nxt, cjson.encode(rec))
    end
    name = nxt
  end
end
redis.call('SET', token, cjson.encode(out), 'EX', tonumber(ARGV[2]))
return out
"""
"""The admission of an act's entries into log shard ``ARGV[1]`` on a cluster, in the slot
of the catalog hash ``KEYS[1]`` and every shard: the catalog's record is read in the
script, so the check is atomic with the append. Entries (framed bundles ``ARGV[5…]``) go
to the shard while it is open and below its ``limit``; a full shard -- or a sealed or
frozen one: the act is already committed in its outbox, so it cannot be refused -- passes
the rest to the next size split of its period (``2026`` → ``2026.1``), added to the
catalog first when missing (the same record fields as
:func:`~identity.storage.shard_catalog.record_json`). The outcome, ``[shard, first, count,
…]``, is kept under the token ``KEYS[2]`` for ``ARGV[2]`` seconds: a repeated admission
gets the same answer, so every entry lands in exactly one shard, once. ``ARGV[3]`` and
``ARGV[4]`` are a shard's key prefix around its name (``{identity}:shard/`` and
``:log:``)."""


def bucket_of(value: str) -> int:
    """The bucket of a lookup value (credential id, digest hex, subject id): CRC-32 mod
    :data:`SPREAD_BUCKETS`, stable across processes and releases."""
    return zlib.crc32(value.encode()) % SPREAD_BUCKETS


@dataclass(frozen=True, slots=True)
class _Act:
    """An issuance in flight, as its outbox entry stores it."""

    token: str
    records: list[CredentialRecord]
    entries: list[bytes | None]
    claimed: list[bool | None]
    at: float
    shards: list[str | None]
    """The log shard of each entry (``None``: the unsharded log)."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "records": [_dump(r) for r in self.records],
                "entries": [e.hex() if e is not None else None for e in self.entries],
                "claimed": self.claimed,
                "at": self.at,
                "shards": self.shards,
            }
        )

    @classmethod
    def from_json(cls, token: str, raw: bytes | str) -> _Act:
        data = json.loads(raw)
        return cls(
            token,
            [_load(CredentialRecord, r) for r in data["records"]],
            [bytes.fromhex(e) if e is not None else None for e in data["entries"]],
            list(data["claimed"]),
            float(data["at"]),
            list(data.get("shards") or [None] * len(data["records"])),
        )


class SpreadCredentials:
    """The credentials of one prefix on a Redis Cluster, spread over :data:`SPREAD_BUCKETS`
    hash tags (see the module for keys and the steps of an issuance). ``base`` is the
    operator's prefix without its colon; ``log(shard)`` the keys of a log shard (``None``:
    the unsharded log), all in the prefix's own slot; ``replicas()`` answers ``(min_replicas,
    wait_timeout_ms)`` for each write."""

    def __init__(
        self,
        client: AnyRedis,
        base: str,
        log: Callable[[str | None], LogKeys],
        *,
        retry_after: int,
        replicas: Callable[[], tuple[int, int]],
    ) -> None:
        self._client = client
        self._base = base
        self._log = log
        self._retry_after = retry_after
        self._replicas = replicas
        self._admit = client.register_script(APPEND_SCRIPT)  # with ADMIT_TOKEN_TTL_S
        self._admit_shard = client.register_script(SHARD_ADMIT_SCRIPT)
        before, _, after = log("@").base.partition("@")
        self._shard_keys = (before, after)
        """A shard's key prefix around its name (the layout is ``log``'s)."""

    # -- keys -------------------------------------------------------------------------------

    def tag(self, bucket: int) -> str:
        """The key prefix of ``bucket``: ``{<prefix>~<bucket>}:``."""
        return "{" + f"{self._base}~{bucket}" + "}:"

    def credential_key(self, credential_id: str) -> str:
        """Where a credential's record (or, while in flight, its claim) is kept."""
        return self.tag(bucket_of(credential_id)) + "credential:" + credential_id

    def _digest_key(self, digest: bytes) -> str:
        return self.tag(bucket_of(digest.hex())) + "digest:" + digest.hex()

    def _subject_key(self, subject_id: str) -> str:
        return self.tag(bucket_of(subject_id)) + "subject:" + subject_id

    def _ids_key(self, bucket: int) -> str:
        return self.tag(bucket) + "credentials"

    def _outbox(self, bucket: int) -> str:
        return self.tag(bucket) + "outbox"

    def _call(self, fn: Any) -> Any:
        return call(self._client, fn, self._retry_after)

    # -- writes -----------------------------------------------------------------------------

    def put_credentials(
        self, records: Sequence[CredentialRecord], anchors: Sequence[Anchor | None]
    ) -> list[ConflictError | None]:
        """Store ``records`` (admitting the entries of ``anchors``) as the module says;
        a taken id (stored, in flight, or earlier in the batch) is its ConflictError."""
        outcomes: list[ConflictError | None] = [None] * len(records)
        kept: list[int] = []
        seen: set[str] = set()
        for at, record in enumerate(records):
            if record.id in seen:
                outcomes[at] = ConflictError("credential already recorded", id=record.id)
            else:
                seen.add(record.id)
                kept.append(at)
        if not kept:
            return outcomes
        self._check_shards([anchors[i] for i in kept])
        act = _Act(
            uuid.uuid4().hex,
            [records[i] for i in kept],
            [a.entry if a is not None else None for a in (anchors[i] for i in kept)],
            [None] * len(kept),
            time.time(),
            [a.shard if a is not None else None for a in (anchors[i] for i in kept)],
        )
        touched = self._intend(act)
        admitted = self._finish(act, touched)
        self._replicated(touched)
        for at, claimed, where in zip(kept, act.claimed, admitted, strict=True):
            if not claimed:
                outcomes[at] = ConflictError("credential already recorded", id=records[at].id)
                continue
            anchor = anchors[at]
            if anchor is not None and where is not None:
                anchor.shard, anchor.index = where
        return outcomes

    def _check_shards(self, anchors: Sequence[Anchor | None]) -> None:
        """Before anything is written: refuse an act whose log shard the catalog lacks
        (:class:`UnknownShardError`) or has frozen without being full
        (:class:`FrozenShardError`, 409). The catalog is in another slot than the records,
        so this read is not atomic with the act; the admission script checks again
        atomically, and an act whose shard was frozen in between goes to the next split."""
        wanted = [a.shard for a in anchors if a is not None and a.shard is not None]
        if not wanted:
            return
        catalog = self._catalog_key()

        def lookup(name: str) -> ShardRecord | None:
            raw = self._call(lambda r: r.hget(catalog, name))
            return None if raw is None else parse_record(raw)[1]

        def count(name: str) -> int:
            return int(self._call(lambda r: r.get(self._log(name).size)) or 0)

        plan_admission(wanted, lookup, count)

    def _catalog_key(self) -> str:
        """The log-shard catalog hash, in the prefix's own slot with every shard."""
        return shard_catalog_key(self._log(None).base.removesuffix(LOG_NAMESPACE))

    def _intend(self, act: _Act) -> set[str]:
        """Step 1: the outbox entry with the home bucket's claims in one transaction, the
        other claims after it; returns the fence keys of the buckets touched."""
        home = bucket_of(act.records[0].id)
        claim = CLAIM + act.token.encode()
        local = [i for i, r in enumerate(act.records) if bucket_of(r.id) == home]
        keys = [self.credential_key(act.records[i].id) for i in local]

        def body(pipe: Pipeline) -> None:
            stored = pipe.execute_command("MGET", *keys)  # type: ignore[no-untyped-call]
            for i, value in zip(local, stored, strict=True):
                act.claimed[i] = value is None
            pipe.multi()
            for i, key in zip(local, keys, strict=True):
                if act.claimed[i]:
                    pipe.set(key, claim)
            pipe.hset(self._outbox(home), act.token, act.to_json())

        transact(self._client, keys, body, self._retry_after)
        touched = {self.tag(home) + "replicated"}
        others = [i for i, c in enumerate(act.claimed) if c is None]
        if others:
            keys = [self.credential_key(act.records[i].id) for i in others]
            taken = self._pipelined(lambda p: [p.set(k, claim, nx=True) for k in keys])
            for i, won in zip(others, taken, strict=True):
                act.claimed[i] = bool(won)
                touched.add(self.tag(bucket_of(act.records[i].id)) + "replicated")
            self._update_outbox(act)
        self._replicated(touched)  # the intent is on the replicas before the log has it
        return touched

    def _finish(self, act: _Act, touched: set[str]) -> list[tuple[str | None, int] | None]:
        """Steps 2-5 for an act whose claims are all decided; where each record's entry
        went, ``(shard, index)`` (``None`` for a record without an entry or not claimed)."""
        admitted = self._admit_all(act, touched)
        settled = []
        for given, mine, where in zip(act.records, act.claimed, admitted, strict=True):
            if mine:
                settled.append(given if where is None else replace(given, log_index=where[1]))

        def index(pipe: Any) -> None:
            for record in settled:
                self._index(pipe, record)

        self._pipelined(index)
        for record in settled:
            touched.add(self.tag(bucket_of(record.digest.hex())) + "replicated")
            if record.subject_id is not None:
                touched.add(self.tag(bucket_of(record.subject_id)) + "replicated")
        claim = CLAIM + act.token.encode()

        def settle(pipe: Any) -> None:
            for record in settled:
                self._settle(pipe, record, claim)

        self._pipelined(settle)
        for record in settled:
            touched.add(self.tag(bucket_of(record.id)) + "replicated")
        self._forget(act)
        return admitted

    def _admit_all(self, act: _Act, touched: set[str]) -> list[tuple[str | None, int] | None]:
        """Step 2: the claimed entries appended to their log shards, one script per shard
        keyed by the act's token (a repeated admission gets the answer it got first), in
        batch order within each shard; where each went, ``(shard, index)`` -- a log shard
        found full or frozen by :data:`SHARD_ADMIT_SCRIPT` passes entries to its next
        split."""
        by_shard: dict[str | None, list[int]] = {}
        for at, (entry, mine) in enumerate(zip(act.entries, act.claimed, strict=True)):
            if mine and entry:
                by_shard.setdefault(act.shards[at], []).append(at)
        admitted: list[tuple[str | None, int] | None] = [None] * len(act.records)
        for shard, ats in by_shard.items():
            keys = self._log(shard)
            bundles = [encode_bundle([act.entries[at] or b""]) for at in ats]
            places = iter(self._admit_one(shard, keys, act.token, bundles))
            for at in ats:
                admitted[at] = next(places)
            touched.add(keys.base + "replicated")
        return admitted

    def _admit_one(
        self, shard: str | None, keys: LogKeys, token: str, bundles: list[bytes]
    ) -> list[tuple[str | None, int]]:
        """One admission script: ``bundles`` into log ``shard`` (or, for a shard, where
        :data:`SHARD_ADMIT_SCRIPT` routes them); ``(shard, index)`` of each, in order."""
        token_key = keys.append_token(token)
        if shard is None:
            first = int(
                self._call(
                    lambda r: self._admit(
                        keys=[keys.size, token_key],
                        args=[keys.entries, ADMIT_TOKEN_TTL_S, *bundles],
                        client=r,
                    )
                )
            )
            return [(None, first + i) for i in range(len(bundles))]
        before, after = self._shard_keys
        out = self._call(
            lambda r: self._admit_shard(
                keys=[self._catalog_key(), token_key],
                args=[shard, ADMIT_TOKEN_TTL_S, before, after, *bundles],
                client=r,
            )
        )
        places: list[tuple[str | None, int]] = []
        for at in range(0, len(out), 3):
            name, first, count = _text(out[at]), int(out[at + 1]), int(out[at + 2])
            places += [(name, first + i) for i in range(count)]
        return places

    def _forget(self, act: _Act) -> None:
        """Step 5: the act is finished; its outbox entry goes, its admission tokens are kept
        :data:`FINISHED_TOKEN_TTL_S` (a drain that read the act before it finished then
        re-admits nothing: the token answers the first index)."""
        self._call(lambda r: r.hdel(self._outbox(_home(act)), act.token))
        shards = {
            act.shards[at]
            for at, (e, c) in enumerate(zip(act.entries, act.claimed, strict=True))
            if e and c
        }
        for shard in shards:
            token_key = self._log(shard).append_token(act.token)
            self._call(lambda r, k=token_key: r.expire(k, FINISHED_TOKEN_TTL_S))

    def _pipelined(self, queue: Callable[[Any], object]) -> list[Any]:
        """The replies of the commands ``queue(pipe)`` puts on one non-transactional
        pipeline (on a cluster, grouped by node and redirected on MOVED/ASK). Only for
        steps whose every command is idempotent and single-key or single-slot, so a
        pipeline cut short by a failure is finished by repeating the step (the drain)."""

        def run(client: Any) -> list[Any]:
            with client.pipeline(transaction=False) as pipe:
                queue(pipe)
                return list(pipe.execute())

        return list(self._call(run))

    def _index(self, pipe: Any, record: CredentialRecord) -> None:
        """Step 3, queued on ``pipe``: the digest and subject indexes (each write
        idempotent)."""
        pipe.set(self._digest_key(record.digest), record.id, nx=True)
        if record.subject_id is not None:
            subject = self._subject_key(record.subject_id)
            pipe.execute_command("EVAL", _ADD_ONCE, 1, subject, record.id)

    def _settle(self, pipe: Any, record: CredentialRecord, claim: bytes) -> None:
        """Step 4, queued on ``pipe``: the claim becomes the record, atomically in its
        bucket (:data:`_SETTLE`: a key that no longer holds our claim is left alone --
        settled already, by another drain)."""
        key = self.credential_key(record.id)
        ids = self._ids_key(bucket_of(record.id))
        pipe.execute_command("EVAL", _SETTLE, 2, key, ids, claim, _dump(record), record.id)

    def _replicated(self, fences: set[str]) -> None:
        """``WAIT`` for ``min_replicas`` on each master holding one of ``fences``."""
        min_replicas, timeout_ms = self._replicas()
        if min_replicas <= 0:
            return
        nodes: dict[str, str] = {}
        for fence in sorted(fences):
            node = self._client.get_node_from_key(fence)  # type: ignore[union-attr]
            nodes.setdefault(getattr(node, "name", fence), fence)
        for fence in nodes.values():
            wait_for_replicas(self._client, fence, min_replicas, timeout_ms, self._retry_after)

    def drain_outbox(self, older_than_s: float = 0.0) -> int:
        """Finish every act in flight whose intent is older than ``older_than_s`` seconds
        (a writer that died or was refused mid-way); how many were finished. Safe while
        the writers run: every step is idempotent."""
        finished = 0
        now = time.time()
        for bucket in range(SPREAD_BUCKETS):
            pending = self._call(lambda r, b=bucket: r.hgetall(self._outbox(b)))
            for token, raw in pending.items():
                act = _Act.from_json(_text(token) or "", raw)
                if now - act.at < older_than_s:
                    continue
                self._decide_claims(act)
                if not self._call(lambda r, a=act: r.hexists(self._outbox(_home(a)), a.token)):
                    continue  # its writer finished it meanwhile
                self._finish(act, set())
                finished += 1
        return finished

    def _decide_claims(self, act: _Act) -> None:
        """For a drain: decide the claims the writer had not recorded (ours if the key
        holds our claim or is free, else another act's)."""
        if all(c is not None for c in act.claimed):
            return
        claim = CLAIM + act.token.encode()
        for i, record in enumerate(act.records):
            if act.claimed[i] is None:
                key = self.credential_key(record.id)
                self._call(lambda r, k=key: r.set(k, claim, nx=True))
                act.claimed[i] = self._call(lambda r, k=key: r.get(k)) == claim
        self._update_outbox(act)

    def _update_outbox(self, act: _Act) -> None:
        """Record ``act``'s claims in its outbox entry -- only while the entry exists: an act
        finished meanwhile (its entry deleted) must not come back."""
        outbox = self._outbox(_home(act))

        def body(pipe: Pipeline) -> None:
            if pipe.hexists(outbox, act.token):
                pipe.multi()
                pipe.hset(outbox, act.token, act.to_json())

        transact(self._client, [outbox], body, self._retry_after)

    # -- reads ------------------------------------------------------------------------------

    def find_credential(self, credential_id: str) -> CredentialRecord | None:
        """The settled record, or ``None`` (absent, or still in flight)."""
        raw = self._call(lambda r: r.get(self.credential_key(credential_id)))
        return _settled(raw)

    def find_credential_by_digest(self, digest: bytes) -> CredentialRecord | None:
        """The first settled credential stored with ``digest``."""
        first = _text(self._call(lambda r: r.get(self._digest_key(digest))))
        return None if first is None else self.find_credential(first)

    def credentials_of_subject(self, subject_id: str) -> list[CredentialRecord]:
        """The subject's settled credentials, in issuance order."""
        ids = self._call(lambda r: r.lrange(self._subject_key(subject_id), 0, -1))
        keys = [self.credential_key(_text(i) or "") for i in ids]
        raws = self._call(lambda r: r.mget_nonatomic(keys)) if keys else []
        found = [c for c in map(_settled, raws) if c is not None]
        return sorted(found, key=lambda c: c.issued_at)

    def count_credentials(self) -> int:
        """Settled credentials, summed over the buckets (one pipelined round)."""

        def count(r: Any) -> int:
            with r.pipeline(transaction=False) as pipe:
                for bucket in range(SPREAD_BUCKETS):
                    pipe.scard(self._ids_key(bucket))
                return sum(int(n) for n in pipe.execute())

        return int(self._call(count))

    def iter_credentials(self) -> Iterator[CredentialRecord]:
        """Every settled credential, bucket by bucket (``SSCAN`` then ``MGET`` in a slot)."""
        for bucket in range(SPREAD_BUCKETS):
            ids_key = self._ids_key(bucket)
            ids = self._call(lambda r, k=ids_key: list(r.sscan_iter(k, count=1000)))
            for at in range(0, len(ids), 500):
                keys = [self.credential_key(_text(i) or "") for i in ids[at : at + 500]]
                raws = self._call(lambda r, k=keys: r.execute_command("MGET", *k))
                for raw in raws:
                    record = _settled(raw)
                    if record is not None:
                        yield record

    def pending(self) -> int:
        """Acts in flight (outbox entries), summed over the buckets."""

        def count(r: Any) -> int:
            with r.pipeline(transaction=False) as pipe:
                for bucket in range(SPREAD_BUCKETS):
                    pipe.hlen(self._outbox(bucket))
                return sum(int(n) for n in pipe.execute())

        return int(self._call(count))


def _settled(raw: bytes | str | None) -> CredentialRecord | None:
    if raw is None:
        return None
    data = raw.encode() if isinstance(raw, str) else raw
    return None if data.startswith(CLAIM) else _load(CredentialRecord, data)


def _home(act: _Act) -> int:
    """The bucket of an act's outbox entry (its first record's)."""
    return bucket_of(act.records[0].id)
