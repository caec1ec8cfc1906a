"""Multibase and multicodec, only the parts the specs here use.

- Multibase (draft-multiformats-multibase): ``z`` = base58btc, ``u`` = base64url without
  padding.
- Multicodec: ``0xed01`` is the varint prefix of ``ed25519-pub`` (Multikey, did:key).
"""

from __future__ import annotations

import base64
import binascii

import base58

from identity.errors import MalformedValueError

ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"  # ed25519-priv, used by Multikey secretKeyMultibase


def b58_encode(data: bytes) -> str:
    return base58.b58encode(data).decode("ascii")


def b58_decode(text: str) -> bytes:
    try:
        return base58.b58decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise MalformedValueError("not valid base58btc", value=text[:80]) from exc


def multibase_encode(data: bytes, base: str = "z") -> str:
    if base == "z":
        return "z" + b58_encode(data)
    if base == "u":
        return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    raise ValueError(f"unsupported multibase {base!r}")


def multibase_decode(text: str) -> bytes:
    """Decode a ``z`` (base58btc) or ``u`` (base64url, no padding) multibase string."""
    if not isinstance(text, str) or not text:
        raise MalformedValueError("multibase value must be a non-empty string")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return b58_decode(body)
    if prefix == "u":
        if "=" in body:
            raise MalformedValueError("base64url multibase must not be padded")
        try:
            return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedValueError("not valid base64url") from exc
    raise MalformedValueError(f"unsupported multibase prefix {prefix!r}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
