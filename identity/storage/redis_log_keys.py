"""Every Redis key of the transparency log, in one place.

:class:`~identity.storage.redis_log.RedisLogStore` and the record stores that admit acts
into the log (:mod:`identity.storage.redis_base`) both name keys only through
:func:`log_keys`. The Lua scripts of :mod:`identity.storage.redis_log` build the
per-chunk names from the prefixes passed to them (``entries`` and ``tiles``), so a
change of layout -- a Redis Cluster hash tag in the prefix, say -- is made here.
"""

from __future__ import annotations

from dataclasses import dataclass

LOG_NAMESPACE = "log:"
"""Where the log lives under the operator's key prefix."""


@dataclass(frozen=True, slots=True)
class LogKeys:
    """The log's key names under one prefix (``<prefix>log:…``)."""

    base: str

    @property
    def meta(self) -> str:
        """Hash: ``origin``, ``public_key``, ``checkpoint``."""
        return self.base + "meta"

    @property
    def size(self) -> str:
        """The entry counter (the next index)."""
        return self.base + "size"

    @property
    def levels(self) -> str:
        """Hash: level -> how many hashes it holds."""
        return self.base + "levels"

    @property
    def leaves(self) -> str:
        """Hash: leaf hash -> lowest index with it."""
        return self.base + "leaves"

    @property
    def entries(self) -> str:
        """Prefix of the entry bundles; :meth:`entry_bundle` names one."""
        return self.base + "entries:"

    @property
    def tiles(self) -> str:
        """Prefix of the stored-hash chunks; :meth:`tile` names one."""
        return self.base + "tile:"

    def entry_bundle(self, chunk: int) -> str:
        """Entries ``256·chunk …`` as one tlog-tiles bundle."""
        return f"{self.entries}{chunk}"

    def tile(self, level: int, chunk: int) -> str:
        """Stored hashes ``256·chunk …`` of tree ``level``."""
        return f"{self.tiles}{level}:{chunk}"

    def append_token(self, token: str) -> str:
        """The first index of an append call, kept so a retried call is not applied twice."""
        return f"{self.base}append:{token}"


def log_keys(prefix: str) -> LogKeys:
    """The log's keys under the operator's ``prefix`` (e.g. ``identity:``)."""
    return LogKeys(prefix + LOG_NAMESPACE)


SHARD_NAMESPACE = "shard/"
"""Where the shards of a sharded log live under the operator's key prefix."""


def shard_log_keys(tagged: str, shard: str | None) -> LogKeys:
    """The log keys of ``shard`` (``None``: the unsharded log) under the operator's prefix
    as the stores really write it (``tagged``: ``identity:``, or ``{identity}:`` on a
    cluster, :func:`~identity.storage.redis_cluster.key_prefix`): ``identity:shard/2026:log:…``
    standalone, ``{identity}:shard/2026:log:…`` on a cluster -- every shard in the slot of
    the records whose acts admit their entries into it in their own transaction (issue
    #12), as the unsharded log is."""
    if shard is None:
        return log_keys(tagged)
    return LogKeys(f"{tagged}{SHARD_NAMESPACE}{shard}:{LOG_NAMESPACE}")


def shard_catalog_key(prefix: str) -> str:
    """The hash of a sharded log's catalog (name → record), under the (tagged) prefix."""
    return prefix + LOG_NAMESPACE + "shards"


APPEND_SCRIPT = """
local done = redis.call('GET', KEYS[2])
if done then
  return tonumber(done)
end
local n = #ARGV - 2
local first = redis.call('INCRBY', KEYS[1], n) - n
for i = 3, #ARGV do
  local chunk = math.floor((first + i - 3) / 256)
  redis.call('APPEND', ARGV[1] .. string.format('%d', chunk), ARGV[i])
end
redis.call('SET', KEYS[2], string.format('%d', first), 'EX', tonumber(ARGV[2]))
return first
"""
"""Append entries ``ARGV[3…]`` (framed bundles) under the size counter ``KEYS[1]`` and the
entry chunks prefixed ``ARGV[1]``, once per token ``KEYS[2]``, remembered ``ARGV[2]``
seconds: a retry with the same token gets the same first index, so indices are
disjoint and gap-free. Here, beside the key layout it writes, for both appenders: the log store
(:mod:`identity.storage.redis_log`) and the cluster's act admission
(:mod:`identity.storage.redis_spread`)."""
APPEND_TOKEN_TTL_S = 600
"""How long an append's token is remembered: far longer than redis-py's retries take."""


APPEND_BUNDLE_SCRIPT = """
local done = redis.call('GET', KEYS[2])
if done then
  return tonumber(done)
end
local n, blob = tonumber(ARGV[3]), ARGV[4]
local pos, ends = 1, {}
for i = 1, n do
  if pos + 1 > #blob then
    return redis.error_reply('ERR the bundle holds fewer entries than announced')
  end
  local hi, lo = string.byte(blob, pos, pos + 1)
  pos = pos + 2 + hi * 256 + lo
  ends[i] = pos
end
if pos ~= #blob + 1 then
  return redis.error_reply('ERR the bundle does not end with its last entry')
end
local first = redis.call('INCRBY', KEYS[1], n) - n
local i, from = 1, 1
while i <= n do
  local chunk = math.floor((first + i - 1) / 256)
  local last = math.min(n, (chunk + 1) * 256 - first)
  local key = ARGV[1] .. string.format('%d', chunk)
  redis.call('APPEND', key, string.sub(blob, from, ends[last] - 1))
  from = ends[last]
  i = last + 1
end
redis.call('SET', KEYS[2], string.format('%d', first), 'EX', tonumber(ARGV[2]))
return first
"""
""":data:`APPEND_SCRIPT` with the entries as ONE tlog-tiles bundle: ``ARGV[3]`` entries
in ``ARGV[4]`` (uint16 length ‖ bytes each), checked whole before anything is written,
then appended to each entry chunk as one slice instead of one ``APPEND`` per entry. The
chunks hold the same bytes as :data:`APPEND_SCRIPT` writes (proved by
``tests/storage/test_redis_log_fast.py``); the client sends one argument instead of one
per entry (the per-argument packing was most of the log store's Python time)."""
