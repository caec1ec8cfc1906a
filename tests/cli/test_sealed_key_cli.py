"""``identity bulk issue`` for an agency whose sealed key does not open with the master
secret: each row fails with the 503 ``sealed-key`` problem (no traceback, nothing issued)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from identity.errors import PROBLEMS
from identity.storage.sqlite import SqliteStore
from service.cli_common import EXIT_FAULTS
from tests.cli.helpers import Identity, agency, write_rows


def test_bulk_issue_with_a_key_that_does_not_open(identity: Identity, tmp_path: Path) -> None:
    agency(identity)
    database = identity.data / "identity.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE issuers SET sealed_key = ? WHERE id = 'psb'", (b"x" * 72,))
    rows = write_rows(tmp_path / "rows.jsonl", 2)
    result = identity("bulk", "issue", str(rows), "--agency", "psb")
    assert result.returncode == EXIT_FAULTS, result.stderr
    report = [json.loads(line) for line in (tmp_path / "rows.jsonl.failures.jsonl").open()]
    assert [(f["status"], f["type"]) for f in report] == [(503, PROBLEMS + "sealed-key")] * 2
    store = SqliteStore(database)
    try:
        assert store.count_credentials() == 0
    finally:
        store.close()
