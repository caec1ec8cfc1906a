"""``identity bulk issue`` and ``identity bulk revoke``: many credentials from a file.

Each row goes through the service's own issuance path -- validation, accreditation,
status entry, signing and log anchoring exactly as for one request: in-process on the
configured store, :func:`service.routers.credentials.issue_credential` (the function
``POST /credentials/issue`` calls), or against a running service with ``--url``.
Revocation calls ``POST /credentials/status`` (in-process through ASGI). Rows run
concurrently (``--concurrency``), so the log's group commit batches their anchors.

Re-runs are idempotent by credential id: a row whose credential the service already
issued (or already revoked) is counted as done, not issued again, so an interrupted run
is resumed by running the same command again. Ctrl-C stops taking new rows, lets the
rows in flight finish, prints the summary and exits 130.

Rows that fail are listed, with the service's reason, in a report file (JSON lines,
default ``<input>.failures.jsonl``); the exit code is 1 when any row failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from service.cli_common import (
    EXIT_FAULTS,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Api,
    UrlOption,
    console,
    describe_problem,
    fail,
    open_api,
)

bulk_app = typer.Typer(help="Issue or revoke many credentials from a file.", no_args_is_help=True)

V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
TOP_LEVEL = frozenset({"id", "validFrom", "validUntil", "name", "description"})
Outcome = Literal["done", "already", "failed"]
PROGRESS_LABEL = {"revoked": "revoking", "suspended": "suspending", "active": "reinstating"}


@dataclass(frozen=True, slots=True)
class Row:
    """One unit of work: where it came from, its credential id and its request body."""

    line: int
    credential_id: str | None
    body: dict[str, Any] | None
    error: str | None = None


@dataclass
class Tally:
    """A run's counts and failures, in input order of completion."""

    done: int = 0
    already: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False

    def as_json(self, total: int, seconds: float) -> dict[str, Any]:
        """The run summary printed at the end: counts of ``total`` rows (``notRun``: never
        reached, e.g. after Ctrl-C), elapsed ``seconds`` and rows done per second (None for no
        time)."""
        return {
            "rows": total,
            "done": self.done,
            "already": self.already,
            "failed": len(self.failed),
            "notRun": total - self.done - self.already - len(self.failed),
            "seconds": round(seconds, 3),
            "perSecond": round(self.done / seconds, 1) if seconds > 0 else None,
            "interrupted": self.interrupted,
        }


class RateColumn(ProgressColumn):
    """Rows per second, over rich's sliding window."""

    def render(self, task: Task) -> Text:
        """The task's current speed as whole rows per second, e.g. ``1,234/s``."""
        return Text(f"{task.speed or 0:,.0f}/s", style="progress.data.speed")


# -- input --------------------------------------------------------------------------


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value


