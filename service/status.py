"""Status lists in the running service: assignment, signed lists, dereferencing.

* Indices are reserved in the store in batches (one durable write per ``RESERVE_BATCH``
  credentials), ahead of need, and handed out from memory (service/status_pool.py); a
  reserved index that a crash never used is simply never used -- the store still never
  hands it out twice.
* A list credential is signed by its issuer once per version and cached; verifiers get
  it at ``<public_url>/status-lists/<group>/<purpose>``.
* Verification dereferences lists from the store when the URL is this service's, and
  over HTTPS (timeout, size limit, cache) otherwise; each list is verified and decoded
  once per version (local) or per cache period (remote), never per request.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from identity.canonical import parse_json
from identity.clock import Clock, xsd_datetime
from identity.credentials.issuer import StatusAssignment, sign_credential
from identity.credentials.status import (
    MAX_STATUS_SIZE,
    MESSAGE,
    MIN_BITS,
    PLANES,
    Bitstring,
    StatusList,
    StatusMessages,
    check_status,
    interleave,
    message_entry,
    message_purpose,
    status_entry,
    status_list_credential,
)
from identity.credentials.verifier import CredentialNotVerified, Verifier
from identity.errors import (
    ConflictError,
    IdentityError,
    NotFoundError,
    StatusRetrievalError,
    StatusVerificationError,
    UnavailableError,
)
from identity.keys import Ed25519PrivateKey
from identity.proofs import Cryptosuite
from identity.registry.types import CredentialType
from identity.stores import MAX_VERSION_READS, Anchor, IssuerRecord, Store
from service.fetch import HttpsFetcher
from service.request_versions import bound_versions
from service.status_pool import IndexPool

RESERVE_BATCH = 256
NAMED_PER_CREDENTIAL = 4
"""Status entries of one credential whose lists :meth:`StatusLists.lists_named` names (this
service issues at most three: revocation, suspension, message)."""
REMOTE_TTL_S = 300.0
REMOTE_TIMEOUT_S = 5.0
REMOTE_MAX_BYTES = 2 * 1024 * 1024

SigningKey = Callable[[IssuerRecord], tuple[Ed25519PrivateKey, str]]


class StatusLists:
    """This service's Bitstring Status Lists (module docstring): index assignment, the signed
    list credentials served at ``<public_url>/status-lists/``, and the status check of
    credentials against lists of this service or others (whose ``fetch`` answers are cached
    for ``REMOTE_TTL_S`` seconds)."""

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
        generic_messages: StatusMessages | None = None,
        find_type: Callable[[str], CredentialType | None] | None = None,
    ) -> None:
        """``generic_messages``: the named states of credentials whose type is not
        registered (or defines none); registered types name their own. ``find_type``
        reads a registered type (the trust registry's cached reader; the store's by
        default): types never change once registered."""
        self.store = store
        self.clock = clock
        self.prefix = public_url.rstrip("/") + "/status-lists/"
        self.signing_key = signing_key
        self.suite = suite
        self.list_verifier = list_verifier
        self.size = size
        self.purposes = purposes
        self.fetch = fetch or remote_status_lists()
        self.generic_messages = generic_messages
        self.find_type = find_type or store.find_type
        self.indices = IndexPool(self._reserve, RESERVE_BATCH)
        """Indices reserved ahead, per agency (service/status_pool.py)."""
        self._signed: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._decoded: dict[tuple[str, str, int], StatusList] = {}
        self._remote: dict[str, tuple[float, StatusList]] = {}
        self._lock = threading.Lock()

    def _reserve(self, issuer_id: str, count: int) -> list[tuple[str, int]]:
        """``count`` random free indices of the agency's open group, durably taken, with
        every list (purposes and message planes) a new group needs."""
        return self.store.reserve_status_indices(
            issuer_id, count, secrets.randbelow, self.size, (*self.purposes, *PLANES)
        )

    def url(self, group: str, purpose: str) -> str:
        """The public URL of ``group``'s list for ``purpose``: the ``statusListCredential`` of
        its entries and what ``GET /status-lists/{group}/{purpose}`` serves."""
        return f"{self.prefix}{group}/{purpose}"

    def messages_for(self, credential_type: str) -> StatusMessages | None:
        """The named states a credential of ``credential_type`` carries: its registered
        type's, or (for a type not registered, or one that names none) the generic ones."""
        registered = self.find_type(credential_type)
        if registered is not None and registered.status_messages is not None:
            return registered.status_messages
        return self.generic_messages if registered is None else None

    def reference(self, credential_type: str) -> str:
        """The default ``statusReference``: this service's page on the type's states."""
        return f"{self.prefix.removesuffix('status-lists/')}status-messages/{credential_type}"

    async def assign(
        self,
        issuer: IssuerRecord,
        suspendable: bool = True,
        messages: StatusMessages | None = None,
    ) -> StatusAssignment:
        """A fresh random index for ``issuer``: a revocation entry, a suspension entry
        (same index, parallel list) when the credential type may be suspended, and a
        ``message`` entry of ``messages.size`` bits (same index) when it has named states."""
        group, index = await self.indices.take(issuer.id)
        purposes = [p for p in self.purposes if suspendable or p != "suspension"]
        entries = [status_entry(self.url(group, p), index, p) for p in purposes]
        if messages is not None:
            self._require_planes(group, messages.size)
            url = self.url(group, message_purpose(messages.size))
            entries.append(message_entry(url, index, messages))
        return StatusAssignment(group, index, tuple(entries))

    def _require_planes(self, group: str, size: int) -> None:
        try:
            for plane in PLANES[:size]:
                self.store.status_list_version(group, plane)
        except NotFoundError:
            raise ConflictError(
                "this status-list group was created before multi-state status existed",
                group=group,
            ) from None

    def _message_size(self, purpose: str) -> int | None:
        """``k`` for a ``message-k`` list key, else None."""
        head, _, tail = purpose.partition("-")
        if head == MESSAGE and tail.isdigit() and 1 <= int(tail) <= MAX_STATUS_SIZE:
            return int(tail)
        return None

    def _record(self, group: str, purpose: str) -> tuple[str, bytes, int, str]:
        """(issuer id, bits, version, statusPurpose) of a list, composing a message
        list from its planes (its version: the sum of theirs, which only grows)."""
        if purpose in PLANES:  # stored halves of message lists, never published alone
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        size = self._message_size(purpose)
        if size is None:
            record = self.store.get_status_list(group, purpose)
            return record.issuer_id, record.bits, record.version, purpose
        planes = [self.store.get_status_list(group, plane) for plane in PLANES[:size]]
        bits = bytes(interleave([p.bits for p in planes]).data)
        return planes[0].issuer_id, bits, sum(p.version for p in planes), MESSAGE

    def _stored(self, group: str, purpose: str) -> list[tuple[str, str]]:
        """The stored lists whose versions make the version of ``group``'s list for
        ``purpose`` (a ``message-k`` list: its ``k`` planes); NotFoundError for a plane."""
        if purpose in PLANES:
            raise NotFoundError("no such status list", group=group, purpose=purpose)
        size = self._message_size(purpose)
        return [(group, purpose)] if size is None else [(group, p) for p in PLANES[:size]]

    def _version(self, group: str, purpose: str) -> int:
        stored = self._stored(group, purpose)
        bound = bound_versions()
        versions = bound.status(stored) if bound is not None else None
        if versions is None:
            versions = [self.store.status_list_version(g, p) for g, p in stored]
        return sum(versions)

    def lists_named(self, credentials: Iterable[Any]) -> list[tuple[str, str]]:
        """The stored lists (``(group, purpose)``) whose versions checking the status of
        ``credentials`` (JSON values, as received: anything not a Data Integrity
        credential object names none) reads: its entries pointing into this service's
        lists -- the first :data:`NAMED_PER_CREDENTIAL` entries of each credential, at
        most :data:`~identity.stores.MAX_VERSION_READS` lists in all (a list not named is
        read alone when checked, as before: a credential with thousands of entries buys
        no larger read). Nothing is checked here (a malformed entry fails its check
        later, as before)."""
        found: dict[tuple[str, str], None] = {}
        for credential in credentials:
            status = credential.get("credentialStatus") if isinstance(credential, dict) else None
            entries = status if isinstance(status, list) else [status]
            for entry in entries[:NAMED_PER_CREDENTIAL]:
                url = entry.get("statusListCredential") if isinstance(entry, dict) else None
                if not isinstance(url, str) or not url.startswith(self.prefix):
                    continue
                group, _, purpose = url[len(self.prefix) :].partition("/")
                try:
                    stored = self._stored(group, purpose)
                except NotFoundError:
                    continue
                if len(found) + len(stored) > MAX_VERSION_READS:
                    return list(found)
                found.update(dict.fromkeys(stored))
        return list(found)

    def set_message(
        self,
        group: str,
        index: int,
        messages: StatusMessages,
        value: int,
        anchor: Anchor | None = None,
    ) -> None:
        """Write ``value`` into the ``messages.size`` planes at ``index``; ``anchor`` (the
        change's log entry) is admitted with the first plane's write."""
        size = messages.size
        self._require_planes(group, size)
        for j, plane in enumerate(PLANES[:size]):
            bit = bool(value >> (size - 1 - j) & 1)
            self.store.set_status(group, plane, index, bit, anchor if j == 0 else None)

    def current_message(self, group: str, index: int, messages: StatusMessages) -> dict[str, str]:
        """The named state at ``index`` in this service's ``message`` list of ``group``."""
        listed = self._load_local(self.url(group, message_purpose(messages.size)))
        value = listed.bits.value(index, messages.size)
        return {"status": hex(value), "message": messages.messages[value]}

    def signed_list(self, group: str, purpose: str) -> tuple[dict[str, Any], int]:
        """The list credential for the current version, signed by its issuer (cached)."""
        issuer_id, bits, version, list_purpose = self._record(group, purpose)
        key = (group, purpose, version)
        with self._lock:
            cached = self._signed.get(key)
        if cached is None:
            issuer = self.store.get_issuer(issuer_id)
            signing_key, method = self.signing_key(issuer)
            now = self.clock.now()
            unsigned = status_list_credential(
                self.url(group, purpose),
                issuer.did,
                list_purpose,
                Bitstring(bits),
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
        return cached, version

    def load(self, url: str) -> StatusList:
        """Dereference, verify and decode the list at ``url`` (the verifier's loader)."""
        if url.startswith(self.prefix):
            return self._load_local(url)
        return self._load_remote(url)

    def _load_local(self, url: str) -> StatusList:
        group, _, purpose = url[len(self.prefix) :].partition("/")
        try:
            version = self._version(group, purpose)
        except NotFoundError as exc:
            raise StatusRetrievalError("no such status list here", url=url) from exc
        key = (group, purpose, version)
        with self._lock:
            decoded = self._decoded.get(key)
        if decoded is None:
            issuer_id, bits, version, list_purpose = self._record(group, purpose)
            key = (group, purpose, version)
            issuer = self.store.get_issuer(issuer_id)
            decoded = StatusList(url, issuer.did, list_purpose, Bitstring(bits))
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
        """Bitstring Status List §3.2 over every status entry of ``credential``
        (:func:`~identity.credentials.status.check_status`), lists loaded here or fetched: the
        ``status`` result, None without an entry; CredentialStatusError when revoked or
        suspended."""
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
