"""A stream handler that writes the request lines in batches, off the request's path.

One request line per request is the busiest thing the service logs; writing each with its
own ``write`` + ``flush`` (a system call per request) is most of what logging costs it.
:class:`BufferedStreamHandler` lets a caller :meth:`~BufferedStreamHandler.buffer` a
finished line instead: the line waits in memory and a writer thread writes everything
waiting in one call every :data:`FLUSH_INTERVAL` seconds. :meth:`~BufferedStreamHandler.defer`
queues the line's *making* as well (a function and its arguments, every value already taken):
the writer makes the waiting lines together, in one loop, where the same few lines of code
run many times in a row rather than once between two requests' worth of other code, cold
in the processor's caches (docs/observability.md, Cost). What this promises:

* **a bound**: a buffered line reaches the stream within ``flush_interval`` (50 ms) of
  being buffered, plus the time the writer thread waits for the interpreter lock (at most
  ``sys.getswitchinterval()``, 5 ms, once the loop that holds it reaches a switch point)
  and for a core on a loaded machine;
* **order**: every other record (events, warnings, errors, uvicorn's lines through this
  handler) is written at once, *after* everything buffered before it, so the stream keeps
  the order in which lines were made;
* **nothing lost at shutdown**: :meth:`~BufferedStreamHandler.flush` (which
  ``logging.shutdown`` calls at interpreter exit, in uvicorn's spawned workers too) and
  :meth:`~BufferedStreamHandler.close` write what is waiting; the service's own
  ``service.stopping`` line, written when the app stops, does the same;
* **bounded memory**: at :data:`LIMIT` waiting lines the caller writes them itself
  (a stalled stream slows requests down rather than growing the buffer without end);
* **fork**: a forked child drops the lines its parent will write and starts its own
  writer when it first buffers a line.

A process killed without warning (SIGKILL, a crash of the interpreter) loses at most the
lines of its last ``flush_interval``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from service.observability.context import PID as _pid

FLUSH_INTERVAL = 0.05
"""Seconds a buffered line waits at most before the writer thread writes it."""
LIMIT = 1024
"""Waiting lines at which :meth:`BufferedStreamHandler.buffer` writes them itself."""

_handlers: weakref.WeakSet[BufferedStreamHandler] = weakref.WeakSet()


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A ``StreamHandler`` whose :meth:`buffer` queues finished lines for a writer thread
    (records given to :meth:`emit` are written at once, after whatever waits)."""

    def __init__(self, stream: object = None, flush_interval: float = FLUSH_INTERVAL) -> None:
        super().__init__(stream)
        self.flush_interval = flush_interval
        self._pending: deque[str | tuple[Callable[..., str], tuple[Any, ...]]] = deque()
        self._writer_pid = 0  # the process whose writer thread runs (0: none yet)
        self._stopped = threading.Event()
        self._closed = False
        _handlers.add(self)

    # -- the request line's path ---------------------------------------------------------

    def buffer(self, line: str) -> None:
        """Queue one finished ``line`` (ending in a newline): written by the writer thread
        within ``flush_interval``, in the order buffered. Takes no lock (a deque's
        ``append`` is atomic)."""
        pending = self._pending
        pending.append(line)
        if self._writer_pid != _pid.value:
            self._start_writer()
        if len(pending) >= LIMIT:
            self.drain()

    def defer(self, make: Callable[..., str], args: tuple[Any, ...]) -> None:
        """Queue the line ``make(*args)`` (which must not fail, and must depend on nothing
        but ``args``: it runs later, in the writer thread or whichever call writes the
        waiting lines), in order with the lines :meth:`buffer`-ed; otherwise as
        :meth:`buffer`."""
        pending = self._pending
        pending.append((make, args))
        if self._writer_pid != _pid.value:
            self._start_writer()
        if len(pending) >= LIMIT:
            self.drain()

    def drain(self) -> None:
        """Write every waiting line now, in one call, under the handler's lock."""
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()

    # -- logging.Handler ---------------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` at once, after every line buffered before it
        (``Handler.handle`` holds the lock)."""
        if self._pending:
            try:
                self._write_pending()
            except Exception:
                self.handleError(record)
        super().emit(record)

    def flush(self) -> None:
        """Write every waiting line and flush the stream."""
        self.acquire()
        try:
            self._write_pending()
            super().flush()
        finally:
            self.release()

    def close(self) -> None:
        """Write what waits, stop the writer thread, close as a ``StreamHandler`` does."""
        self._stopped.set()
        self._closed = True
        with contextlib.suppress(OSError, ValueError):  # the stream itself is gone already
            self.flush()
        super().close()

    # -- inside ------------------------------------------------------------------------

    def _write_pending(self) -> None:
        """Write the waiting lines (the caller holds the lock)."""
        pending = self._pending
        count = len(pending)
        if not count:
            return
        items = [pending.popleft() for _ in range(count)]
        text = "".join([x if isinstance(x, str) else x[0](*x[1]) for x in items])
        stream = self.stream
        stream.write(text)
        stream.flush()

    def _start_writer(self) -> None:
        self.acquire()
        try:
            if self._writer_pid == _pid() or self._closed:
                return
            self._writer_pid = _pid()
            self._stopped = threading.Event()
            thread = threading.Thread(
                target=_write_every, args=(weakref.ref(self), self._stopped, self.flush_interval),
                name="identity-log-writer", daemon=True,
            )  # fmt: skip
            thread.start()
        finally:
            self.release()

    def _forked(self) -> None:
        """In a forked child: the parent writes the lines that were waiting."""
        self._pending.clear()
        self._writer_pid = 0


def _write_every(
    handler: weakref.ref[BufferedStreamHandler], stopped: threading.Event, interval: float
) -> None:
    """The writer thread: every ``interval`` seconds, write what waits (until stopped or
    the handler is gone). Holds only a weak reference between rounds."""
    while not stopped.wait(interval):
        target = handler()
        if target is None:
            return
        if target._pending:
            try:
                target.drain()
            except Exception:
                target.handleError(logging.makeLogRecord({"msg": "buffered request lines"}))
        del target


def _after_fork_in_child() -> None:
    for handler in list(_handlers):
        handler._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)
