"""W3C Bitstring Status List v1.0: the bitstring, its encoding, entries and the check.

Bit order (§3.1): index ``i`` is bit ``7 - i % 8`` of byte ``i // 8`` -- index 0 is the
most significant bit of the first byte. ``encodedList`` is multibase base64url (``u``,
no padding) of the GZIP-compressed bitstring (§2.2). Lists hold at least 131,072 entries
(16 KiB) so one credential's status hides in the herd (§5.1 "Herd privacy").

Multi-bit entries (§2.1 ``statusSize`` > 1, ``statusPurpose: "message"``): entry ``i`` is
the ``statusSize`` bits from bit ``i * statusSize``, read most significant first; the
list then holds ``131,072 * statusSize`` bits (§3.2 "divided by statusSize"). The entry
names each value in ``statusMessage`` (``2**statusSize`` of them) and may point to
material about them with ``statusReference``. :class:`StatusMessages` is such a set of
named states. The service stores a k-bit list as k one-bit *planes* (plane ``j`` holds
bit ``j`` of every entry) and publishes their interleaving (:func:`interleave`).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from identity.encoding import multibase_decode, multibase_encode
from identity.errors import (
    CredentialStatusError,
    MalformedValueError,
    RangeError,
    StatusListLengthError,
    StatusVerificationError,
)

MIN_BITS = 131_072
MAX_DECODED_BYTES = 16 * 1024 * 1024  # refuse gzip bombs
PURPOSES = ("revocation", "suspension")
MESSAGE = "message"
MAX_STATUS_SIZE = 4
"""Largest ``statusSize`` issued here: up to 16 named states."""
PLANES = tuple(f"message.{j}" for j in range(MAX_STATUS_SIZE))
"""The stored one-bit lists that make up every multi-bit message list of a group."""
_HEX_STATUS = re.compile(r"^0x[0-9a-fA-F]+$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
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
        """An all-zero list of ``bits`` entries (default the minimum of 131,072, 16 KiB, §5.1
        herd privacy); a non-positive or non-byte-aligned size is
        :class:`~identity.errors.RangeError`."""
        if bits <= 0 or bits % 8:
            raise RangeError("a bitstring holds a positive whole number of bytes", bits=bits)
        return cls(bytes(bits // 8))

    def __len__(self) -> int:
        return len(self.data) * 8

    def get(self, index: int) -> bool:
        """Bit ``index``, MSB first (§3.1: index 0 is the most significant bit of the first
        byte); outside the list is :class:`~identity.errors.StatusListLengthError`."""
        self._check(index)
        return bool(self.data[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool) -> None:
        """Set bit ``index`` (MSB first) to ``value`` in place; outside the list is
        :class:`~identity.errors.StatusListLengthError`."""
        self._check(index)
        mask = 0x80 >> (index % 8)
        if value:
            self.data[index // 8] |= mask
        else:
            self.data[index // 8] &= ~mask & 0xFF

    def value(self, index: int, size: int) -> int:
        """Entry ``index`` of ``size`` bits (§3.2: from bit ``index * size``, MSB first);
        RANGE_ERROR when it lies outside the list."""
        start = index * size
        if index < 0 or start + size > len(self):
            raise RangeError(
                f"status index {index} (of {size} bits) is outside the list of {len(self)} bits",
                index=index,
            )
        out = 0
        for position in range(start, start + size):
            out = (out << 1) | (self.data[position // 8] >> (7 - position % 8)) & 1
        return out

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


def interleave(planes: Sequence[bytes]) -> Bitstring:
    """The ``len(planes)``-bit list whose entry ``i`` has bit ``j`` from ``planes[j][i]``
    (most significant first). Work is proportional to the set bits (lists are sparse)."""
    size = len(planes)
    out = Bitstring.zeros(len(planes[0]) * 8 * size)
    for j, plane in enumerate(planes):
        for byte_index, byte in enumerate(plane):
            if not byte:
                continue
            for bit in range(8):
                if byte & (0x80 >> bit):
                    out.set((byte_index * 8 + bit) * size + j, True)
    return out


@dataclass(frozen=True, slots=True)
class StatusMessages:
    """Named states of a multi-bit ``message`` entry: ``messages[v]`` names value ``v``.

    There are ``2**size`` of them (§2.1 "the number of status messages MUST equal the
    number of possible values"), ``size`` from 1 to :data:`MAX_STATUS_SIZE`; each is a
    non-empty string, unique; ``references`` are URLs (``statusReference``).
    """

    messages: tuple[str, ...]
    references: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        count = len(self.messages)
        if count < 2 or count > 2**MAX_STATUS_SIZE or count & (count - 1):
            raise MalformedValueError(
                f"statusMessages must name 2, 4, 8 or 16 states (2**statusSize), not {count}",
                field="statusMessages",
            )
        if not all(isinstance(m, str) and m.strip() for m in self.messages):
            raise MalformedValueError("each status message must be a non-empty string")
        if len(set(self.messages)) != count:
            raise MalformedValueError("status messages must be unique", field="statusMessages")
        if not all(isinstance(r, str) and _URL.match(r) for r in self.references):
            raise MalformedValueError("statusReference must be URLs", field="statusReference")

    @classmethod
    def from_json(cls, messages: Any, references: Any = None) -> StatusMessages:
        """From a type definition: a list of names, and a URL or a list of URLs."""
        if not isinstance(messages, list):
            raise MalformedValueError("statusMessages must be a list", field="statusMessages")
        refs = [] if references is None else references
        refs = [refs] if isinstance(refs, str) else refs
        if not isinstance(refs, list):
            raise MalformedValueError("statusReference must be URLs", field="statusReference")
        return cls(tuple(messages), tuple(refs))

    @property
    def size(self) -> int:
        """``statusSize``: bits per entry."""
        return len(self.messages).bit_length() - 1

    def value_of(self, status: Any) -> int:
        """The value a status change names: a message, or its ``0x`` value."""
        if isinstance(status, str) and status in self.messages:
            return self.messages.index(status)
        if isinstance(status, str) and _HEX_STATUS.match(status):
            value = int(status, 16)
            if value < len(self.messages):
                return value
        raise MalformedValueError(
            f"status must be one of {list(self.messages)} or its 0x value",
            field="credentialStatus.status",
        )

    def entry_members(self) -> dict[str, Any]:
        """``statusSize``, ``statusMessage`` and (if any) ``statusReference`` (§2.1)."""
        members: dict[str, Any] = {
            "statusSize": self.size,
            "statusMessage": [
                {"status": hex(value), "message": message}
                for value, message in enumerate(self.messages)
            ],
        }
        if self.references:
            refs = self.references
            members["statusReference"] = refs[0] if len(refs) == 1 else list(refs)
        return members


def message_purpose(size: int) -> str:
    """The list key (and URL segment) of a group's ``size``-bit message list."""
    return f"{MESSAGE}-{size}"


def message_entry(list_url: str, index: int, messages: StatusMessages) -> dict[str, Any]:
    """A multi-bit ``BitstringStatusListEntry`` with ``statusPurpose: "message"``."""
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": MESSAGE,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
        **messages.entry_members(),
    }


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
    """One ``BitstringStatusListEntry``, checked (§2.1): ``size`` bits at ``index``,
    ``messages`` naming each value when the entry has a ``statusMessage``."""

    list_url: str
    index: int
    purpose: str
    size: int = 1
    messages: tuple[str, ...] = ()


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
        size, messages = _size_and_messages(item)
        out.append(StatusEntry(url, int(index), purpose, size, messages))
    return out


