"""``audit``: replay a log (C2SP tlog-tiles) over HTTP or from a folder with the pure auditor.

The source is a service's base URL (tiles under ``<base>/log/``), a URL whose path ends
in ``/log`` (a static mirror), or a local folder written by ``identity log export``.
Over HTTP, tiles are kept in a local cache: tile paths name immutable content (a full
tile never changes, a partial one is named by its width), so a later audit fetches only
tiles it has not seen; cached bytes are still re-hashed like fetched ones.

The state file (JSON: ``{"checkpoints": [<note text>, …], "vkey": …}``) remembers every
checkpoint seen and the key they were signed with, so a later audit proves the log only
ever grew from them. It is replaced atomically and only after a passing audit.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import httpx

from identity.errors import LogIntegrityError, UnavailableError
from identity.log import tiles
from identity.log.auditor import AuditReport, AuditSource, AuditState, audit_log
from identity.log.checkpoint import NoteVerifier


class HttpAuditSource:
    """Fetches ``<prefix>/checkpoint`` and ``<prefix>/<tile path>``."""

    def __init__(self, prefix_url: str, client: httpx.Client) -> None:
        self.prefix = prefix_url.rstrip("/")
        self.client = client

    def _get(self, path: str) -> bytes:
        return get_ok(self.client, f"{self.prefix}/{path}", path, where=path).content

    def checkpoint(self) -> bytes:
        """The served checkpoint note; :class:`UnavailableError` or
        :class:`LogIntegrityError` as :func:`get_ok` says."""
        return self._get("checkpoint")

    def tile(self, path: str) -> bytes:
        """The tile at the C2SP tlog-tiles ``path``, as served."""
        return self._get(path)


class FolderAuditSource:
    """Reads ``<folder>/checkpoint`` and ``<folder>/<tile path>`` (``identity log export``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _read(self, path: str) -> bytes:
        try:
            return (self.folder / path).read_bytes()
        except FileNotFoundError:
            raise LogIntegrityError(f"{path}: missing from {self.folder}", where=path) from None

    def checkpoint(self) -> bytes:
        """The exported checkpoint note; :class:`LogIntegrityError` when it is missing."""
        return self._read("checkpoint")

    def tile(self, path: str) -> bytes:
        """The exported tile at ``path``; :class:`LogIntegrityError` when it is missing."""
        return self._read(path)


class CachedAuditSource:
    """Tiles from ``cache`` when present, else from ``source`` (and kept for next time)."""

    def __init__(self, source: AuditSource, cache: Path, *, read: bool = True) -> None:
        self.source = source
        self.cache = cache
        self.read = read
        self.fetched: list[Path] = []
        self.hits = 0

    def checkpoint(self) -> bytes:
        """Always the source's (a checkpoint is never cached: it is what moves)."""
        return self.source.checkpoint()

    def tile(self, path: str) -> bytes:
        """The cached tile, or the source's, written to the cache atomically and listed in
        :attr:`fetched` (so a failed audit can drop it); ``path`` is parsed first, so it
        never names a file outside the cache."""
        tiles.Tile.parse(path)  # a served path never escapes the cache folder
        file = self.cache / path
        if self.read and file.is_file():
            self.hits += 1
            return file.read_bytes()
        data = self.source.tile(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(file.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, file)
        self.fetched.append(file)
        return data

    def forget_fetched(self) -> None:
        """Drop what this run fetched (the audit failed: keep only audited tiles)."""
        if not self.read:  # a full re-fetch overwrote the cache: none of it is audited now
            self.fetched.extend(p for p in self.cache.rglob("*") if p.is_file())
        for file in self.fetched:
            file.unlink(missing_ok=True)


def load_state(path: Path) -> AuditState:
    """The checkpoints a previous audit accepted (its state file), or a fresh state."""
    if not path.exists():
        return AuditState()
    notes = json.loads(path.read_text("utf-8"))["checkpoints"]
    return AuditState(tuple(n.encode() for n in notes))


def pinned_vkey(path: Path) -> str | None:
    """The verifier key a previous audit with this state file used, if any."""
    if not path.exists():
        return None
    vkey = json.loads(path.read_text("utf-8")).get("vkey")
    return vkey if isinstance(vkey, str) else None


def save_state(path: Path, state: AuditState, vkey: str | None = None) -> None:
    """Write the accepted checkpoints (and the pinned ``vkey``) atomically (a temporary
    file, then ``os.replace``), so an interrupted audit never leaves half a state."""
    tmp = path.with_name(path.name + ".tmp")
    data: dict[str, object] = {"checkpoints": [n.decode() for n in state.checkpoints]}
    if vkey is not None:
        data["vkey"] = vkey
    tmp.write_text(json.dumps(data), "utf-8")
    os.replace(tmp, path)


def get_ok(client: httpx.Client, url: str, what: str, *, where: str) -> httpx.Response:
    """``GET url``, answered 200: a transport failure is ``UnavailableError`` ("cannot
    fetch ``what``"), any other status a ``LogIntegrityError`` at ``where``."""
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise UnavailableError(f"cannot fetch {what}: {exc}") from exc
    if response.status_code != 200:
        raise LogIntegrityError(f"{where}: HTTP {response.status_code}", where=where)
    return response


def log_prefix(base_url: str) -> str:
    """The URL the tiles hang under: ``<base>/log`` for a service, as is for a mirror."""
    base = base_url.rstrip("/")
    return base if base.endswith("/log") else base + "/log"


def fetch_vkey(url: str, client: httpx.Client) -> str:
    """The ``vkey`` of a ``GET /log/key`` answer (JSON ``{"vkey": …}``) or a plain-text key."""
    response = get_ok(client, url, f"the key from {url}", where=url)
    try:
        vkey = response.json()["vkey"]
    except (ValueError, KeyError, TypeError):
        vkey = response.text.strip()
    if not isinstance(vkey, str):
        raise LogIntegrityError(f"{url} holds no vkey", where=url)
    return vkey


@dataclass(frozen=True, slots=True)
class TileCounts:
    """Where an audit's tiles came from: fetched now, or from the local cache."""

    fetched: int = 0
    cached: int = 0


def audit(
    source: str | Path,
    state_path: str | Path,
    vkey: str | NoteVerifier,
    *,
    origin: str | None = None,
    client: httpx.Client | None = None,
    cache: str | Path | None = None,
) -> AuditReport:
    """:func:`audit_counted` without the tile counts."""
    return audit_counted(source, state_path, vkey, origin=origin, client=client, cache=cache)[0]


def audit_counted(
    source: str | Path,
    state_path: str | Path,
    vkey: str | NoteVerifier,
    *,
    origin: str | None = None,
    client: httpx.Client | None = None,
    cache: str | Path | None = None,
    refetch: bool = False,
) -> tuple[AuditReport, TileCounts]:
    """Audit the log at ``source`` (URL or folder) against the state in ``state_path``;
    save the new state. Over HTTP with a ``cache`` folder, tiles seen before are read from
    it (and new ones kept there) unless ``refetch``; without one, every tile is fetched."""
    verifier = vkey if isinstance(vkey, NoteVerifier) else NoteVerifier.from_vkey(vkey)
    path = Path(state_path)
    pinned = pinned_vkey(path)
    if pinned is not None and pinned != verifier.vkey:
        raise LogIntegrityError(
            f"the key differs from the one {path} was audited with ({pinned})", where="vkey"
        )
    text = str(source)
    if not text.startswith(("http://", "https://")):
        report = audit_log(FolderAuditSource(Path(text)), verifier, load_state(path), origin)
        save_state(path, report.state, verifier.vkey)
        return report, TileCounts()
    owned = client is None
    http = httpx.Client(timeout=30.0) if client is None else client
    remote: AuditSource = HttpAuditSource(log_prefix(text), http)
    cached = CachedAuditSource(remote, Path(cache), read=not refetch) if cache else None
    try:
        report = audit_log(cached or remote, verifier, load_state(path), origin)
    except BaseException:
        if cached is not None:
            cached.forget_fetched()
        raise
    finally:
        if owned:
            http.close()
    save_state(path, report.state, verifier.vkey)
    return report, TileCounts(len(cached.fetched), cached.hits) if cached else TileCounts()
