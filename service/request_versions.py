"""One store round trip for every version a verification reads (issue #15).

A verification keys its caches on versions: the trust version (API keys, issuers,
accreditations: :class:`identity.registry.cache.VersionedCache`) and one version per
status list of this service it checks (:class:`service.status.StatusLists`). Read one by
one, on Redis each is a blocking round trip on the event loop. Here the request names
the status lists its credential(s) point to before any check runs
(:meth:`StatusLists.lists_named`), and the first version the request needs -- the
verifier key's trust snapshot, or a status list's version -- reads them all with one
:meth:`identity.stores.VersionReads.read_versions` call.

Stale bound: zero, as before. The read happens inside the request, at its first use,
before any record it versions is read, so no answer is older than the store's state at
that moment (a revocation committed on any replica before the request began is seen).
A status list the request did not name (an enveloped credential, whose entries are
inside its token) is read alone, as before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from identity.errors import NotFoundError
from identity.stores import StoreVersions, VersionReads

if TYPE_CHECKING:
    from service.container import Services


class RequestVersions:
    """The versions one request (or one batch) reads, read together at the first use."""

    __slots__ = ("_lists", "_read", "_store")

    def __init__(self, store: VersionReads, lists: Collection[tuple[str, str]]) -> None:
        self._store = store
        self._lists = frozenset(lists)
        self._read: StoreVersions | None = None

    def read(self) -> StoreVersions:
        """Every version, from one ``read_versions`` call made at the first use."""
        if self._read is None:
            self._read = self._store.read_versions(self._lists)
        return self._read

    def trust(self) -> int:
        """The trust version (the trust cache's reader inside :func:`one_read`)."""
        return self.read().trust

    def status(self, lists: Sequence[tuple[str, str]]) -> list[int] | None:
        """The versions of ``lists`` (stored ``(group, purpose)``), or ``None`` when one
        of them was not named (the caller then reads them alone);
        :class:`NotFoundError` for a named list the store does not hold."""
        if not all(key in self._lists for key in lists):
            return None
        found = self.read().status
        try:
            return [found[key] for key in lists]
        except KeyError as exc:
            group, purpose = exc.args[0]
            raise NotFoundError("no such status list", group=group, purpose=purpose) from None


_BOUND: ContextVar[RequestVersions | None] = ContextVar("identity_request_versions", default=None)


def bound_versions() -> RequestVersions | None:
    """The versions bound to this context by :func:`one_read`, if any."""
    return _BOUND.get()


@contextmanager
def one_read(svc: Services, lists: Collection[tuple[str, str]]) -> Iterator[RequestVersions]:
    """Within the block (a request that only reads: verification), the trust snapshot and
    the versions of ``lists`` come from one store round trip, at the first use."""
    versions = RequestVersions(svc.store, lists)
    token = _BOUND.set(versions)
    try:
        with svc.trust.one_snapshot(versions.trust):
            yield versions
    finally:
        _BOUND.reset(token)
