"""One batch's verifier: the single route's checks, each store read made once a batch.

``POST /credentials/verify/batch`` judges every item exactly as ``POST
/credentials/verify`` would (``svc.verification.enveloping.verifier``: Data Integrity and enveloped
credentials, the same extra checks), but most of a batch's store reads repeat: 1,000
credentials from 40 agencies name 40 issuers, their accreditations and their status
lists. :func:`batch_verifier` builds, per batch, a verifier whose extra checks are the
service's own methods (``Services._status``, ``_issuer_trust``, ``_anchor``...) bound to
a view of the services in which ``status`` loads each status list once per batch
(:class:`BatchStatus`). The route builds and runs it inside
:func:`service.request_versions.one_read`, so the trust version and the versions of
every status list the batch's items name are read in one store round trip, and every
item's trust reads (issuer by DID, accreditations, types) answer under that one trust
snapshot from the service's own versioned cache (:mod:`identity.registry.cache`):
read from the store once, then kept across batches and single requests until the
trust version moves.

Every other attribute is the service's own, so no check is written twice. The batch
sees the store as it was when its versions were read: a revocation committed while a
batch runs is seen by the next batch (stale bound: the batch's own duration). Only
successful list loads are kept; a failed one (a missing list, a fetch that needs the
network) is made again by the next item that needs it, so errors are the single
route's and :class:`service.offline.NeedsNetwork` still moves the item to a thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import orjson

from identity.canonical import check_depth, parse_json
from identity.credentials.status import StatusList, check_status
from identity.credentials.verifier import ExtraCheck, Verifier
from identity.jose.vcjose import EnvelopingVerifier
from service.composition.verification import ServiceChecks
from service.container import Services


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
    """``issuance`` with the batch's ``status``; anything else is its own."""

    def __init__(self, issuance: Any, status: BatchStatus) -> None:
        self._issuance = issuance
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


def batch_verifier(svc: Services) -> EnvelopingVerifier:
    """A verifier for one batch: ``svc.verification.enveloping.verifier``'s checks over the batch's
    reads (see the module docstring). Build one per batch, and use it inside the batch's
    :func:`service.request_versions.one_read` (outside it every item would read the
    versions again); never keep it."""
    view = _BatchView(svc.issuance, BatchStatus(svc.issuance.status.load))
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


__all__ = ["BatchStatus", "batch_verifier", "parse_batch"]
