"""One batch's verifier: the single route's checks, each store read made once a batch.

``POST /credentials/verify/batch`` judges every item exactly as ``POST
/credentials/verify`` would (``svc.verification.enveloping.verifier``: Data Integrity and enveloped
credentials, the same extra checks), but most of a batch's store reads repeat: 1,000
credentials from 40 agencies name 40 issuers, their accreditations and their status
lists. :func:`batch_verifier` builds, per batch, a verifier whose extra checks are the
service's own methods (``Services._status``, ``_issuer_trust``, ``_anchor``...) bound to
a view of the services in which

- ``trust`` is a :class:`~identity.registry.trust.TrustRegistry` over
  :class:`BatchReads`: issuer by DID, accreditations, types, read once per batch;
- ``status`` loads each status list once per batch (:class:`BatchStatus`);
- the trust version and the versions of every status list the batch's items name are
  read in one store round trip (the route's :func:`service.request_versions.one_read`).

Every other attribute is the service's own, so no check is written twice. The batch
sees the store as it was when each read was first made: a revocation committed while
a batch runs is seen by the items read after it, or by the next batch (stale bound:
the batch's own duration). Only successful reads are kept; a failed read (a missing
list, a fetch that needs the network) is made again by the next item that needs it,
so errors are the single route's and :class:`service.offline.NeedsNetwork` still moves
the item to a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import orjson

from identity.canonical import check_depth, parse_json
from identity.credentials.status import StatusList, check_status
from identity.credentials.verifier import ExtraCheck, Verifier
from identity.jose.vcjose import EnvelopingVerifier
from identity.registry.accreditation import Accreditation
from identity.registry.trust import TrustRegistry
from identity.registry.types import CredentialType
from identity.stores import IssuerRecord, Store
from service.composition.verification import ServiceChecks
from service.container import Services
from service.request_versions import RequestVersions


class BatchReads:
    """The store's trust reads, each key read once (read-through; only found values of
    ``find_*`` and successful reads are kept). Every other store method is the store's."""

    def __init__(self, store: Store, trust_version: Callable[[], int] | None = None) -> None:
        self._store = store
        self._trust_version = trust_version or store.trust_version
        self._memo: dict[tuple[str, str], Any] = {}

    def _once(self, kind: str, key: str, read: Callable[[str], Any]) -> Any:
        slot = (kind, key)
        try:
            return self._memo[slot]
        except KeyError:
            value = self._memo[slot] = read(key)
            return value

    def find_issuer_by_did(self, did: str) -> IssuerRecord | None:
        """The store's answer, read once a batch (absent issuers too: a batch is one view)."""
        found: IssuerRecord | None = self._once("did", did, self._store.find_issuer_by_did)
        return found

    def get_issuer(self, issuer_id: str) -> IssuerRecord:
        """The store's record (NotFoundError as the store raises it, not remembered)."""
        found: IssuerRecord = self._once("issuer", issuer_id, self._store.get_issuer)
        return found

    def accreditations_of(self, issuer_id: str) -> list[Accreditation]:
        """The issuer's accreditations, read once a batch."""
        found: list[Accreditation] = self._once(
            "accreditations", issuer_id, self._store.accreditations_of
        )
        return found

    def get_accreditation(self, accreditation_id: str) -> Accreditation:
        """One accreditation (a delegation's parent), read once a batch."""
        found: Accreditation = self._once(
            "accreditation", accreditation_id, self._store.get_accreditation
        )
        return found

    def find_type(self, name: str) -> CredentialType | None:
        """A registered type, read once a batch."""
        found: CredentialType | None = self._once("type", name, self._store.find_type)
        return found

    def trust_version(self) -> int:
        """The store's trust version, read once a batch: the batch's trust registry then
        takes every item's snapshot under it instead of one store read an item (the
        records it reads are read once a batch anyway, so a version that grew mid-batch
        changed nothing but a store round trip)."""
        version: int = self._once("version", "", lambda _: self._trust_version())
        return version

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class BatchStatus:
    """``Services.status`` for one batch: ``check`` loads each list URL once."""

    def __init__(self, load: Callable[[str], StatusList]) -> None:
        self._load = load
        self._lists: dict[str, StatusList] = {}

    def load(self, url: str) -> StatusList:
        """The service's list at ``url``, loaded once a batch (failures are not kept)."""
        listed = self._lists.get(url)
        if listed is None:
            listed = self._lists[url] = self._load(url)
        return listed

    def check(self, credential: dict[str, Any], issuer: str) -> dict[str, Any] | None:
        """``StatusLists.check`` over the batch's lists."""
        return check_status(credential, issuer, self.load)


