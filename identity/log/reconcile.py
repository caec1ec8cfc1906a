"""Reconciliation: the log's leaves against the stored records, both ways (issue #12).

The log must hold exactly the acts that took effect. :func:`reconcile` reads every
sequenced entry and every stored record and reports, as :class:`Finding` values:

* an **orphan leaf** -- an entry naming an act the store does not hold (a refused or
  crashed act that was anchored anyway, or an entry no record points at);
* an **unanchored record** -- a stored act with no entry (or whose entry says something
  else), and an act with more than one entry.

How an entry is matched to its record:

* records that carry their ``log_index`` (credentials, DID operations, catalog versions,
  sharing events) must find an entry of their kind, naming them, at that index, and each
  such entry must be named by exactly one record;
* issuers, credential types, accreditations (grants and revocations) are matched by what
  the entry names (``issuer``+``did``; ``type``+``definition_digest``; accreditor, subject
  and scope; accreditation id) as multisets: as many entries as records;
* status changes: for every credential with a status entry and every purpose, the last
  status entry (revoked / suspended -> set, reinstated -> clear) states the stored bit,
  and a set bit has at least one entry.

It does no I/O of its own: the stores are parameters.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from identity.credentials.status import Bitstring
from identity.directory_store import DirectoryStore
from identity.errors import MalformedValueError, NotFoundError
from identity.log.entries import LogEntry
from identity.log.store import LogStore
from identity.stores import Store

ORPHAN = "orphan leaf"
UNANCHORED = "unanchored record"
READ_BATCH = 4096
_STATUS_KINDS = {
    "credential.revoked": True,
    "credential.suspended": True,
    "credential.reinstated": False,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One disagreement between the log and the store."""

    problem: str
    """:data:`ORPHAN` or :data:`UNANCHORED`."""
    what: str
    """The kind of act (``credential.issued``, ``issuer.created``, …)."""
    key: str
    """The record it concerns (its id, or what the entry names)."""
    index: int | None = None
    """The log index concerned, when there is one."""
    detail: str = ""
    shard: str | None = None
    """The log shard of ``index`` (a sharded log, docs/log-shards.md)."""

    def __str__(self) -> str:
        at = f" at log index {self.index}" if self.index is not None else ""
        if self.shard is not None:
            at += f" of shard {self.shard}"
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.problem}{at}: {self.what} {self.key}{detail}"


@dataclass(frozen=True, slots=True)
class _Claim:
    """What a record says its entry at ``log_index`` must be."""

    kinds: frozenset[str]
    key: str
    fields: tuple[tuple[str, str], ...] = ()


def entries(log: LogStore) -> Iterator[tuple[int, bytes]]:
    """Every sequenced entry with its index, read in batches."""
    size = log.entry_count()
    for start in range(0, size, READ_BATCH):
        end = min(size, start + READ_BATCH)
        yield from enumerate(log.read_entries(start, end), start)


def _indexed_claims(store: Store, directory: DirectoryStore | None) -> dict[int, list[_Claim]]:
    claims: dict[int, list[_Claim]] = defaultdict(list)
    for record in store.iter_credentials():
        if record.log_index is not None:
            fields = (
                ("credential_digest", "sha256:" + record.digest.hex()),
                ("issuer", record.issuer_did),
            )
            claims[record.log_index].append(
                _Claim(frozenset({"credential.issued"}), record.id, fields)
            )
    if directory is None:
        return claims
    did_kinds = frozenset({"did.created", "did.updated", "did.deactivated"})
    for did in directory.dids():
        for op in directory.did_operations(did):
            claims[op.log_index].append(_Claim(did_kinds, f"{did}#{op.sequence}", (("did", did),)))
    for latest in directory.latest_catalog():
        for version in directory.catalog_versions(latest.id):
            fields = (("entry", version.id), ("version", str(version.version)))
            claims[version.log_index].append(
                _Claim(frozenset({"catalog.published"}), f"{version.id}@{version.version}", fields)
            )
    for request_id in directory.request_ids():
        for event in directory.request_events(request_id):
            claims[event.log_index].append(
                _Claim(frozenset({event.kind}), f"{request_id}#{event.sequence}")
            )
    return claims


