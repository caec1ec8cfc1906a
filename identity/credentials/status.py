"""W3C Bitstring Status List v1.0: the bitstring, its encoding, entries and the check.

Bit order (§3.1): index ``i`` is bit ``7 - i % 8`` of byte ``i // 8`` -- index 0 is the
most significant bit of the first byte. ``encodedList`` is multibase base64url (``u``,
no padding) of the GZIP-compressed bitstring (§2.2). Lists hold at least 131,072 entries
(16 KiB) so one credential's status hides in the herd (§5.1 "Herd privacy").
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from identity.encoding import multibase_decode, multibase_encode
from identity.errors import (
    CredentialStatusError,
    MalformedValueError,
    StatusListLengthError,
    StatusVerificationError,
)

MIN_BITS = 131_072
MAX_DECODED_BYTES = 16 * 1024 * 1024  # refuse gzip bombs
PURPOSES = ("revocation", "suspension")
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"


class Bitstring:
    """A mutable bitstring of ``len(data) * 8`` bits, MSB-first."""

    __slots__ = ("data",)

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = bytearray(data)

    @classmethod
    def zeros(cls, bits: int = MIN_BITS) -> Bitstring:
        if bits <= 0 or bits % 8:
            raise ValueError("a bitstring holds a positive whole number of bytes")
        return cls(bytes(bits // 8))

    def __len__(self) -> int:
        return len(self.data) * 8

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self.data[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool) -> None:
        self._check(index)
        mask = 0x80 >> (index % 8)
        if value:
            self.data[index // 8] |= mask
        else:
            self.data[index // 8] &= ~mask & 0xFF

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self):
            raise StatusListLengthError(
                f"status index {index} is outside the list of {len(self)} entries", index=index
            )

    def encode(self) -> str:
        """``encodedList``: multibase base64url of GZIP (mtime 0, so deterministic here)."""
        return multibase_encode(gzip.compress(bytes(self.data), mtime=0), "u")

    @classmethod
    def decode(cls, encoded: Any, *, min_bits: int = MIN_BITS) -> Bitstring:
        """Parse ``encodedList``; STATUS_LIST_LENGTH_ERROR when shorter than ``min_bits``."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusVerificationError("encodedList must be a base64url multibase string")
        try:
            compressed = multibase_decode(encoded)
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            data = inflater.decompress(compressed, MAX_DECODED_BYTES + 1)
        except (MalformedValueError, zlib.error) as exc:
            raise StatusVerificationError("encodedList is not GZIP base64url data") from exc
        if len(data) > MAX_DECODED_BYTES or inflater.unconsumed_tail:
            raise StatusVerificationError("encodedList expands beyond the size limit")
        if len(data) * 8 < min_bits:
            raise StatusListLengthError(
                f"status list has {len(data) * 8} entries; at least {min_bits} are required"
            )
        return cls(data)


def with_bit(bits: bytes, index: int, value: bool) -> bytes | None:
    """``bits`` with bit ``index`` set to ``value``; ``None`` when that changes nothing.

    The one place the stores flip a status bit (MSB-first, §3.1).
    """
    bitstring = Bitstring(bits)
    if bitstring.get(index) == value:
        return None
    bitstring.set(index, value)
    return bytes(bitstring.data)


def status_entry(list_url: str, index: int, purpose: str) -> dict[str, str]:
    """A ``BitstringStatusListEntry`` (§2.1); the index is a decimal string."""
    if purpose not in PURPOSES:
        raise MalformedValueError(f"statusPurpose must be one of {PURPOSES}")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str, issuer: str, purpose: str, bits: Bitstring, valid_from: str
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` (§2.2) for ``bits``."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": LIST_TYPE,
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }


@dataclass(frozen=True, slots=True)
class StatusEntry:
    list_url: str
    index: int
    purpose: str


def parse_entries(credential: dict[str, Any]) -> list[StatusEntry]:
    """The Bitstring entries of ``credentialStatus`` (other status types are ignored)."""
    raw = credential.get("credentialStatus")
    if raw is None:
        return []
    out = []
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, dict) or item.get("type") != ENTRY_TYPE:
            continue
        index, url, purpose = (
            item.get("statusListIndex"),
            item.get("statusListCredential"),
            item.get("statusPurpose"),
        )
        if not isinstance(index, str) or not index.isdigit() or str(int(index)) != index:
            raise MalformedValueError(
                "statusListIndex must be a decimal string", field="statusListIndex"
            )
        if not isinstance(url, str) or not isinstance(purpose, str):
            raise MalformedValueError("statusListCredential and statusPurpose are required")
        out.append(StatusEntry(url, int(index), purpose))
    return out


@dataclass(frozen=True, slots=True)
class StatusList:
    """A verified status list credential, decoded once: who issued it, for what, the bits."""

    url: str
    issuer: str
    purpose: str
    bits: Bitstring

    @classmethod
    def from_credential(cls, url: str, listed: dict[str, Any]) -> StatusList:
        """Read a (verified) ``BitstringStatusListCredential``; §3.2 steps on its shape."""
        types = listed.get("type")
        subject = listed.get("credentialSubject")
        issuer = listed.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
        if not isinstance(types, list) or LIST_CREDENTIAL_TYPE not in types:
            raise StatusVerificationError("not a BitstringStatusListCredential")
        if not isinstance(subject, dict) or subject.get("type") != LIST_TYPE:
            raise StatusVerificationError("credentialSubject is not a BitstringStatusList")
        purpose = subject.get("statusPurpose")
        if not isinstance(issuer, str) or not isinstance(purpose, str):
            raise StatusVerificationError("status list lacks issuer or statusPurpose")
        return cls(url, issuer, purpose, Bitstring.decode(subject.get("encodedList")))


ListLoader = Callable[[str], StatusList]
"""Dereferences, verifies and decodes the status list at a URL, or raises a status error."""


def check_status(
    credential: dict[str, Any], issuer: str, load: ListLoader
) -> dict[str, Any] | None:
    """§3.2 Validate: read each entry's bit; raise :class:`CredentialStatusError` if set.

    The list must come from the credential's issuer and serve the entry's purpose.
    ``None`` when the credential has no Bitstring status entry.
    """
    entries = parse_entries(credential)
    if not entries:
        return None
    results: dict[str, Any] = {}
    for entry in entries:
        listed = load(entry.list_url)
        if listed.issuer != issuer:
            raise StatusVerificationError("the status list's issuer is not the credential's")
        if listed.purpose != entry.purpose:
            raise StatusVerificationError("the status list does not serve this statusPurpose")
        is_set = listed.bits.get(entry.index)
        results[entry.purpose] = is_set
        if is_set:
            word = "revoked" if entry.purpose == "revocation" else "suspended"
            raise CredentialStatusError(f"credential is {word}", statusPurpose=entry.purpose)
    return results