def credential_rows(path: Path, credential_type: str | None) -> Iterator[Row]:
    """Issuance rows from JSONL (a credential, or ``{"credential", "options"}`` per line)
    or CSV (a header of dotted paths: ``id``, ``validFrom``, ``credentialSubject.x``...)."""
    if path.suffix.lower() == ".csv":
        if credential_type is None:
            fail("a CSV file needs --type (the credential type of every row)", EXIT_USAGE)
        with path.open(newline="", encoding="utf-8") as fh:
            for line, cells in enumerate(csv.DictReader(fh), start=2):
                credential: dict[str, Any] = {}
                for column, value in cells.items():
                    if column is None or value in (None, ""):
                        continue
                    name = column.strip()
                    if "." not in name and name not in TOP_LEVEL:
                        name = "credentialSubject." + name
                    _set_path(credential, name, value)
                yield _issue_row(line, {"credential": credential}, credential_type)
        return
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Row(line, None, None, f"not JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(item, dict):
                yield Row(line, None, None, "a line must be a JSON object")
                continue
            body = item if isinstance(item.get("credential"), dict) else {"credential": item}
            yield _issue_row(line, body, credential_type)


def _issue_row(line: int, body: dict[str, Any], credential_type: str | None) -> Row:
    credential = body["credential"]
    credential.setdefault("@context", [V2_CONTEXT])
    if credential_type is not None:
        credential.setdefault("type", ["VerifiableCredential", credential_type])
    cid = credential.get("id")
    if not isinstance(cid, str) or not cid:
        return Row(
            line,
            None,
            None,
            'no credential "id": a bulk run needs one per credential (e.g. urn:uuid:…) '
            "so that a re-run can skip what was issued",
        )
    return Row(line, cid, body)


def status_rows(path: Path, status: str) -> Iterator[Row]:
    """Revocation rows: one credential id per line, JSONL ``{"credentialId"}``, or CSV with
    a ``credentialId`` column."""
    with path.open(newline="", encoding="utf-8") as fh:
        if path.suffix.lower() == ".csv":
            for line, cells in enumerate(csv.DictReader(fh), start=2):
                yield _status_row(line, cells.get("credentialId"), status)
            return
        for line, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text:
                continue
            cid: Any = text
            if text.startswith("{"):
                try:
                    cid = json.loads(text).get("credentialId")
                except (json.JSONDecodeError, AttributeError):
                    cid = None
            yield _status_row(line, cid, status)


def _status_row(line: int, cid: Any, status: str) -> Row:
    if not isinstance(cid, str) or not cid:
        return Row(line, None, None, "no credentialId on this row")
    body = {"credentialId": cid, "credentialStatus": [{"status": status}]}
    return Row(line, cid, body)


def dedupe(rows: Iterator[Row]) -> list[Row]:
    """Rows in order; a repeated credential id becomes a failure naming the first line."""
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        first = seen.setdefault(row.credential_id, row.line) if row.credential_id else row.line
        if first != row.line:
            out.append(Row(row.line, row.credential_id, None, f"the same id as line {first}"))
        else:
            out.append(row)
    return out


# -- the run ------------------------------------------------------------------------

Send = Callable[[Row], Awaitable[tuple[Outcome, str | None, dict[str, Any]]]]


async def run_rows(rows: list[Row], send: Send, concurrency: int, what: str) -> Tally:
    """Send every row, ``concurrency`` at a time, with a live progress bar and rate."""
    tally = Tally()
    queue = iter(rows)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    progress = Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=False,
    )

    async def worker(task_id: Any) -> None:
        for row in queue:
            if stop.is_set():
                return
            if row.body is None:
                outcome: Outcome = "failed"
                reason, extra = row.error, dict[str, Any]()
            else:
                outcome, reason, extra = await send(row)
            if outcome == "done":
                tally.done += 1
            elif outcome == "already":
                tally.already += 1
            else:
                tally.failed.append(
                    {"line": row.line, "id": row.credential_id} | extra | {"reason": reason}
                )
            progress.advance(task_id)

    def on_interrupt() -> None:  # the first Ctrl-C: finish the rows in flight, then stop
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)  # a second one stops at once
        progress.console.print("stopping after the rows in flight (Ctrl-C again: at once)")

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        with progress:
            task_id = progress.add_task(what, total=len(rows))
            await asyncio.gather(*(worker(task_id) for _ in range(max(1, concurrency))))
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
    tally.interrupted = stop.is_set() and tally.done + tally.already + len(tally.failed) < len(rows)
    return tally


def problem_of(response: Any) -> tuple[str, dict[str, Any]]:
    """One line and the fields a failed row reports for an HTTP ``response``: the problem+json
    detail (or ``HTTP <status>`` when the body is not one), its status and type."""
    try:
        body = response.json()
    except ValueError:
        body = None
    extra = {"status": response.status_code}
    if isinstance(body, dict) and "type" in body:
        extra["type"] = body["type"]
    return describe_problem(body, response.status_code), extra


@contextlib.asynccontextmanager
async def agency_token(api: Api, agency: str, api_key: str | None, scope: str, remote: bool) -> Any:
    """The agency's API key: the one given, or (in-process only) a key made for this run
    and revoked when it ends."""
    if api_key:
        yield api_key
        return
    if remote:
        fail("with --url, give the agency's API key (--api-key or $IDENTITY_API_KEY)", EXIT_USAGE)
    made = await api.call("POST", f"/issuers/{agency}/keys", {"scopes": [scope]})
    try:
        yield made["apiKey"]
    finally:
        await api.call("DELETE", f"/issuers/{agency}/keys/{made['keyId']}")


def finish(tally: Tally, rows: list[Row], seconds: float, report: Path, verb: str) -> None:
    """Write the failures report, print the summary, exit with the run's code."""
    with report.open("w", encoding="utf-8") as fh:
        for failure in sorted(tally.failed, key=lambda f: f["line"]):
            fh.write(json.dumps(failure, ensure_ascii=False) + "\n")
    summary = tally.as_json(len(rows), seconds)
    typer.echo(
        f"{verb} {summary['done']}, already {verb} {summary['already']}, failed "
        f"{summary['failed']}, not run {summary['notRun']} of {summary['rows']} rows in "
        f"{summary['seconds']} s ({summary['perSecond'] or 0}/s); failures in {report}"
    )
    if tally.interrupted:
        typer.echo("identity: interrupted; run the same command again to resume", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    if tally.failed:
        raise typer.Exit(EXIT_FAULTS)


AgencyOption = Annotated[str, typer.Option(help="The agency's id.")]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(envvar="IDENTITY_API_KEY", help="The agency's API key (needed with --url)."),
]
ReportOption = Annotated[
    Path | None, typer.Option(help="Failures report (JSONL); default <input>.failures.jsonl.")
]
ConcurrencyOption = Annotated[int, typer.Option(min=1, max=1024, help="Rows in flight.")]


