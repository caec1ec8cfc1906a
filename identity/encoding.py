"""Multibase and multicodec, only the parts the specs here use.

- Multibase (draft-multiformats-multibase): ``z`` = base58btc, ``u`` = base64url without
  padding.
- Multicodec: ``0xed01`` is the varint prefix of ``ed25519-pub`` (Multikey, did:key).
"""

from __future__ import annotations

import base64
import binascii
from functools import cache

from identity.errors import MalformedValueError

ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"  # ed25519-priv, used by Multikey secretKeyMultibase


def b58_encode(data: bytes) -> str:
    """base58btc (the Bitcoin alphabet); each leading zero byte is a ``1``.

    Two digits per step (a table of pairs): the same text as ``base58.b58encode``
    (tests/core/test_fast_json.py proves them equal), faster."""
    pairs = _b58_pair_text()
    acc = int.from_bytes(data, "big")
    out: list[str] = []
    while acc >= 3364:
        acc, pair = divmod(acc, 3364)
        out.append(pairs[pair])
    if acc >= 58:
        out.append(pairs[acc])
    elif acc or not out:
        out.append(B58_ALPHABET[acc] if data.lstrip(b"\0") else "")
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


@cache
def _b58_pair_text() -> tuple[str, ...]:
    """Two base58 digits for each value below 58**2 (built once, on first use)."""
    return tuple(a + b for a in B58_ALPHABET for b in B58_ALPHABET)


B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@cache
def _b58_digits() -> bytes:
    """A ``bytes.translate`` table: each base58 character to its digit value, any other
    byte to 0xFF (built once, on first use)."""
    table = bytearray(b"\xff" * 256)
    for value, char in enumerate(B58_ALPHABET.encode()):
        table[char] = value
    return bytes(table)


def b58_decode(text: str) -> bytes:
    """base58btc (the Bitcoin alphabet) to bytes; each leading ``1`` is a zero byte.

    Digits by one C ``translate``, then two digits per step: the same bytes as
    ``base58.b58decode`` (tests/core/test_fast_json.py proves them equal), faster.
    """
    try:
        digits = text.encode("ascii").translate(_b58_digits())
    except UnicodeEncodeError:
        digits = b"\xff"
    if b"\xff" in digits:
        raise MalformedValueError("not valid base58btc", value=text[:80])
    odd = len(digits) % 2
    acc = digits[0] if odd else 0
    pairs = iter(digits[odd:])
    for high, low in zip(pairs, pairs, strict=True):
        acc = acc * 3364 + high * 58 + low
    zeros = len(digits) - len(digits.lstrip(b"\0"))
    return b"\0" * zeros + acc.to_bytes((acc.bit_length() + 7) // 8, "big")


def multibase_encode(data: bytes, base: str = "z") -> str:
    """``data`` as a multibase string: ``z`` + base58btc (the default, what Multikey and
    ``proofValue`` use) or ``u`` + unpadded base64url; any other base is a ``ValueError`` (a
    programming error, not input)."""
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
    """Unpadded base64url (RFC 4648 §5, RFC 7515 §2), as JOSE and SD-JWT write it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
