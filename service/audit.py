"""``audit``: replay a remote log over HTTP (C2SP tlog-tiles) with the pure auditor.

The state file (JSON: ``{"checkpoints": [<note text>, …]}``) remembers every checkpoint
seen, so a later audit proves the log only ever grew from them. It is replaced
atomically and only after a passing audit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from identity.errors import LogIntegrityError, UnavailableError
from identity.log.auditor import AuditReport, AuditState, audit_log
from identity.log.checkpoint import NoteVerifier


class HttpAuditSource:
    """Fetches ``<base>/log/checkpoint`` and ``<base>/log/<tile path>``."""

    def __init__(self, base_url: str, client: httpx.Client) -> None:
        self.base = base_url.rstrip("/")
        self.client = client

    def _get(self, path: str) -> bytes:
        try:
            response = self.client.get(f"{self.base}/log/{path}")
        except httpx.HTTPError as exc:
            raise UnavailableError(f"cannot fetch {path}: {exc}") from exc
        if response.status_code != 200:
            raise LogIntegrityError(f"{path}: HTTP {response.status_code}", where=path)
        return response.content

    def checkpoint(self) -> bytes:
        return self._get("checkpoint")

    def tile(self, path: str) -> bytes:
        return self._get(path)


def load_state(path: Path) -> AuditState:
    if not path.exists():
        return AuditState()
    notes = json.loads(path.read_text("utf-8"))["checkpoints"]
    return AuditState(tuple(n.encode() for n in notes))


def save_state(path: Path, state: AuditState) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"checkpoints": [n.decode() for n in state.checkpoints]}), "utf-8")
    os.replace(tmp, path)


def audit(
    base_url: str,
    state_path: str | Path,
    vkey: str | NoteVerifier,
    *,
    origin: str | None = None,
    client: httpx.Client | None = None,
) -> AuditReport:
    """Audit the log at ``base_url`` against the state in ``state_path``; save the new state."""
    verifier = vkey if isinstance(vkey, NoteVerifier) else NoteVerifier.from_vkey(vkey)
    path = Path(state_path)
    owned = client is None
    http = httpx.Client(timeout=30.0) if client is None else client
    try:
        report = audit_log(HttpAuditSource(base_url, http), verifier, load_state(path), origin)
    finally:
        if owned:
            http.close()
    save_state(path, report.state)
    return report