@bulk_app.command("issue")
def bulk_issue(
    source: Annotated[Path, typer.Argument(help="A .jsonl or .csv file of credentials.")],
    agency: AgencyOption,
    credential_type: Annotated[
        str | None, typer.Option("--type", help="The credential type (required for CSV).")
    ] = None,
    cryptosuite: Annotated[
        str | None, typer.Option(help="eddsa-jcs-2022 or eddsa-rdfc-2022 (default: settings).")
    ] = None,
    report: ReportOption = None,
    concurrency: ConcurrencyOption = 64,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Issue every credential in SOURCE as AGENCY (missing ``issuer`` and ``@context`` are
    filled in); already issued ids are skipped, so a re-run resumes."""
    rows = dedupe(credential_rows(source, credential_type))
    report = report or source.with_name(source.name + ".failures.jsonl")

    async def main() -> tuple[Tally, float]:
        async with open_api(url, concurrency=concurrency) as api:
            did = (await api.call("GET", f"/issuers/{agency}"))["did"]
            for row in rows:
                if row.body is not None:
                    row.body["credential"].setdefault("issuer", did)
                    if cryptosuite:
                        row.body.setdefault("options", {})["cryptosuite"] = cryptosuite
            if api.services is not None:
                send = direct_issue(api.services, agency)
            else:
                send = http_issue(api, api_key)
            started = time.perf_counter()
            tally = await run_rows(rows, send, concurrency, "issuing")
            return tally, time.perf_counter() - started

    tally, seconds = _run(main)
    finish(tally, rows, seconds, report, "issued")


@bulk_app.command("revoke")
def bulk_revoke(
    source: Annotated[
        Path, typer.Argument(help="Credential ids: one per line, JSONL or CSV (credentialId).")
    ],
    agency: AgencyOption,
    status: Annotated[str, typer.Option(help="revoked (final), suspended or active.")] = "revoked",
    report: ReportOption = None,
    concurrency: ConcurrencyOption = 64,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Revoke (or suspend, or reinstate) every credential listed in SOURCE; credentials
    already in that state are skipped, so a re-run resumes."""
    if status not in ("revoked", "suspended", "active"):
        fail("--status must be revoked, suspended or active", EXIT_USAGE)
    rows = dedupe(status_rows(source, status))
    report = report or source.with_name(source.name + ".failures.jsonl")

    async def main() -> tuple[Tally, float]:
        async with (
            open_api(url, concurrency=concurrency) as api,
            agency_token(api, agency, api_key, "revoke", bool(url)) as key,
        ):

            async def send(row: Row) -> tuple[Outcome, str | None, dict[str, Any]]:
                response = await api.send("POST", "/credentials/status", row.body, token=key)
                if response.status_code == 200:
                    return "done", None, {}
                reason, extra = problem_of(response)
                if response.status_code == 409 and _names(response, "state", status):
                    return "already", None, {}
                return "failed", reason, extra

            started = time.perf_counter()
            tally = await run_rows(rows, send, concurrency, PROGRESS_LABEL[status])
            return tally, time.perf_counter() - started

    tally, seconds = _run(main)
    finish(tally, rows, seconds, report, status)


def http_issue(api: Api, api_key: str | None) -> Send:
    """Issue each row with ``POST /credentials/issue`` on a running service."""
    if not api_key:
        fail("with --url, give the agency's API key (--api-key or $IDENTITY_API_KEY)", EXIT_USAGE)

    async def send(row: Row) -> tuple[Outcome, str | None, dict[str, Any]]:
        response = await api.send("POST", "/credentials/issue", row.body, token=api_key)
        if response.status_code == 201:
            return "done", None, {}
        reason, extra = problem_of(response)
        if response.status_code == 409 and _names(response, "id", row.credential_id):
            return "already", None, {}
        return "failed", reason, extra

    return send


def direct_issue(services: Any, agency: str) -> Send:
    """Issue each row in-process through the route's own function (no HTTP round trip:
    measured about three times faster than calling the route through ASGI)."""
    from identity.errors import ConflictError, IdentityError
    from service.problems import status_for
    from service.routers.credentials import issue_credential

    issuer = services.store.get_issuer(agency)

    async def send(row: Row) -> tuple[Outcome, str | None, dict[str, Any]]:
        assert row.body is not None
        try:
            await issue_credential(services, issuer, row.body)
        except ConflictError as exc:
            if exc.data.get("id") == row.credential_id:
                return "already", None, {}
            return "failed", _detail(exc), {"status": 409, "type": exc.type_uri}
        except IdentityError as exc:
            return "failed", _detail(exc), {"status": status_for(exc), "type": exc.type_uri}
        return "done", None, {}

    return send


def _detail(exc: Any) -> str:
    """An error as the service's problem+json would say it (detail and naming fields)."""
    fields = {k: v for k, v in exc.data.items() if isinstance(v, str | int)}
    return describe_problem({"detail": exc.detail, **fields}, 0)


def _names(response: Any, key: str, value: str | None) -> bool:
    """Whether a 409 problem names ``key=value`` (the service's "already done" answer)."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get(key) == value


def _run(main: Callable[[], Any]) -> Any:
    from service.cli_common import run

    return run(main)