def _size_and_messages(item: dict[str, Any]) -> tuple[int, tuple[str, ...]]:
    """§2.1: ``statusSize`` an integer > 0 (1 when absent); ``statusMessage`` required
    when it is > 1, with exactly ``2**statusSize`` ``{status, message}`` objects;
    ``statusReference`` a URL or a list of URLs."""
    size = item.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise MalformedValueError("statusSize must be an integer > 0", field="statusSize")
    if size > 16:
        raise MalformedValueError("statusSize is too large", field="statusSize")
    reference = item.get("statusReference")
    if reference is not None:
        refs = reference if isinstance(reference, list) else [reference]
        if not refs or not all(isinstance(r, str) and _URL.match(r) for r in refs):
            raise MalformedValueError(
                "statusReference must be a URL or a list of URLs", field="statusReference"
            )
    listed = item.get("statusMessage")
    if listed is None:
        if size > 1:
            raise MalformedValueError(
                "statusMessage is required when statusSize > 1", field="statusMessage"
            )
        return size, ()
    if not isinstance(listed, list) or len(listed) != 2**size:
        raise MalformedValueError(
            f"statusMessage must list 2**statusSize = {2**size} states", field="statusMessage"
        )
    messages = []
    for value, element in enumerate(listed):
        if (
            not isinstance(element, dict)
            or not isinstance(element.get("message"), str)
            or not isinstance(element.get("status"), str)
            or not _HEX_STATUS.match(element["status"])
            or int(element["status"], 16) != value
        ):
            raise MalformedValueError(
                "each statusMessage element needs status (its 0x value, in order) and message",
                field="statusMessage",
            )
        messages.append(element["message"])
    return size, tuple(messages)


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
    """§3.2 Validate every entry; raise :class:`CredentialStatusError` naming every
    revocation or suspension that is set (all of them, not the first).

    The list must come from the credential's issuer, serve the entry's purpose and hold
    at least 131,072 entries of ``statusSize`` bits. A ``message`` entry is reported, not
    judged: ``{"status": "0x1", "message": "...", "valid": false}`` (§3.2 steps 11-14).
    ``None`` when the credential has no Bitstring status entry.
    """
    entries = parse_entries(credential)
    if not entries:
        return None
    results: dict[str, Any] = {}
    set_purposes: list[str] = []
    for entry in entries:
        listed = load(entry.list_url)
        if listed.issuer != issuer:
            raise StatusVerificationError("the status list's issuer is not the credential's")
        if listed.purpose != entry.purpose:
            raise StatusVerificationError("the status list does not serve this statusPurpose")
        if len(listed.bits) // entry.size < MIN_BITS:
            raise StatusListLengthError(
                f"status list holds fewer than {MIN_BITS} entries of {entry.size} bits"
            )
        value = listed.bits.value(entry.index, entry.size)
        if entry.purpose == MESSAGE or entry.messages:
            named = entry.messages[value] if entry.messages else ("set" if value else "unset")
            results[entry.purpose] = {"status": hex(value), "message": named, "valid": not value}
            continue
        results[entry.purpose] = bool(value)
        if value:
            set_purposes.append(entry.purpose)
    if set_purposes:
        words = " and ".join(
            "revoked" if p == "revocation" else "suspended" if p == "suspension" else p
            for p in set_purposes
        )
        raise CredentialStatusError(
            f"credential is {words}",
            statusPurpose=set_purposes[0] if len(set_purposes) == 1 else set_purposes,
        )
    return results
