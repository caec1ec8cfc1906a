"""Structured logs: one JSON object per line (production) or a readable line (development).

The standard library's ``logging`` with two formatters. A record's structured fields are
passed as ``extra={"fields": {...}}`` (:func:`service.observability.watch.fields`) and
written as top-level keys; the request id of the request being served, if any, is added
to every line. What may appear in a line is chosen by the code that logs it: the request
line (:mod:`service.observability.requests`) names the route *template*, never the path,
the query, a header, a token, a claim or a citizen's identifier.

The request line is built as text (:func:`access_line`) and buffered: the installed
handler (:class:`_Handler`, a :class:`~service.observability.buffered.BufferedStreamHandler`)
writes the waiting lines in one call every 50 ms, and every other record at once after
them (the bound, the order and the shutdown flush are described there).

:func:`configure` is called when an app is created (never at import); calling it again
replaces the handler it installed before and leaves other handlers (pytest's) alone.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any, TextIO

from pydantic import SecretStr

from service.observability import buffered
from service.observability.buffered import FLUSH_INTERVAL, BufferedStreamHandler
from service.observability.context import PID, REQUEST_ID
from service.settings import Settings
from service.storage import redact

_SECRET_SUFFIXES = ("_token", "_secret", "password", "_key")


_second: list[tuple[int, str]] = [(-1, "")]  # the last whole second formatted, and its text


def _stamp(created: float) -> str:
    whole = int(created)
    last = _second[0]  # one read of the pair: another thread may replace it meanwhile
    if whole != last[0]:
        last = _second[0] = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{last[1]}.{int((created - whole) * 1000):03d}Z"


def _timestamp(record: logging.LogRecord) -> str:
    return _stamp(record.created)


_encoder = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "pid", "request_id"?, ...fields,
    "exception"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object on one line (no secrets: the fields are what callers passed)."""
        out: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            out["request_id"] = request_id
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            out.update(extra)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(out)


