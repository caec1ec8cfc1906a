"""Status lists in the running service: assignment, signed lists, dereferencing.

* Indices are reserved in the store in batches (one durable write per ``RESERVE_BATCH``
  credentials) and handed out from memory; a reserved index that a crash never used is
  simply never used -- the store still never hands it out twice.
* A list credential is signed by its issuer once per version and cached; verifiers get
  it at ``<public_url>/status-lists/<group>/<purpose>``.
* Verification dereferences lists from the store when the URL is this service's, and
  over HTTPS (timeout, size limit, cache) otherwise; each list is verified and decoded
  once per version (local) or per cache period (remote), never per request.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from identity.canonical import parse_json
from identity.clock import Clock, xsd_datetime
from identity.credentials.issuer import StatusAssignment, sign_credential
from identity.credentials.status import (
    MIN_BITS,
    Bitstring,
    StatusList,
    check_status,
    status_entry,
    status_list_credential,
)
from identity.credentials.verifier import CredentialNotVerified, Verifier
from identity.errors import (
    IdentityError,
    NotFoundError,
    StatusRetrievalError,
    StatusVerificationError,
    UnavailableError,
)
from identity.keys import Ed25519PrivateKey
from identity.proofs import Cryptosuite
from identity.stores import IssuerRecord, Store
from service.fetch import HttpsFetcher

RESERVE_BATCH = 64
REMOTE_TTL_S = 300.0
REMOTE_TIMEOUT_S = 5.0
REMOTE_MAX_BYTES = 2 * 1024 * 1024

SigningKey = Callable[[IssuerRecord], tuple[Ed25519PrivateKey, str]]


class StatusLists:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        public_url: str,
        signing_key: SigningKey,
        suite: Cryptosuite,
        list_verifier: Verifier,
        *,
        size: int = MIN_BITS,
        purposes: tuple[str, ...] = ("revocation", "suspension"),
        fetch: Callable[[str], bytes] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.prefix = public_url.rstrip("/") + "/status-lists/"
        self.signing_key = signing_key
        self.suite = suite
        self.list_verifier = list_verifier
        self.size = size
        self.purposes = purposes
        self.fetch = fetch or remote_status_lists()
        self._pool: dict[str, deque[tuple[str, int]]] = {}
        self._pool_lock = asyncio.Lock()
        self._signed: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._decoded: dict[tuple[str, str, int], StatusList] = {}
        self._remote: dict[str, tuple[float, StatusList]] = {}
        self._lock = threading.Lock()

    def url(self, group: str, purpose: str) -> str:
        return f"{self.prefix}{group}/{purpose}"

    async def assign(self, issuer: IssuerRecord, suspendable: bool = True) -> StatusAssignment:
        """A fresh random index for ``issuer``: a revocation entry, and a suspension entry
        (same index, parallel list) when the credential type may be suspended."""
        async with self._pool_lock:
            pool = self._pool.setdefault(issuer.id, deque())
            if not pool:
                pool.extend(
                    await asyncio.to_thread(
                        self.store.reserve_status_indices,
                        issuer.id,
                        RESERVE_BATCH,
                        secrets.randbelow,
                        self.size,
                        self.purposes,
                    )
                )
            group, index = pool.popleft()
        purposes = [p for p in self.purposes if suspendable or p != "suspension"]
        entries = tuple(status_entry(self.url(group, p), index, p) for p in purposes)
        return StatusAssignment(group, index, entries)

    def signed_list(self, group: str, purpose: str) -> tuple[dict[str, Any], int]:
        """The list credential for the current version, signed by its issuer (cached)."""
        record = self.store.get_status_list(group, purpose)
        key = (group, purpose, record.version)
        with self._lock:
            cached = self._signed.get(key)
        if cached is None:
            issuer = self.store.get_issuer(record.issuer_id)
            signing_key, method = self.signing_key(issuer)
            now = self.clock.now()
            unsigned = status_list_credential(
                self.url(group, purpose),
                issuer.did,
                purpose,
                Bitstring(record.bits),
                xsd_datetime(now),
            )
            cached = sign_credential(
                unsigned,
                issuer_did=issuer.did,
                verification_method=method,
                key=signing_key,
                suite=self.suite,
                created=now,
            ).json
            with self._lock:
                self._signed = {k: v for k, v in self._signed.items() if k[:2] != key[:2]}
                self._signed[key] = cached
        return cached, record.version

    def load(self, url: str) -> StatusList:
        """Dereference, verify and decode the list at ``url`` (the verifier's loader)."""
        if url.startswith(self.prefix):
            return self._load_local(url)
        return self._load_remote(url)

    def _load_local(self, url: str) -> StatusList:
        group, _, purpose = url[len(self.prefix) :].partition("/")
        try:
            version = self.store.status_list_version(group, purpose)
        except NotFoundError as exc:
            raise StatusRetrievalError("no such status list here", url=url) from exc
        key = (group, purpose, version)
        with self._lock:
            decoded = self._decoded.get(key)
        if decoded is None:
            record = self.store.get_status_list(group, purpose)
            key = (group, purpose, record.version)
            issuer = self.store.get_issuer(record.issuer_id)
            decoded = StatusList(url, issuer.did, purpose, Bitstring(record.bits))
            with self._lock:
                self._decoded = {k: v for k, v in self._decoded.items() if k[:2] != key[:2]}
                self._decoded[key] = decoded
        return decoded

    def _load_remote(self, url: str) -> StatusList:
        now = time.monotonic()
        with self._lock:
            hit = self._remote.get(url)
        if hit is not None and now - hit[0] < REMOTE_TTL_S:
            return hit[1]
        try:
            document = parse_json(self.fetch(url))
        except IdentityError as exc:
            raise StatusRetrievalError(f"status list at {url} is not usable: {exc.detail}") from exc
        try:
            self.list_verifier.verify(document)
        except CredentialNotVerified as exc:
            raise StatusVerificationError(f"status list does not verify: {exc.detail}") from exc
        decoded = StatusList.from_credential(url, document)
        with self._lock:
            self._remote[url] = (now, decoded)
        return decoded

    def current(self, group: str, index: int) -> dict[str, bool]:
        """Each purpose's bit for ``index`` in this service's lists of ``group``."""
        return {p: self._load_local(self.url(group, p)).bits.get(index) for p in self.purposes}

    def check(self, credential: dict[str, Any], issuer: str) -> dict[str, Any] | None:
        return check_status(credential, issuer, self.load)


def remote_status_lists() -> Callable[[str], bytes]:
    """GET remote status lists within service/fetch.py's limits; every failure is the
    Bitstring Status List's STATUS_RETRIEVAL_ERROR."""
    fetcher = HttpsFetcher(
        timeout_s=REMOTE_TIMEOUT_S,
        max_bytes=REMOTE_MAX_BYTES,
        what="status list",
        error=StatusRetrievalError,
    )

    def fetch(url: str) -> bytes:
        try:
            return fetcher(url)
        except (NotFoundError, UnavailableError) as exc:
            detail = f"status list could not be fetched: {exc.detail}"
            raise StatusRetrievalError(detail, url=url) from exc

    return fetch
