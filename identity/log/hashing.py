"""RFC 9162 §2.1 hashing: leaf and interior-node hashes of a SHA-256 Merkle tree.

``leaf = SHA-256(0x00 ‖ data)``, ``node = SHA-256(0x01 ‖ left ‖ right)``; the empty tree's
root is ``SHA-256("")`` (§2.1.1). Every hash crossing a trust boundary must be exactly
32 bytes: :func:`check_hash` enforces it.
"""

from __future__ import annotations

from hashlib import sha256

from identity.errors import MalformedValueError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: MTH({}) = SHA-256() -- RFC 9162 §2.1.1.
EMPTY_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def leaf_hash(data: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 ‖ d(0)) -- RFC 9162 §2.1.1."""
    return sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right) -- RFC 9162 §2.1.1. Both children must be 32 bytes."""
    if len(left) != HASH_SIZE or len(right) != HASH_SIZE:
        raise MalformedValueError("a Merkle tree hash is exactly 32 bytes")
    return sha256(NODE_PREFIX + left + right).digest()


def check_hash(value: object, what: str = "hash") -> bytes:
    """Return ``value`` if it is a 32-byte ``bytes``; raise :class:`MalformedValueError`."""
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise MalformedValueError(f"{what} must be exactly 32 bytes", field=what)
    return value


def parse_hex_hash(text: str, what: str = "hash") -> bytes:
    """Decode a lowercase-or-uppercase hex SHA-256 hash (64 digits) strictly."""
    if len(text) != 2 * HASH_SIZE:
        raise MalformedValueError(f"{what} must be 64 hex digits", field=what)
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise MalformedValueError(f"{what} must be 64 hex digits", field=what) from exc
