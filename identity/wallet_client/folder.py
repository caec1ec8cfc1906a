"""The reference wallet's folder format: one JSON file per credential.

``<folder>/<name>.json`` = ``{"format", "configuration_id", "issuer", "credential",
"notification_id"}``; ``name`` is the first 16 hex digits of SHA-256 of the credential
(stable, so receiving one credential twice keeps one file). The holder's private key is
``<folder>/holder-key.jwk`` (written by the CLI with mode 0600); the citizen's DID key
for the authorization code flow ``<folder>/did-key.json`` (``{"did", "seed"}``, 0600).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

HOLDER_KEY_FILE = "holder-key.jwk"
DID_KEY_FILE = "did-key.json"


def entry_name(credential: Any) -> str:
    """The file name of a credential in the folder."""
    text = credential if isinstance(credential, str) else json.dumps(credential, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16] + ".json"


def entry(
    fmt: str, configuration_id: str, issuer: str, credential: Any, notification_id: str | None
) -> bytes:
    """The bytes of a folder entry."""
    value = {
        "format": fmt,
        "configuration_id": configuration_id,
        "issuer": issuer,
        "credential": credential,
        "notification_id": notification_id,
    }
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
