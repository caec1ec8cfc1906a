"""The README's did:cityid wallet snippet runs as printed (against an in-process app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_wallet_snippet_creates_and_rotates_a_did(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    text = README.read_text()
    start = text.index("```python", text.index("A wallet makes and signs")) + len("```python")
    code = text[start : text.index("```", start)]
    code = code.replace("import httpx\n", "").replace('"http://localhost:8000"', '""')
    namespace: dict[str, Any] = {"httpx": client}
    exec(compile(code, str(README), "exec"), namespace)  # our own README, run as printed
    resolved = client.get(f"/dids/{namespace['did']}").json()
    assert resolved["didDocumentMetadata"]["versionId"] == "2"
    assert resolved["didDocument"]["verificationMethod"][0]["id"] == namespace["did"] + "#key-2"
    printed = capsys.readouterr().out  # the snippet says what it did
    assert f"created {namespace['did']}" in printed
    assert f"version 2 key {namespace['did']}#key-2" in printed
