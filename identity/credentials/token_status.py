"""Token Status List (draft-ietf-oauth-status-list): ``statuslist+jwt`` tokens.

The service keeps one state per credential (its revocation and suspension bits in the
store, shared with the Bitstring Status Lists): a Token Status List is another rendering
of the same bits, so one revocation flips both. Statuses are 2 bits (§7.1): ``0x00``
VALID, ``0x01`` INVALID (revoked), ``0x02`` SUSPENDED. The byte array is packed least
significant bit first (§4.1) and compressed with DEFLATE in the ZLIB format (RFC 1950).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from identity.errors import (
    MalformedValueError,
    StatusListLengthError,
    StatusVerificationError,
)
from identity.jose.jws import sign_compact, verify_compact
from identity.jose.keys import PublicJwk, SigningKey, b64url, b64url_decode

TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
BITS = 2
VALID, INVALID, SUSPENDED = 0, 1, 2
NAMES = {VALID: "VALID", INVALID: "INVALID", SUSPENDED: "SUSPENDED"}
MAX_DECOMPRESSED = 16 * 1024 * 1024  # a zip bomb stops here


def status_value(revoked: bool, suspended: bool) -> int:
    """One credential's Token Status List value from its two Bitstring bits."""
    return INVALID if revoked else SUSPENDED if suspended else VALID


def _bit(data: bytes, index: int) -> bool:
    """Bit ``index`` of a Bitstring Status List (most significant bit first, §4)."""
    return bool(data[index // 8] >> (7 - index % 8) & 1)


def pack(values: Sequence[int], bits: int = BITS) -> bytes:
    """Pack statuses of ``bits`` bits each, least significant bits first (§4.1)."""
    if bits not in (1, 2, 4, 8):
        raise MalformedValueError("bits is 1, 2, 4 or 8", bits=bits)
    out = bytearray((len(values) * bits + 7) // 8)
    for index, value in enumerate(values):
        if not 0 <= value < 1 << bits:
            raise MalformedValueError(f"status {value} does not fit in {bits} bits")
        position = index * bits
        out[position // 8] |= value << (position % 8)
    return bytes(out)


def from_bitstrings_slow(revocation: bytes, suspension: bytes | None) -> bytes:
    """The reference: entry by entry through :func:`status_value` and :func:`pack`."""
    count = len(revocation) * 8
    values = [
        status_value(_bit(revocation, i), suspension is not None and _bit(suspension, i))
        for i in range(count)
    ]
    return pack(values)


@cache
def _eight(revoked: int, suspended: int) -> bytes:
    """The two output bytes of the eight entries one byte of each Bitstring list holds."""
    values = [
        status_value(bool(revoked >> (7 - j) & 1), bool(suspended >> (7 - j) & 1)) for j in range(8)
    ]
    return pack(values)


def from_bitstrings(revocation: bytes, suspension: bytes | None) -> bytes:
    """The 2-bit Token Status List bytes of a group's Bitstring lists (same length): a
    byte at a time through a table; equal to :func:`from_bitstrings_slow` (tested)."""
    other = suspension if suspension is not None else bytes(len(revocation))
    return b"".join(_eight(r, s) for r, s in zip(revocation, other, strict=True))


@dataclass(frozen=True, slots=True)
class TokenStatusList:
    """A decoded status list: ``bits`` per entry over ``data`` (uncompressed)."""

    bits: int
    data: bytes

    def get(self, index: int) -> int:
        """The status at ``index``; :class:`StatusListLengthError` past the end."""
        position = index * self.bits
        if index < 0 or position // 8 >= len(self.data):
            raise StatusListLengthError(f"status index {index} is outside the list", index=index)
        return (self.data[position // 8] >> (position % 8)) & ((1 << self.bits) - 1)

    def to_claim(self) -> dict[str, Any]:
        """The ``status_list`` claim: ``bits`` and ``lst`` (base64url of ZLIB/DEFLATE)."""
        return {"bits": self.bits, "lst": b64url(zlib.compress(self.data, 9))}

    @classmethod
    def from_claim(cls, claim: Any) -> TokenStatusList:
        """Decode a ``status_list`` claim; bounded decompression."""
        if not isinstance(claim, dict) or claim.get("bits") not in (1, 2, 4, 8):
            raise StatusVerificationError("status_list must have bits 1, 2, 4 or 8 and lst")
        lst = claim.get("lst")
        if not isinstance(lst, str):
            raise StatusVerificationError("status_list.lst must be a string")
        try:
            compressed = b64url_decode(lst)
            inflater = zlib.decompressobj()
            data = inflater.decompress(compressed, MAX_DECOMPRESSED)
            if inflater.unconsumed_tail:
                raise StatusVerificationError("the status list is too large")
        except (ValueError, TypeError, zlib.error) as exc:
            raise StatusVerificationError("status_list.lst is not ZLIB data") from exc
        return cls(int(claim["bits"]), data)


def sign_status_list(
    lst: TokenStatusList,
    *,
    uri: str,
    key: SigningKey,
    kid: str,
    issued_at: int,
    ttl: int,
    issuer: str | None = None,
) -> str:
    """The signed Status List Token (§5.1): ``sub`` is the URI credentials reference,
    ``iat``, ``exp`` (``iat`` + 10 × ``ttl``) and ``ttl`` (seconds a verifier may cache)."""
    claims: dict[str, Any] = {"sub": uri, "iat": issued_at, "exp": issued_at + 10 * ttl}
    if issuer is not None:
        claims["iss"] = issuer
    claims |= {"ttl": ttl, "status_list": lst.to_claim()}
    return sign_compact({"typ": TYP, "kid": kid}, claims, key)


def verify_status_list(token: str, *, uri: str, key: PublicJwk, now: int) -> TokenStatusList:
    """Verify a Status List Token for the referenced ``uri`` (§8.3): signature, ``typ``,
    ``sub`` equal to ``uri``, not expired. Returns the decoded list or raises."""
    claims = verify_compact(token, key, typ=TYP, max_size=MAX_DECOMPRESSED).claims()
    if claims.get("sub") != uri:
        raise StatusVerificationError("the status list token's sub is not the URI referenced")
    exp = claims.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and exp <= now:
        raise StatusVerificationError("the status list token has expired")
    return TokenStatusList.from_claim(claims.get("status_list"))
