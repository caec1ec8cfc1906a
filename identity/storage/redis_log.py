"""Redis :class:`~identity.log.store.LogStore`: several sequencer processes share one log.

Layout (every key starts with ``<prefix>log:``; the names are made in one place,
:mod:`identity.storage.redis_log_keys`):

* ``meta`` -- hash: ``origin``, ``public_key``, ``checkpoint``;
* ``size`` -- the entry counter; ``entries:<n>`` -- entries ``256·n …`` as one tlog-tiles
  entry bundle (uint16 length ‖ bytes, appended in index order);
* ``tile:<level>:<n>`` -- stored hashes ``256·n …`` of tree ``level``, concatenated (8 KiB
  when full: at levels ``8·L`` these *are* the tlog tiles); ``levels`` -- hash: how many
  hashes each level holds;
* ``leaves`` -- hash: leaf hash → lowest index with it (for :meth:`find_leaf`).

Atomicity: :meth:`append_entries` is one Lua script (``INCRBY`` the counter by the batch
size, then append the batch, sent as one bundle, to the entry chunks it spans), so
concurrent appenders from any number of processes get disjoint, gap-free index ranges.
:meth:`integrate` is one Lua script that compares the stored checkpoint with
``expected``, checks every run starts where its level ends, and only then writes (a Lua
error would not roll back, so all checks come first).
:meth:`open` is one script too. Each append call carries a random token (key
``append:<token>``, kept 10 minutes) so a retry of the same call after a lost reply
returns the first index of the batch already stored instead of appending it twice.
Redis logs a script's writes to the AOF and replicas as one ``MULTI``/``EXEC`` block, and
drops an incomplete block when it reloads the AOF.

Durability: as :mod:`identity.storage.redis` -- an acknowledged append survives a host
crash only with ``appendonly yes`` and ``appendfsync always``; ``everysec`` may lose about
the last second. The scripts touch keys they do not declare; on a Redis Cluster that is
allowed because every log key carries the prefix's hash tag (one slot,
:func:`~identity.storage.redis_cluster.key_prefix`). Redis failures surface as
:class:`UnavailableError`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

import redis

from identity.errors import ConflictError, LogIntegrityError, MalformedValueError, NotFoundError
from identity.log.hashing import HASH_SIZE
from identity.log.proofs import Address
from identity.log.tiles import TILE_HEIGHT, TILE_WIDTH, decode_bundle, encode_bundle
from identity.log.tree import NodeRun
from identity.storage.redis import check_client, unavailable_on_error
from identity.storage.redis_cluster import key_prefix
from identity.storage.redis_log_keys import (
    APPEND_BUNDLE_SCRIPT,
    APPEND_TOKEN_TTL_S,
    LogKeys,
    log_keys,
)

CHUNK_BYTES = TILE_WIDTH * HASH_SIZE

_OPEN = """
local origin = redis.call('HGET', KEYS[1], 'origin')
if not origin then
  redis.call('HSET', KEYS[1], 'origin', ARGV[1], 'public_key', ARGV[2])
  return 1
end
if origin == ARGV[1] and redis.call('HGET', KEYS[1], 'public_key') == ARGV[2] then
  return 1
end
return 0
"""


_INTEGRATE = """
local stored = redis.call('HGET', KEYS[1], 'checkpoint')
if (ARGV[1] == '0' and stored) or (ARGV[1] == '1' and stored ~= ARGV[2]) then
  return {'conflict'}
end
local counts = {}
for i = 5, #ARGV, 3 do
  local level = ARGV[i]
  local count = counts[level] or tonumber(redis.call('HGET', KEYS[2], level) or '0')
  if tonumber(ARGV[i + 1]) ~= count or #ARGV[i + 2] % 32 ~= 0 then
    return {'gap', level}
  end
  counts[level] = count + #ARGV[i + 2] / 32
