"""Everything one running service holds, built from settings at start-up (never at import).

:class:`Services` is the one composition root: the settings, the store, the clock and
the DID directory, plus four cohesive groups each built by its own function
(service/composition/): the log side, issuance, verification and access."""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from identity.canonical import parse_json
from identity.clock import Clock, SystemClock
from identity.directory_store import DirectoryStore
from identity.errors import MalformedValueError, PayloadTooLargeError, UnsupportedMediaTypeError
from identity.log.store import LogStore
from identity.registry.trust import TrustRegistry
from identity.stores import Store
from service.auth import CitizenTokens, identify
from service.composition.access import Access, build_access
from service.composition.issuance import Issuance, build_issuance
from service.composition.log_side import LogSide, build_log_side
from service.composition.verification import Verification, build_proofs, build_verification
from service.settings import Settings
from service.storage import open_directory_store, open_store, share_memory_log


@dataclass(frozen=True)
class Services:
    """The running service: what every group shares (settings, store, clock, directory)
    and the groups themselves. Built by :meth:`build`; :meth:`start` and :meth:`aclose`
    delegate to the groups that hold running parts."""

    settings: Settings
    store: Store
    clock: Clock
    directory: DirectoryStore
    logs: LogSide
    """The log, its anchors, the record writer and the log's health (composition/log_side.py)."""
    issuance: Issuance
    """Keys, issuer, status lists, trust registry, SD-JWT VCs, wallet (composition/issuance.py)."""
    verification: Verification
    """Cryptosuites, DID resolvers, the verifier, envelopes (composition/verification.py)."""
    access: Access
    """Admin and citizens' tokens, challenges, rate limit, locks (composition/access.py)."""

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        log_store: LogStore | None = None,
        directory: DirectoryStore | None = None,
    ) -> Services:
        """Compose the service from ``settings``; the keyword arguments replace the
        clock and the stores that would otherwise be opened from the settings."""
        clock = clock or SystemClock()
        store = store or open_store(settings)
        directory = directory or open_directory_store(settings)
        log_store = share_memory_log(store, directory, log_store)
        # Read once: in development each read also logs the loud warning.
        master_secret = settings.master_secret_bytes()
        logs = build_log_side(settings, master_secret, store, log_store, clock)
        proofs = build_proofs(settings, store, clock, directory)
        access = build_access(settings, store, clock, master_secret)
        issuance = build_issuance(
            settings,
            store,
            clock,
            master_secret,
            logs,
            proofs.registry,
            proofs.resolver,
            proofs.contexts,
        )
        verification = build_verification(settings, store, clock, proofs, issuance, logs.anchors)
        return cls(settings, store, clock, directory, logs, issuance, verification, access)

    # The three properties below make Services a :class:`service.auth.Known`.
    @property
    def admin_token(self) -> str:
        """The operator's token (``access.admin_token``), for :func:`identify`."""
        return self.access.admin_token

    @property
    def tokens(self) -> CitizenTokens:
        """Citizens' tokens (``access.tokens``), for :func:`identify`."""
        return self.access.tokens

    @property
    def trust(self) -> TrustRegistry:
        """The trust registry (``issuance.trust``), for :func:`identify`'s API keys."""
        return self.issuance.trust

    def whole_seconds(self) -> datetime:
        """Now, to the second: the precision of log entry times."""
        return self.clock.now().replace(microsecond=0)

    async def start(self) -> None:
        """Start the log side (refuses a store of another log) -- needs the running loop."""
        await self.logs.start()
        # Everything built so far (contexts, schemas, routes, caches) lives as long as
        # the service: the collector need not scan it on every full collection
        # (:meth:`aclose` hands it back, so an app built and closed in a test leaks none).
        gc.freeze()

    def limit_anonymous(self, request: Request) -> None:
        """Rate-limit anonymous verification; verifier API keys pass freely.

        A bearer credential that is present but wrong, expired or revoked is refused
        (401, ``AuthenticationError``) as on every other route, never read as anonymous;
        a valid credential of another role (an agency key, a citizen) is rate-limited as
        anonymous callers are."""
        if identify(request, self).role != "verifier":
            self.access.limiter.check(request.client.host if request.client else "unknown")

    async def aclose(self) -> None:
        """Stop and close everything, in the order that keeps the log consistent."""
        gc.unfreeze()
        await self.logs.stop_health()
        await self.logs.stop()
        await self.issuance.wallet.stop()
        self.directory.close()
        self.issuance.close()  # issue #14
        self.store.close()


async def services(request: Request) -> Services:
    """Async on purpose: a sync dependency would cost a thread-pool hop per request."""
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(services)]
"""FastAPI dependency: the running app's :class:`Services`."""


_JSON_MEDIA_TYPE = re.compile(r"^application/([A-Za-z0-9!#$&^_.+-]+\+)?json$")


def require_json_media_type(request: Request) -> None:
    """415 unless the body is declared ``application/json`` or ``application/*+json``
    (RFC 8259 §11, RFC 6839 §3.1); parameters such as ``charset`` are ignored. A body
    without a Content-Type is refused too: the service never sniffs."""
    declared = request.headers.get("content-type", "")
    media_type = declared.partition(";")[0].strip().lower()
    if not _JSON_MEDIA_TYPE.match(media_type):
        raise UnsupportedMediaTypeError(
            "the body must be sent as Content-Type: application/json",
            media_type=media_type[:100],
        )


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, read as it streams, or ``None`` as soon as more than ``limit``
    bytes arrived: the rest is never read, so a huge body (chunked: no Content-Length to
    refuse it by) costs at most ``limit`` plus one chunk of memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    """The body as strict I-JSON, declared as JSON, within the size and depth limits
    from settings."""
    require_json_media_type(request)
    limit = request.app.state.services.settings.max_body_bytes
    raw = await read_capped(request, limit)
    if raw is None:
        raise PayloadTooLargeError(f"request body exceeds {limit} bytes", limit=limit)
    return _strict_json(request, raw)


def parse_body(request: Request, raw: bytes) -> Any:
    """``raw``, a body already read within the size limit, as strict I-JSON declared as
    JSON, within the depth limit from settings."""
    require_json_media_type(request)
    return _strict_json(request, raw)


def _strict_json(request: Request, raw: bytes) -> Any:
    settings: Settings = request.app.state.services.settings
    return parse_json(raw, max_depth=settings.max_json_depth)


def require_object(value: Any, name: str) -> dict[str, Any]:
    """``value`` when it is a JSON object; otherwise :class:`MalformedValueError` naming
    ``name`` as the field."""
    if not isinstance(value, dict):
        raise MalformedValueError(f"{name} must be a JSON object", field=name)
    return value
