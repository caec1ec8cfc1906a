"""A wallet folder whose ``did-key.json`` is damaged: one ``identity:`` line naming the
file and exit 5 (bad input), never an unexpected error; the file is left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity.wallet_client.folder import DID_KEY_FILE
from service.cli_common import EXIT_INVALID
from tests.cli.helpers import Identity, one_line_error

DAMAGED = {
    "a short seed": '{"did": "x", "seed": "abcd"}',
    "not hex": '{"did": "x", "seed": "' + "zz" * 32 + '"}',
    "no seed": '{"did": "x"}',
    "a number": '{"seed": 5}',
    "not JSON": "garbage",
    "an array": "[]",
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_key_file_is_one_line(identity: Identity, tmp_path: Path, case: str) -> None:
    folder = tmp_path / "wallet"
    folder.mkdir()
    (folder / DID_KEY_FILE).write_text(DAMAGED[case])
    result = identity("wallet", "did", "--dir", str(folder))
    one_line_error(result, EXIT_INVALID, "holds no 32-byte hex seed")
    assert (folder / DID_KEY_FILE).read_text() == DAMAGED[case]


def test_a_good_key_file_still_gives_its_did(identity: Identity, tmp_path: Path) -> None:
    folder = tmp_path / "wallet"
    did = identity.ok("wallet", "did", "--dir", str(folder)).strip()
    assert did.startswith("did:key:z6Mk")
    assert identity.ok("wallet", "did", "--dir", str(folder)).strip() == did
