"""In-memory presentation requests: the oracle of the OpenID4VP store contract."""

from __future__ import annotations

import threading
from typing import Any

from identity.errors import ConflictError
from identity.oid4vp.requests import KEEP_REFUSALS, PresentationRequest, Status


class MemoryPresentationRequestStore:
    """:class:`~identity.oid4vp.requests.PresentationRequestStore` in a dict."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, PresentationRequest] = {}

    def create(self, request: PresentationRequest) -> None:
        """Under the lock: ``ConflictError`` for an id already there."""
        with self._lock:
            if request.id in self._requests:
                raise ConflictError("presentation request exists", id=request.id)
            self._requests[request.id] = request

    def get(self, request_id: str) -> PresentationRequest | None:
        """The request with that id, or ``None`` (requests never expire here)."""
        with self._lock:
            return self._requests.get(request_id)

    def advance(self, request: PresentationRequest, expected: Status) -> bool:
        """Under the lock: ``False`` unless the stored status is ``expected``; else store
        ``request`` with the stored refusals."""
        with self._lock:
            current = self._requests.get(request.id)
            if current is None or current.status != expected:
                return False
            self._requests[request.id] = request.with_refusals_of(current)
            return True

    def refuse(self, request_id: str, refusal: dict[str, Any], keep: int = KEEP_REFUSALS) -> bool:
        """Under the lock: append ``refusal`` (the last ``keep`` kept); ``False`` for an unknown
        or already answered request."""
        with self._lock:
            current = self._requests.get(request_id)
            if current is None or current.status == "answered":
                return False
            self._requests[request_id] = current.refused(refusal, keep)
            return True

    def close(self) -> None:
        """Nothing to release."""
        return None