def _content_key(entry: LogEntry) -> tuple[str, ...] | None:
    f = entry.fields
    if entry.kind == "issuer.created":
        return (f["issuer"], f["did"])
    if entry.kind == "type.registered":
        return (f["type"], f["definition_digest"])
    if entry.kind == "accreditation.granted":
        return (f["accreditor"], f["subject"], f.get("scope", ""))
    if entry.kind == "accreditation.revoked":
        return (f["accreditation"], f["subject"])
    return None


def _content_records(store: Store) -> dict[str, Counter[tuple[str, ...]]]:
    records: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    issuers = store.list_issuers()
    for issuer in issuers:
        records["issuer.created"][(issuer.id, issuer.did)] += 1
    for credential_type in store.list_types():
        key = (credential_type.name, "sha256:" + credential_type.digest.hex())
        records["type.registered"][key] += 1
    for issuer in issuers:
        for accreditation in store.accreditations_of(issuer.id):
            scope = " ".join(sorted(accreditation.types))
            grant = (accreditation.accredited_by, accreditation.issuer_id, scope)
            records["accreditation.granted"][grant] += 1
            if accreditation.revoked_at is not None:
                records["accreditation.revoked"][(accreditation.id, accreditation.issuer_id)] += 1
    return records


def reconcile(
    log: LogStore,
    store: Store,
    directory: DirectoryStore | None = None,
    shards: Sequence[tuple[str, LogStore]] = (),
) -> list[Finding]:
    """Every orphan leaf and unanchored record (empty when log and store agree).

    ``shards`` are the shards of a sharded log, oldest first, as ``(name, store)``:
    then every leaf of ``log`` or of a shard must name a stored act and every act have
    exactly one leaf across them all (:func:`_reconcile_sharded`)."""
    if shards:
        return _reconcile_sharded([(None, log), *shards], store, directory)
    findings: list[Finding] = []
    claims = _indexed_claims(store, directory)
    leaves: dict[str, dict[tuple[str, ...], list[int]]] = defaultdict(lambda: defaultdict(list))
    last_status: dict[tuple[str, str], tuple[bool, int]] = {}
    size = 0
    for index, data in entries(log):
        size = index + 1
        try:
            entry = LogEntry.parse(data)
        except MalformedValueError as exc:
            findings.append(Finding(ORPHAN, "unreadable entry", "-", index, exc.detail))
            claims.pop(index, None)
            continue
        mine = claims.pop(index, [])
        _note(entry, index, leaves, last_status)
        findings += _match_indexed(index, entry, mine)
    for index, mine in sorted(claims.items()):
        for claim in mine:
            what = "/".join(sorted(claim.kinds))
            detail = f"names log index {index}, but the log has {size} entries"
            findings.append(Finding(UNANCHORED, what, claim.key, index, detail))
    findings += _match_content(leaves, _content_records(store))
    findings += _match_status(store, last_status)
    return findings


def _note(
    entry: LogEntry,
    index: int,
    leaves: dict[str, dict[tuple[str, ...], list[int]]],
    last_status: dict[tuple[str, str], tuple[bool, int]],
) -> None:
    """Count ``entry`` (at ``index``) among the content acts' leaves, or as the latest
    status entry of its credential and purpose (a later entry replaces an earlier one)."""
    key = _content_key(entry)
    if key is not None:
        leaves[entry.kind][key].append(index)
    elif entry.kind in _STATUS_KINDS:
        purpose = entry.fields.get("status_list", "").rpartition("/")[2]
        last_status[(entry.fields["credential_id"], purpose)] = (_STATUS_KINDS[entry.kind], index)


