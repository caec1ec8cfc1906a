"""Everything one running service holds, built from settings at start-up (never at import)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request

from identity.canonical import parse_json
from identity.clock import Clock, SystemClock
from identity.credentials.issuer import Issuer
from identity.credentials.related import check_related_resources
from identity.credentials.status import StatusMessages
from identity.credentials.verifier import Verified, Verifier
from identity.dids.cityid import METHOD
from identity.dids.cityid_resolver import CityDidResolver
from identity.dids.key import DidKeyResolver
from identity.dids.resolver import MethodResolver
from identity.directory_store import DirectoryStore
from identity.errors import (
    ConflictError,
    LogIntegrityError,
    MalformedProofError,
    MalformedValueError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnavailableError,
    UnsupportedMediaTypeError,
)
from identity.groupcommit import GroupCommit
from identity.jsonld import ContextLoader
from identity.keys import KeySealer
from identity.log.sequencer import TransparencyLog
from identity.log.store import LogStore
from identity.proofs import Cryptosuite, SuiteRegistry
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.proofs.suites import default_registry
from identity.registry.trust import TrustRegistry
from identity.registry.types import bundled_types
from identity.storage.memory_log import MemoryLogStore
from identity.stores import Anchor, CredentialRecord, Store
from service.agency_keys import AgencyKeys
from service.auth import CitizenTokens, identify
from service.challenges import Challenges
from service.didweb import web_resolver
from service.enveloped import Enveloping, build_enveloping
from service.locks import KeyedLocks
from service.log import Anchors, build_log, receipt_json, type_anchor
from service.log_health import LogHealthMonitor
from service.log_shards import build_shard_set, open_shard_backend, open_sharded_log, shard_policy
from service.ratelimit import RateLimiter
from service.sdjwt import SdJwtVcService, build_sdjwt
from service.settings import Settings, SettingsError
from service.shard_anchoring import build_shard_anchoring
from service.status import StatusLists
from service.storage import open_directory_store, open_store, share_memory_log
from service.wallet import Wallet, build_wallet

START_ATTEMPTS = 8


@dataclass
class Services:
    settings: Settings
    store: Store
    clock: Clock
    keys: AgencyKeys
    """Agencies' signing keys (service/agency_keys.py)."""
    registry: SuiteRegistry
    resolver: MethodResolver
    verifier: Verifier
    issuer: Issuer
    admin_token: str
    records: GroupCommit[tuple[CredentialRecord, Anchor | None], None]
    log: TransparencyLog
    anchors: Anchors
    directory: DirectoryStore
    cityid: CityDidResolver
    status: StatusLists = field(init=False)
    trust: TrustRegistry = field(init=False)
    tokens: CitizenTokens = field(init=False)
    limiter: RateLimiter = field(init=False)
    wallet: Wallet = field(init=False)
    """The city-hosted wallet (issue #14, service/wallet.py)."""
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    sdjwt: SdJwtVcService = field(init=False)
    """SD-JWT VCs and Token Status Lists (service/sdjwt.py, issue #17)."""
    log_health: LogHealthMonitor | None = None
    """Integration health (``/health``, metrics); set by :meth:`start`."""
    enveloping: Enveloping = field(init=False)
    """VC-JOSE-COSE envelopes (service/enveloped.py)."""
    challenges: Challenges = field(init=False)
    """Single-use, purpose-bound challenges (service/challenges.py)."""

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
        clock = clock or SystemClock()
        store = store or open_store(settings)
        directory = directory or open_directory_store(settings)
        log_store = share_memory_log(store, directory, log_store)
        put = store.put_credentials

        def put_records(items: list[tuple[CredentialRecord, Anchor | None]]) -> list[Any]:
            return list(put([r for r, _ in items], [a for _, a in items]))

        records: GroupCommit[tuple[CredentialRecord, Anchor | None], None] = GroupCommit(
            put_records, max_batch=settings.log_batch_size
        )
        # Read once: in development each read also logs the loud warning.
        master_secret = settings.master_secret_bytes()
        log = build_log(settings, master_secret, log_store)
        anchors = Anchors(log)
        if shard_policy(settings).sharded:  # issue #16: acts go into the shard of now
            memory = log_store if isinstance(log_store, MemoryLogStore) else None
            anchors.shards = build_shard_anchoring(
                lambda: open_shard_backend(settings, memory),
                lambda backend, now: open_sharded_log(settings, master_secret, backend, now),
                build_shard_set(settings, log.signer.verifier, memory),
                clock.now,
            )

        async def write_record(record: CredentialRecord, anchor: Anchor | None) -> None:
            await records.submit((record, anchor))
            anchors.notify(anchor)  # the entry was admitted with the record: integrate it

        loader = ContextLoader(extra_dir=settings.contexts_dir)
        registry = default_registry(loader)
        cityid = CityDidResolver(directory)
        resolver = MethodResolver(
            {"key": DidKeyResolver(), METHOD: cityid, "web": web_resolver(settings, store, clock)}
        )
        svc = cls(
            settings=settings,
            store=store,
            clock=clock,
            keys=AgencyKeys(KeySealer(master_secret)),
            registry=registry,
            resolver=resolver,
            verifier=Verifier(registry, resolver, clock),
            issuer=Issuer(
                store,
                clock,
                anchor=anchors.credential_issued,
                write_record=write_record,
                log_origin=log.origin,
                contexts=loader,
            ),
            admin_token=settings.admin_token_value(),
            records=records,
            log=log,
            anchors=anchors,
            directory=directory,
            cityid=cityid,
        )
        svc.trust = TrustRegistry(
            store,
            store,
            clock,
            schema_base_url=settings.public_url,
            allow_unregistered_types=settings.allow_unregistered_types,
        )
        svc.status = StatusLists(
            store,
            clock,
            settings.public_url,
            svc.keys.signing_key_and_method,
            EddsaJcs2022(),
            Verifier(registry, resolver, clock),
            generic_messages=StatusMessages.from_json(settings.generic_status_messages)
            if settings.generic_status_messages
            else None,
            find_type=svc.trust.find_type,
        )
        svc.challenges = Challenges(store, clock)
        svc.tokens = CitizenTokens(master_secret, timedelta(minutes=settings.citizen_token_minutes))
        svc.limiter = RateLimiter(settings.public_verify_per_minute)
        svc.wallet = build_wallet(settings, store, master_secret, clock)  # issue #14
        if settings.seed_credential_types:
            for credential_type in bundled_types():
                if store.find_type(credential_type.name) is None:
                    seeded = replace(credential_type, created=clock.now())
                    with contextlib.suppress(ConflictError):  # another replica seeded it
                        store.create_type(seeded, type_anchor(seeded, clock.now()))
        svc.sdjwt = build_sdjwt(
            store,
            clock,
            settings.public_url,
            anchors,
            svc.status,
            svc.trust,
            svc.keys.signing_key,
            write_record,
        )
        svc.verifier = Verifier(
            registry,
            resolver,
            clock,
            extra_checks=[
                (
                    "relatedResource",
                    lambda v, _: check_related_resources(v.credential.json, loader),
                ),
                ("status", svc._status),
                ("issuerTrust", svc._issuer_trust),
                ("anchor", svc._anchor),
            ],
        )
        svc.enveloping = build_enveloping(svc)
        return svc

    def _issuer_trust(self, verified: Verified, options: dict[str, Any]) -> dict[str, Any]:
        """Reported always; a failure only when ``options.requireAccreditedIssuer``."""
        result = self.trust.issuer_trust(verified.credential)
        if options.get("requireAccreditedIssuer") and not result.get("accredited"):
            raise PermissionDeniedError(
                "the issuer was not accredited for this credential type at issuance",
                issuerTrust=result,
            )
        return result

    def _anchor(self, verified: Verified, options: dict[str, Any]) -> dict[str, Any] | None:
        """``results.anchor`` for credentials this log anchored (skipped for others)."""
        try:
            return self.anchors.check_anchor(verified.credential_digest(), self.store)
        except LogIntegrityError as exc:  # the store is damaged, not the credential
            raise UnavailableError(f"the anchor cannot be checked now: {exc.detail}") from exc

    def whole_seconds(self) -> datetime:
        """Now, to the second: the precision of log entry times."""
        return self.clock.now().replace(microsecond=0)

    def new_anchor(self, kind: str, fields: dict[str, str], time: datetime | None = None) -> Anchor:
        """The log entry of an act, for the store write that performs it (issue #12)."""
        return self.anchors.anchor(kind, time or self.clock.now(), fields)

    def receipt_of(self, anchor: Anchor) -> dict[str, Any]:
        """The committed act's receipt (origin, index, leaf hash) as JSON."""
        return receipt_json(self.anchors.receipt(anchor))

    async def start(self) -> None:
        """Start the log (refuses a store of another log) -- needs the running loop.

        Replicas starting together race to sign the first checkpoint (a compare-and-swap):
        the loser sees ``ConflictError`` and starts again from the winner's checkpoint.
        """
        await asyncio.to_thread(self._bind_log)
        for attempt in range(START_ATTEMPTS):
            try:
                await self.log.start()
                break
            except ConflictError:
                if attempt == START_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        if self.anchors.shards is not None:
            await self.anchors.shards.start()
        self.log_health = LogHealthMonitor(self.log)
        self.log_health.start()
        # Everything built so far (contexts, schemas, routes, caches) lives as long as
        # the service: the collector need not scan it on every full collection
        # (:meth:`aclose` hands it back, so an app built and closed in a test leaks none).
        gc.freeze()

    def _bind_log(self) -> None:
        """Bind the log store to this log's origin and key, or refuse in one line: the key
        comes from the master secret, so another log here means a changed secret or
        origin (the store itself is left as it is)."""
        try:
            self.log.store.open(self.log.origin, self.log.signer.verifier.public_key.raw)
        except LogIntegrityError:
            raise SettingsError(
                "IDENTITY_MASTER_SECRET or IDENTITY_LOG_ORIGIN changed: this store holds a log "
                "signed under another secret or origin; start with the ones it was created with"
            ) from None

    def _status(self, verified: Verified, options: dict[str, Any]) -> dict[str, Any] | None:
        return self.status.check(verified.credential.json, verified.credential.issuer)

    def limit_anonymous(self, request: Request) -> None:
        """Rate-limit anonymous verification; verifier API keys pass freely.

        A bearer credential that is present but wrong, expired or revoked is refused
        (401, ``AuthenticationError``) as on every other route, never read as anonymous;
        a valid credential of another role (an agency key, a citizen) is rate-limited as
        anonymous callers are."""
        if identify(request, self).role != "verifier":
            self.limiter.check(request.client.host if request.client else "unknown")

    def suite_for(self, options: Any) -> Cryptosuite:
        """Pick the cryptosuite from VC-API ``options`` (unknown options are ignored)."""
        options = options if isinstance(options, dict) else {}
        name = options.get("cryptosuite", self.settings.default_cryptosuite)
        proof_type = options.get("type", "DataIntegrityProof")
        if not isinstance(name, str) or not isinstance(proof_type, str):
            raise MalformedValueError("options.type and options.cryptosuite must be strings")
        try:
            return self.registry.named(proof_type, name)
        except MalformedProofError:  # the caller's options, not a proof, are wrong
            supported = [c for c in self.registry.names() if c != "None"]
            raise MalformedValueError(
                f"options.cryptosuite {name!r} with options.type {proof_type!r} is not "
                f"supported for issuing; use one of: {', '.join(supported)} "
                "(type DataIntegrityProof)",
                field="options.cryptosuite",
                supported=supported,
            ) from None

    async def aclose(self) -> None:
        gc.unfreeze()
        if self.log_health is not None:
            await self.log_health.stop()
        await self.records.close()
        if self.anchors.shards is not None:
            await self.anchors.shards.stop()
        await self.log.stop()
        self.log.store.close()
        self.directory.close()
        self.wallet.close()  # issue #14
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


async def read_json(request: Request) -> Any:
    """The body as strict I-JSON, declared as JSON, within the size and depth limits
    from settings."""
    settings: Settings = request.app.state.services.settings
    require_json_media_type(request)
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body exceeds {limit} bytes", limit=limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"request body exceeds {limit} bytes", limit=limit)
        chunks.append(chunk)
    return parse_json(b"".join(chunks), max_depth=settings.max_json_depth)


def require_object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedValueError(f"{name} must be a JSON object", field=name)
    return value
