"""The in-memory wallet store: the oracle of the wallet contract (one lock per call)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from identity.errors import ConflictError
from identity.wallet_store import WalletEntry


class MemoryWalletStore:
    """:class:`~identity.wallet_store.WalletStore` in a dict (lost when the process ends)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, WalletEntry] = {}
        self._of: dict[str, list[str]] = {}

    def keep(self, entry: WalletEntry) -> None:
        """Under the lock: ``ConflictError`` for a credential id already kept (by any subject)."""
        [refused] = self.keep_many([entry])
        if refused is not None:
            raise refused

    def keep_many(self, entries: Sequence[WalletEntry]) -> list[ConflictError | None]:
        """Under the lock, each in turn as :meth:`keep` (a refused one in its slot)."""
        outcomes: list[ConflictError | None] = []
        with self._lock:
            for entry in entries:
                if entry.credential_id in self._entries:
                    outcomes.append(
                        ConflictError("credential already kept", id=entry.credential_id)
                    )
                    continue
                self._entries[entry.credential_id] = entry
                self._of.setdefault(entry.subject_id, []).append(entry.credential_id)
                outcomes.append(None)
        return outcomes

    def find(self, subject_id: str, credential_id: str) -> WalletEntry | None:
        """The entry only if that subject kept it (another subject's credential is ``None``)."""
        with self._lock:
            entry = self._entries.get(credential_id)
        return entry if entry is not None and entry.subject_id == subject_id else None

    def of_subject(self, subject_id: str) -> list[WalletEntry]:
        """The subject's entries, oldest ``kept_at`` first (ties in keep order)."""
        with self._lock:
            entries = [self._entries[i] for i in self._of.get(subject_id, [])]
        return sorted(entries, key=lambda e: e.kept_at)  # stable: keep order breaks ties

    def close(self) -> None:
        """Nothing to release."""
        return None