class ConsoleFormatter(logging.Formatter):
    """``12:00:00.123 INFO  request  method=GET route=/health status=200 ...``."""

    def format(self, record: logging.LogRecord) -> str:
        """One human-readable line: time, level, message, then ``key=value`` fields."""
        parts = [
            time.strftime("%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}",
            f"{record.levelname:<7}",
            record.getMessage(),
        ]
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            parts.extend(f"{k}={v}" for k, v in extra.items())
        request_id = REQUEST_ID.get()
        if request_id is not None and not (isinstance(extra, dict) and "request_id" in extra):
            parts.append(f"request_id={request_id}")
        line = "  ".join(parts[:3]) + ("  " + " ".join(parts[3:]) if len(parts) > 3 else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _Handler(BufferedStreamHandler):
    """The handler :func:`configure` installs (so a second call can find and replace it).
    Without a stream of its own it writes to whatever ``sys.stderr`` is at the time. The
    request lines are :meth:`~BufferedStreamHandler.buffer`-ed (written in batches within
    :data:`~service.observability.buffered.FLUSH_INTERVAL`); every other record at once."""

    def __init__(
        self, stream: TextIO | None = None, flush_interval: float = FLUSH_INTERVAL
    ) -> None:
        self._own: TextIO | None = stream
        super().__init__(stream, flush_interval)

    @property
    def stream(self) -> TextIO:
        return self._own if self._own is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._own = None if value is None or value is sys.stderr else value


def plain_json_handler(logger: logging.Logger) -> _Handler | None:
    """The service's JSON handler when it is the only thing ``logger``'s records meet (no
    filters, no other handlers on the way to the root, which holds just it); else None."""
    node: logging.Logger | None = logger
    while node is not None and node is not logging.root:
        if node.handlers or node.filters or not node.propagate:
            return None
        node = node.parent
    handlers = logging.root.handlers
    if len(handlers) != 1 or logging.root.filters:
        return None
    handler = handlers[0]
    if type(handler) is not _Handler or handler.filters or handler.level > logging.INFO:
        return None
    return handler if type(handler.formatter) is JsonFormatter else None


def write_json_line(
    handler: logging.Handler, logger: str, message: str, fields: dict[str, Any]
) -> None:
    """Write what :class:`JsonFormatter` would for an INFO record of ``logger``, without
    making the record (the request line's fast path; :func:`plain_json_handler` says when
    that is the same thing)."""
    out: dict[str, Any] = {
        "time": _stamp(time.time()),
        "level": "info",
        "logger": logger,
        "message": message,
        "pid": os.getpid(),
    }
    request_id = REQUEST_ID.get()
    if request_id is not None:
        out["request_id"] = request_id
    out.update(fields)
    line = _encoder.encode(out) + "\n"
    if isinstance(handler, BufferedStreamHandler):
        handler.buffer(line)
        return
    handler.acquire()
    try:
        stream = handler.stream  # type: ignore[attr-defined]
        stream.write(line)
        stream.flush()
    finally:
        handler.release()


_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-/{}:<>")
"""Characters JSON writes as themselves: a string of only these needs no escaping."""


def _string(value: str) -> str:
    """``value`` as a JSON string, as :data:`_encoder` writes it."""
    if _SAFE.issuperset(value):
        return f'"{value}"'
    return _encoder.encode(value)


def access_line(
    request_id: str | None,
    method: str,
    route: str,
    status: int,
    duration_ms: float,
    caller: str,
    agency: str | None,
    created: float | None = None,
) -> str:
    """The request line, byte for byte what :class:`JsonFormatter` writes for the
    ``identity.access`` INFO record ``request`` with these fields (proved in
    tests/service/test_observability.py), built without a dict or an encoder pass: the
    request middleware writes one per request. ``created`` is the line's ``time.time()``
    (now if None)."""
    rid = f',"request_id":{_string(request_id)}' if request_id is not None else ""
    tail = f',"agency":{_string(agency)}' if agency is not None else ""
    key = (method, route, status)
    middle = _middles.get(key)
    if middle is None:
        middle = f',"method":{_string(method)},"route":{_string(route)},"status":{status}'
        if len(_middles) < _MIDDLES_MAX:  # routes are templates, so this stays small
            _middles[key] = middle
    quoted = _callers.get(caller)
    if quoted is None:
        quoted = _string(caller)
        if len(_callers) < _MIDDLES_MAX:  # caller kinds: a handful
            _callers[caller] = quoted
    if created is None:
        created = time.time()
    whole = int(created)
    last = _second[0]  # _stamp, inline: one read of the pair
    if whole != last[0]:
        last = _second[0] = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return (
        f'{{"time":"{last[1]}.{int((created - whole) * 1000):03d}Z",'
        f'"level":"info","logger":"identity.access",'
        f'"message":"request","pid":{PID.value}{rid}{middle},"duration_ms":{duration_ms!r},'
        f'"caller":{quoted}{tail}}}\n'
    )


def access_line_of(
    request_id: str | None,
    method: str,
    route: str,
    status: int,
    seconds: float,
    caller: str,
    agency: str | None,
    created: float,
) -> str:
    """:func:`access_line` from the request's ``seconds`` (rounded to the line's
    ``duration_ms`` here): what the middleware :meth:`~BufferedStreamHandler.defer`-s."""
    return access_line(
        request_id, method, route, status, round(seconds * 1000, 3), caller, agency, created
    )


_middles: dict[tuple[str, str, int], str] = {}
"""The request line's method, route and status members, by (method, route, status)."""
_callers: dict[str, str] = {}
"""The request line's caller kinds as JSON strings."""
_MIDDLES_MAX = 4096


def flush() -> None:
    """Write every request line still waiting in the handler :func:`configure` installed
    (they reach the stream within the flush interval anyway; shutdown does this too)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Handler):
            handler.flush()


def log_format(settings: Settings) -> str:
    """``json`` or ``console``: the setting, else JSON in production only."""
    if settings.log_format is not None:
        return settings.log_format
    return "json" if settings.env == "production" else "console"


def formatter(settings: Settings) -> logging.Formatter:
    """JSON lines when the log format (a setting; JSON in production) says so, else the
    console form."""
    return JsonFormatter() if log_format(settings) == "json" else ConsoleFormatter()


def configure(
    settings: Settings, stream: TextIO | None = None, flush_interval: float | None = None
) -> None:
    """Send every logger's records to ``stream`` (stderr) in the configured format, and
    give uvicorn's own handlers the same format. Request lines wait at most
    ``flush_interval`` seconds (default :data:`~service.observability.buffered.FLUSH_INTERVAL`,
    read at the call; :mod:`service.observability.buffered`)."""
    fmt = formatter(settings)
    # Neither format shows thread or process names: do not collect them for each record
    # (the logging HOWTO's "Optimization"); the pid still is.
    logging.logThreads = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()  # writes what still waits in it
    interval = buffered.FLUSH_INTERVAL if flush_interval is None else flush_interval
    handler = _Handler(stream if stream is not None else sys.stderr, interval)
    handler.setFormatter(fmt)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # httpx logs every URL it fetches at INFO: a did:web URL can name a citizen.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        for h in logging.getLogger(name).handlers:
            h.setFormatter(fmt)


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config`` dict for ``uvicorn.run``: its own lines (including the
    supervisor's, before any app exists) in the service's format."""
    name = "JsonFormatter" if log_format(settings) == "json" else "ConsoleFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"service": {"()": f"service.observability.logs.{name}"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "service",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": settings.log_level.upper(),
                        "propagate": False},
            "uvicorn.error": {"level": settings.log_level.upper()},
            "uvicorn.access": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        },
    }  # fmt: skip


def settings_summary(settings: Settings) -> dict[str, Any]:
    """Every setting, secrets replaced by whether they are set, URLs without passwords."""
    out: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) or name.endswith(_SECRET_SUFFIXES):
            out[name] = "set" if value else "unset"
        elif isinstance(value, str) and "://" in value:
            out[name] = redact(value)
        else:
            out[name] = value if isinstance(value, bool | int | float | None) else str(value)
    out["storage"] = redact(settings.resolved_storage_url)
    out["log_format"] = log_format(settings)
    return out