class _BatchView:
    """``issuance`` with the batch's ``trust`` and ``status``; anything else is its own."""

    def __init__(self, issuance: Any, trust: TrustRegistry, status: BatchStatus) -> None:
        self._issuance = issuance
        self.trust = trust
        self.status = status

    def __getattr__(self, name: str) -> Any:
        return getattr(self._issuance, name)


def _rebound(check: ExtraCheck, view: _BatchView) -> ExtraCheck:
    """``check`` with a method of the service's checks bound to checks over ``view``
    instead (others as they are)."""
    name, fn = check
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, ServiceChecks):
        batch_checks: Any = ServiceChecks(owner.store, cast(Any, view), owner.anchors)
        return name, getattr(batch_checks, fn.__name__)
    return check


def batch_verifier(svc: Services, versions: RequestVersions | None = None) -> EnvelopingVerifier:
    """A verifier for one batch: ``svc.verification.enveloping.verifier``'s checks over the batch's
    reads (see the module docstring). Build one per batch; never keep it. With
    ``versions`` (the batch's :func:`service.request_versions.one_read`), the trust version
    comes from its one read, with the status lists' versions."""
    reads = BatchReads(svc.store, versions.trust if versions is not None else None)
    trust = TrustRegistry(
        reads,
        reads,
        svc.clock,
        schema_base_url=svc.trust.schema_base_url,
        allow_unregistered_types=svc.trust.allow_unregistered,
    )
    view = _BatchView(svc.issuance, trust, BatchStatus(svc.issuance.status.load))
    base = svc.verification.verifier
    checks = [_rebound(check, view) for check in base.extra_checks]
    single = svc.verification.enveloping.verifier
    return EnvelopingVerifier(
        Verifier(base.registry, base.resolver, base.clock, checks),
        anchor=single.anchor,
        jsonld=single.jsonld,
        max_token_bytes=single.max_token_bytes,
        max_depth=single.max_depth,
    )


_OPENERS = bytes(range(256)).translate(None, b"[{")
"""Every byte but ``[`` and ``{``: ``translate(None, _OPENERS)`` keeps only openers."""
_NO_LIMIT = 2**31


def parse_batch(data: bytes, max_depth: int) -> Any:
    """``parse_json(data, max_depth=max_depth)`` -- the same value or the same error --
    without walking a large array's every value for its depth.

    ``parse_json`` skips its depth walk only when the whole body has at most
    ``max_depth`` brackets, never true of a batch. Here the body is parsed without the
    depth limit and the depth is bounded per top-level item instead: an item whose
    compact serialization holds at most ``max_depth - 1`` opening brackets (counting any
    inside strings too) nests at most that deep, so the array at most ``max_depth``.
    Only when an item may be deeper is the whole value walked, with ``parse_json``'s own
    check (its error). tests/service/test_batch_fast.py proves it equal to
    ``parse_json``.
    """
    value = parse_json(data, max_depth=_NO_LIMIT)
    if not isinstance(value, list):
        if isinstance(value, dict):
            check_depth(value, max_depth)
        return value
    if max_depth < 1:
        check_depth(value, max_depth)
    for item in value:
        if isinstance(item, dict | list):
            try:
                openers = len(orjson.dumps(item).translate(None, _OPENERS))
            except orjson.JSONEncodeError:  # nested past orjson's limit: walk it
                openers = _NO_LIMIT
            if openers > max_depth - 1:
                check_depth(value, max_depth)
                break
    return value


__all__ = ["BatchReads", "BatchStatus", "batch_verifier", "parse_batch"]
