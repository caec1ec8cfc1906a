"""The shared metrics directory of a multi-worker server (prometheus_client multiprocess).

``identity serve`` calls :func:`metrics_directory` before uvicorn starts its workers: every
worker inherits ``PROMETHEUS_MULTIPROC_DIR`` and writes its values there; any worker
answering a scrape sums them. The directory must start empty (files of an earlier run
would be counted again), so:

* an operator's ``PROMETHEUS_MULTIPROC_DIR`` is created if missing and emptied of
  ``*.db`` files;
* otherwise a fresh private temporary directory is made, and removed when the server
  exits.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory for the server's lifetime."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="identity-metrics-"))  # mode 0700
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(ENV, None)
        shutil.rmtree(path, ignore_errors=True)