def _reconcile_sharded(
    logs: Sequence[tuple[str | None, LogStore]], store: Store, directory: DirectoryStore | None
) -> list[Finding]:
    """:func:`reconcile` over several logs (the unsharded one, then the shards oldest
    first). A record keeps its index, not its shard: its entry is the one at that index
    in some log that names it (kind and fields), and it is taken once -- a second such
    entry is an orphan, and a record no log's entry names is unanchored. Content and
    status acts count across every log, the last status entry being the newest log's."""
    findings: list[Finding] = []
    claims = _indexed_claims(store, directory)
    leaves: dict[str, dict[tuple[str, ...], list[int]]] = defaultdict(lambda: defaultdict(list))
    last_status: dict[tuple[str, str], tuple[bool, int]] = {}
    total = 0
    for shard, log in logs:
        for index, data in entries(log):
            total += 1
            try:
                entry = LogEntry.parse(data)
            except MalformedValueError as exc:
                findings.append(Finding(ORPHAN, "unreadable entry", "-", index, exc.detail, shard))
                continue
            _note(entry, index, leaves, last_status)
            waiting = claims.get(index, [])
            mine = [
                c
                for c in waiting
                if entry.kind in c.kinds and all(entry.fields.get(n) == v for n, v in c.fields)
            ]
            for claim in mine:
                waiting.remove(claim)
            findings += [replace(f, shard=shard) for f in _match_indexed(index, entry, mine)]
    for index, left in sorted(claims.items()):
        for claim in left:
            what = "/".join(sorted(claim.kinds))
            detail = f"names log index {index}, but no entry there in any of {len(logs)} logs is it"
            findings.append(Finding(UNANCHORED, what, claim.key, index, detail))
    findings += _match_content(leaves, _content_records(store))
    findings += _match_status(store, last_status)
    return findings


def _match_indexed(index: int, entry: LogEntry, mine: list[_Claim]) -> list[Finding]:
    indexed = entry.kind.startswith(
        ("credential.issued", "did.", "catalog.", "sharing.", "consent.", "data.")
    )
    if not mine:
        if indexed:
            key = entry.fields.get("did") or entry.fields.get("entry") or ""
            key = (
                key
                or entry.fields.get("credential_digest")
                or entry.fields.get("request_digest", "-")
            )
            return [Finding(ORPHAN, entry.kind, key, index, "no stored record names this entry")]
        return []
    out = []
    if len(mine) > 1:
        names = ", ".join(c.key for c in mine)
        out.append(Finding(UNANCHORED, entry.kind, names, index, "several records, one entry"))
    for claim in mine:
        wrong = [n for n, v in claim.fields if entry.fields.get(n) != v]
        if entry.kind not in claim.kinds or wrong:
            detail = f"the entry is {entry.kind}" + (f" with other {wrong}" if wrong else "")
            out.append(Finding(UNANCHORED, "/".join(sorted(claim.kinds)), claim.key, index, detail))
    return out


def _match_content(
    leaves: dict[str, dict[tuple[str, ...], list[int]]],
    records: dict[str, Counter[tuple[str, ...]]],
) -> list[Finding]:
    out = []
    for kind in sorted(set(leaves) | set(records)):
        for key in sorted(set(leaves.get(kind, {})) | set(records.get(kind, Counter()))):
            indices = leaves.get(kind, {}).get(key, [])
            stored = records.get(kind, Counter())[key]
            name = " ".join(key)
            for index in indices[stored:]:
                detail = (
                    "no such record" if not stored else f"{len(indices)} entries, {stored} acts"
                )
                out.append(Finding(ORPHAN, kind, name, index, detail))
            for _ in range(stored - len(indices)):
                out.append(Finding(UNANCHORED, kind, name, None, "no entry in the log"))
    return out


def _match_status(
    store: Store, last_status: dict[tuple[str, str], tuple[bool, int]]
) -> list[Finding]:
    out = []
    lists: dict[tuple[str, str], Bitstring | None] = {}
    seen: set[tuple[str, str]] = set()
    for record in store.iter_credentials():
        if record.status_group is None or record.status_index is None:
            continue
        for purpose in ("revocation", "suspension"):
            at = (record.status_group, purpose)
            if at not in lists:
                try:
                    lists[at] = Bitstring(store.get_status_list(*at).bits)
                except NotFoundError:
                    lists[at] = None
            bits = lists[at]
            if bits is None:
                continue
            stored = bits.get(record.status_index)
            last = last_status.get((record.id, purpose))
            seen.add((record.id, purpose))
            if last is None and stored:
                out.append(
                    Finding(
                        UNANCHORED,
                        f"status {purpose}",
                        record.id,
                        None,
                        "the bit is set but no status entry says so",
                    )
                )
            elif last is not None and last[0] != stored:
                detail = f"the last entry says {last[0]}, the stored bit {stored}"
                out.append(Finding(UNANCHORED, f"status {purpose}", record.id, last[1], detail))
    for (credential_id, purpose), (_, index) in sorted(last_status.items()):
        if (credential_id, purpose) not in seen:
            out.append(
                Finding(
                    ORPHAN,
                    f"status {purpose}",
                    credential_id,
                    index,
                    "no stored credential with this status",
                )
            )
    return out