end
for i = 5, #ARGV, 3 do
  local level, start, data = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local n, at = #data / 32, 0
  while at < n do
    local chunk = math.floor((start + at) / 256)
    local take = math.min(n - at, (chunk + 1) * 256 - (start + at))
    redis.call('APPEND', ARGV[4] .. level .. ':' .. string.format('%d', chunk),
               string.sub(data, at * 32 + 1, (at + take) * 32))
    at = at + take
  end
  redis.call('HSET', KEYS[2], level, string.format('%d', start + n))
  if level == '0' then
    for j = 0, n - 1 do
      redis.call('HSETNX', KEYS[3], string.sub(data, j * 32 + 1, j * 32 + 32),
                 string.format('%d', start + j))
    end
  end
end
redis.call('HSET', KEYS[1], 'checkpoint', ARGV[3])
return {'ok'}
"""


class RedisLogStore:
    """A log store in Redis under ``prefix``; thread-safe (redis-py pools connections)."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "identity:",
        *,
        retry_after: int = 1,
        cache_chunks: int = 8192,
        keys: LogKeys | None = None,
    ) -> None:
        check_client(client)
        self._client = client
        self._keys = keys or log_keys(key_prefix(client, prefix))
        self._retry_after = retry_after
        self._open = client.register_script(_OPEN)
        self._append = client.register_script(APPEND_BUNDLE_SCRIPT)
        self._integrate = client.register_script(_INTEGRATE)
        self._cache: dict[str, bytes] = {}
        self._cache_max = cache_chunks
        self._cache_lock = threading.Lock()
        self._owns_client = False

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "identity:", *, socket_timeout: float = 2.0
    ) -> RedisLogStore:
        """A log store on its own client for ``redis://host:port/db``; :meth:`close` closes it."""
        client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        store = cls(client, prefix)
        store._owns_client = True
        return store

    def _tile_key(self, level: int, chunk: int) -> str:
        return self._keys.tile(level, chunk)

    def open(self, origin: str, public_key: bytes) -> None:
        """One Lua script on the meta hash: record ``origin`` and ``public_key`` on first open,
        else ``LogIntegrityError`` unless they are the stored ones."""
        with unavailable_on_error(self._retry_after):
            same = self._open(keys=[self._keys.meta], args=[origin.encode(), bytes(public_key)])
        if not same:
            raise LogIntegrityError("this store holds another log")

    def append_entries(self, entries: Sequence[bytes]) -> int:
        """One Lua script: ``INCRBY`` the size key and ``APPEND`` the entries to their 256-entry
        bundle keys; a one-time token key makes redis-py's retry of the same call return the
        same first index instead of appending twice."""
        bundle = encode_bundle(entries)  # refuses oversize entries up front
        done = self._keys.append_token(uuid.uuid4().hex)  # makes redis-py's retries idempotent
        args: list[str | int | bytes] = [
            self._keys.entries,
            APPEND_TOKEN_TTL_S,
            len(entries),
            bundle,
        ]
        with unavailable_on_error(self._retry_after):
            first = self._append(keys=[self._keys.size, done], args=args)
        return int(first)

    def entry_count(self) -> int:
        """``GET`` of the size key (0 when unset): sequenced entries, integrated or not."""
        with unavailable_on_error(self._retry_after):
            return int(self._client.get(self._keys.size) or 0)

    def read_entries(self, start: int, end: int) -> list[bytes]:
        """One ``MGET`` of the size key and the bundles covering ``[start, end)`` (a snapshot);
        ``NotFoundError`` past the size, ``LogIntegrityError`` for a damaged bundle."""
        if not 0 <= start <= end:
            raise NotFoundError("entries not sequenced", start=start, end=end)
        chunks = range(start // TILE_WIDTH, (end - 1) // TILE_WIDTH + 1) if end > start else []
        keys = [self._keys.size] + [self._keys.entry_bundle(c) for c in chunks]
        with unavailable_on_error(self._retry_after):
            size_raw, *blobs = self._client.mget(keys)  # one atomic snapshot
        size = int(size_raw or 0)
        if end > size:
            raise NotFoundError("entries not sequenced", start=start, end=end)
        out: list[bytes] = []
        for chunk, blob in zip(chunks, blobs, strict=True):
            count = min(size, (chunk + 1) * TILE_WIDTH) - chunk * TILE_WIDTH
            try:
                out += decode_bundle(bytes(blob or b""), count)  # type: ignore[arg-type]
            except MalformedValueError as exc:
                raise LogIntegrityError("a stored entry bundle is damaged", chunk=chunk) from exc
        first = start - chunks[0] * TILE_WIDTH if chunks else 0
        return out[first : first + end - start]

    def _chunks(self, keys: set[str]) -> dict[str, bytes]:
        with self._cache_lock:
            found = {k: self._cache[k] for k in keys if k in self._cache}
        missing = sorted(keys - found.keys())
        if not missing:
            return found
        with unavailable_on_error(self._retry_after):
            blobs = self._client.mget(missing)
        with self._cache_lock:
            for key, blob in zip(missing, blobs, strict=True):
                found[key] = data = bytes(blob or b"")  # type: ignore[arg-type]
                if len(data) == CHUNK_BYTES:  # a full chunk never changes again
                    if len(self._cache) >= self._cache_max:
                        self._cache.pop(next(iter(self._cache)))
                    self._cache[key] = data
        return found

    def read_nodes(self, addresses: Sequence[Address]) -> list[bytes]:
        """The hashes from their 256-hash tile keys (full ones cached; the rest one ``MGET``);
        ``LogIntegrityError`` for any hash not stored."""
        chunks = self._chunks({self._tile_key(lvl, i >> TILE_HEIGHT) for lvl, i in addresses})
        out = []
        for level, index in addresses:
            blob = chunks[self._tile_key(level, index >> TILE_HEIGHT)]
            at = (index % TILE_WIDTH) * HASH_SIZE
            if index < 0 or at + HASH_SIZE > len(blob):
                raise LogIntegrityError("a needed stored hash is missing", level=level, index=index)
            out.append(blob[at : at + HASH_SIZE])
        return out

    def read_hash_tile(self, level: int, index: int) -> bytes:
        """The stored tile key ``(level, index)``: up to 256 hashes, ``b""`` if none."""
        key = self._tile_key(level, index)
        return self._chunks({key})[key]

    def find_leaf(self, leaf_hash: bytes, below: int) -> int | None:
        """``HGET`` of the leaves hash (set ``HSETNX`` on integrate: the lowest index wins);
        ``None`` unless that index is below ``below``."""
        with unavailable_on_error(self._retry_after):
            index = self._client.hget(self._keys.leaves, leaf_hash)
        return None if index is None or int(index) >= below else int(index)

    def stored_counts(self) -> dict[int, int]:
        """``HGETALL`` of the ``levels`` counters the integrate script keeps."""
        with unavailable_on_error(self._retry_after):
            raw = self._client.hgetall(self._keys.levels)
        return {int(level): int(count) for level, count in raw.items()}

    def latest_checkpoint(self) -> bytes | None:
        """The ``checkpoint`` field of the meta hash, or ``None`` before the first integrate."""
        with unavailable_on_error(self._retry_after):
            raw = self._client.hget(self._keys.meta, "checkpoint")
        return None if raw is None else bytes(raw)  # type: ignore[arg-type]

    def integrate(self, expected: bytes | None, checkpoint: bytes, runs: Sequence[NodeRun]) -> None:
        """One Lua script (atomic): CAS on the stored checkpoint (``ConflictError``), check each
        run starts at its level's count (``LogIntegrityError`` on a gap) before writing any,
        then ``APPEND`` the hashes, bump ``levels``, index new leaves, store ``checkpoint``."""
        args: list[bytes | str | int] = [
            "0" if expected is None else "1",
            expected or b"",
            checkpoint,
            self._keys.tiles,
        ]
        for level, start, data in runs:
            args += [level, start, data]
        keys = [self._keys.meta, self._keys.levels, self._keys.leaves]
        with unavailable_on_error(self._retry_after):
            outcome = self._integrate(keys=keys, args=args)
        if outcome[0] == b"conflict":
            raise ConflictError("the log's checkpoint moved on; reload and retry")
        if outcome[0] == b"gap":
            raise LogIntegrityError("stored hashes must grow contiguously", level=int(outcome[1]))

    def close(self) -> None:
        """Close the client only if this store made it (:meth:`from_url`)."""
        if self._owns_client:
            with unavailable_on_error(self._retry_after):
                self._client.close()
