"""The compact encoding of a credential for a QR code: ``VC1:`` + base45(zlib(JCS)).

Modelled on the EU Digital COVID Certificate (``HC1:`` + base45 of zlib-compressed
COSE): the credential's RFC 8785 JCS bytes are compressed with zlib (RFC 1950, level 9)
and written in base45 (RFC 9285), whose 45 characters are exactly the QR alphanumeric
set, so the QR code is made in alphanumeric mode (5.5 bits per character).

A version-40 QR code at error-correction level L holds 4,296 alphanumeric characters;
less the 4-character prefix that is :data:`MAX_COMPRESSED_BYTES` = 2,861 bytes of
compressed credential. :func:`encode` refuses anything larger with
:class:`~identity.errors.QrCapacityError` rather than produce a code no reader can scan.

Decoding is strict: the prefix, base45 that re-encodes to exactly the text, a complete
zlib stream within :data:`MAX_INFLATED_BYTES`, then I-JSON. The decoded credential is
*not* verified here; it is verified as if it had been pasted.
"""

from __future__ import annotations

import zlib
from typing import Any

from identity.canonical import jcs, parse_json
from identity.errors import MalformedValueError, ParsingError, QrCapacityError

PREFIX = "VC1:"
QR_ALPHANUMERIC_CAPACITY = 4296  # ISO/IEC 18004 Table 7: version 40-L, alphanumeric
MAX_COMPRESSED_BYTES = (QR_ALPHANUMERIC_CAPACITY - len(PREFIX)) // 3 * 2 + (
    1 if (QR_ALPHANUMERIC_CAPACITY - len(PREFIX)) % 3 == 2 else 0
)
MAX_INFLATED_BYTES = 1024 * 1024
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(BASE45)}


def b45encode(data: bytes) -> str:
    """RFC 9285 §4: each 2 bytes -> 3 characters (low digit first), a last byte -> 2."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += [BASE45[c], BASE45[d], BASE45[e]]
    if len(data) % 2:
        c, d = data[-1] % 45, data[-1] // 45
        out += [BASE45[c], BASE45[d]]
    return "".join(out)


def b45decode(text: str) -> bytes:
    """RFC 9285 §4.2, strictly: a value out of range or a dangling character is an error."""
    if len(text) % 3 == 1:
        raise MalformedValueError("base45 text cannot have 3n+1 characters")
    try:
        values = [_VALUE[c] for c in text]
    except KeyError:
        raise MalformedValueError("not base45: a character outside its alphabet") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(chunk))
        if len(chunk) == 3:
            if n > 0xFFFF:
                raise MalformedValueError("not base45: a triple above 65535")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise MalformedValueError("not base45: a final pair above 255")
            out.append(n)
    return bytes(out)


def compress(credential: dict[str, Any]) -> bytes:
    """zlib (level 9) of the credential's JCS bytes."""
    return zlib.compress(jcs(credential), 9)


def encode(credential: dict[str, Any]) -> str:
    """The QR payload of ``credential``; raise :class:`QrCapacityError` when too large."""
    packed = compress(credential)
    if len(packed) > MAX_COMPRESSED_BYTES:
        raise QrCapacityError(
            f"the credential is {len(packed)} bytes compressed; one QR code holds at most "
            f"{MAX_COMPRESSED_BYTES}",
            compressedBytes=len(packed),
            limit=MAX_COMPRESSED_BYTES,
        )
    return PREFIX + b45encode(packed)


def decode(text: str) -> Any:
    """The credential a QR payload carries (parsed, not verified)."""
    if not text.startswith(PREFIX):
        raise MalformedValueError(f"a credential QR payload starts with {PREFIX}")
    body = text[len(PREFIX) :]
    packed = b45decode(body)
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(packed, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise ParsingError("the QR payload is not a zlib stream") from exc
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise ParsingError("the QR payload is not one complete zlib stream within the limit")
    return parse_json(data)
