"""Resolving ``did:cityid`` DIDs by replaying their operations (DID Resolution §4).

Every stored operation is verified again on replay (verification recomputes, then
compares): a store that was altered behind the log's back cannot make a resolver accept
an operation the controller did not sign. Replays are cached per (DID, number of
operations): stored operations never change, they are only appended.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from identity.canonical import parse_json
from identity.clock import xsd_datetime
from identity.dids import Resolution, VerificationMethod, parse_did
from identity.dids.cityid import METHOD, DidState, apply
from identity.directory_store import DidOperationStore
from identity.errors import (
    IdentityError,
    InvalidDidError,
    InvalidVerificationMethodError,
    LogIntegrityError,
    NotFoundError,
)


class CityDidResolver:
    """Resolves did:cityid from a :class:`DidOperationStore`."""

    def __init__(self, store: DidOperationStore, *, cache_size: int = 4096) -> None:
        self._store = store
        self._cache: OrderedDict[str, tuple[DidState, ...]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def history(self, did: str) -> tuple[DidState, ...]:
        """Every version of ``did``, oldest first; NotFoundError when it was never made."""
        method, _ = parse_did(did)
        if method != METHOD:
            raise InvalidDidError(f"not a did:{METHOD} DID", did=did[:200])
        records = self._store.did_operations(did)
        if not records:
            raise NotFoundError("no such DID", did=did[:200])
        with self._lock:
            cached = self._cache.get(did)
            if cached is not None and len(cached) == len(records):
                self._cache.move_to_end(did)
                return cached
        states: list[DidState] = list(cached or ())[: len(records)]
        for record in records[len(states) :]:
            previous = states[-1] if states else None
            try:
                states.append(
                    apply(previous, parse_json(record.operation), record.time, record.log_index)
                )
            except IdentityError as exc:
                raise LogIntegrityError(
                    "a stored DID operation does not verify", did=did, sequence=record.sequence
                ) from exc
        if states[0].did != did:
            raise LogIntegrityError("stored operations name another DID", did=did)
        history = tuple(states)
        with self._lock:
            self._cache[did] = history
            self._cache.move_to_end(did)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return history

    def state(
        self, did: str, *, version_id: str | None = None, version_time: datetime | None = None
    ) -> tuple[DidState, DidState | None]:
        """The version asked for (latest by default) and the one after it, if any.

        ``version_time`` picks the version in force at that moment (DID Core §7.1.2
        ``versionTime``); before the create it is NotFoundError.
        """
        return pick(self.history(did), version_id=version_id, version_time=version_time)

    def resolve(
        self, did: str, *, version_id: str | None = None, version_time: datetime | None = None
    ) -> Resolution:
        """DID Resolution §4 for did:cityid: the document of the version asked for (latest by
        default) with its metadata (versionId, updated, nextUpdate, deactivated, and the log
        index of its operation); NotFoundError for a DID never made or a version it never had."""
        state, following = self.state(did, version_id=version_id, version_time=version_time)
        return Resolution(
            did_document=state.document,
            document_metadata=document_metadata(state, following),
            resolution_metadata={"contentType": "application/did+ld+json"},
        )

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        """The method as of ``at`` (the proof's ``created``), else as of now.

        A proof made before the DID was registered is judged against its first version:
        its controller held those keys already (registering only published them), and a
        wallet's clock may run a little behind this service's.
        """
        did = url.split("#", 1)[0]
        try:
            history = self.history(did)
        except NotFoundError as exc:
            raise InvalidVerificationMethodError(exc.detail, **exc.data) from exc
        if at is not None and at < history[0].created:
            return history[0].method(url)
        state, _ = pick(history, version_time=at)
        return state.method(url)


def pick(
    history: tuple[DidState, ...],
    *,
    version_id: str | None = None,
    version_time: datetime | None = None,
) -> tuple[DidState, DidState | None]:
    """The version of ``history`` named by ``version_id`` or in force at ``version_time``
    (the latest without either), and the version after it."""
    index = len(history) - 1
    if version_id is not None:
        if not version_id.isdigit() or not 1 <= int(version_id) <= len(history):
            raise NotFoundError("no such versionId for this DID", versionId=version_id[:20])
        index = int(version_id) - 1
    elif version_time is not None:
        earlier = [i for i, s in enumerate(history) if s.updated <= version_time]
        if not earlier:
            raise NotFoundError("the DID did not exist at versionTime", did=history[0].did)
        index = earlier[-1]
    following = history[index + 1] if index + 1 < len(history) else None
    return history[index], following


def document_metadata(state: DidState, following: DidState | None) -> dict[str, Any]:
    """DID Core §7.1.3 metadata, plus where the last operation sits in the log."""
    metadata: dict[str, Any] = {
        "created": xsd_datetime(state.created),
        "versionId": str(state.version),
        "deactivated": state.deactivated,
        "logIndex": state.log_index,
        "operationDigest": state.last_digest,
    }
    if state.version > 1:
        metadata["updated"] = xsd_datetime(state.updated)
    if following is not None:
        metadata["nextUpdate"] = xsd_datetime(following.updated)
        metadata["nextVersionId"] = str(following.version)
    return metadata
