"""C2SP signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint).

A note is UTF-8 text ending in a newline, a blank line, then one line per signature::

    — <key name> <base64(key ID(4) ‖ signature)>

An Ed25519 key (signature type 0x01) has key ID ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pub)[:4]``
and verifier key string ``<name>+<hex key ID>+<base64(0x01 ‖ pub)>``. A checkpoint is
the note text ``<origin>\\n<decimal size>\\n<base64 root>\\n[extension lines]``.

Parsing is strict: any deviation raises :class:`MalformedValueError`; a signature that
does not verify raises :class:`LogProofError`. Signing goes through ``identity.keys``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

from identity.errors import LogProofError, MalformedValueError, ProofVerificationError
from identity.keys import Ed25519PrivateKey, Ed25519PublicKey
from identity.log.hashing import HASH_SIZE

ED25519_TYPE = 0x01
COSIGNATURE_V1_TYPE = 0x04  # c2sp.org/tlog-cosignature
SIG_PREFIX = "— "  # U+2014 EM DASH, space (signed-note §Signatures)
MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def b64decode_strict(text: str, what: str) -> bytes:
    """Standard padded base64 (RFC 4648 §4) that re-encodes to exactly ``text``."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise MalformedValueError(f"{what} is not valid base64", field=what) from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedValueError(f"{what} is not canonical base64", field=what)
    return raw


def check_key_name(name: str) -> str:
    """signed-note: a key name is non-empty and has no Unicode whitespace and no '+'."""
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise MalformedValueError("invalid signed-note key name", name=name)
    return name


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`` -- signed-note §Signatures."""
    return sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def _split_key(
    text: str, parts: int, types: tuple[int, ...], what: str
) -> tuple[str, bytes, int, bytes]:
    fields = text.split("+", parts - 1)
    if len(fields) != parts:
        raise MalformedValueError(f"{what} must have {parts} '+'-separated fields")
    name, hex_id, b64 = fields[-3:]
    check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise MalformedValueError(f"{what} key ID must be 8 lowercase hex digits")
    raw = b64decode_strict(b64, what)
    if len(raw) != 33 or raw[0] not in types:
        raise MalformedValueError(f"{what} must be a supported type with a 32-byte key")
    return name, bytes.fromhex(hex_id), raw[0], raw[1:]


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """An Ed25519 signed-note verifier key (or, with ``sig_type=0x04``, a cosigner key)."""

    name: str
    public_key: Ed25519PublicKey
    sig_type: int = ED25519_TYPE

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.sig_type not in (ED25519_TYPE, COSIGNATURE_V1_TYPE):
            raise MalformedValueError("unsupported signed-note signature type")

    @property
    def key_id(self) -> bytes:
        """The 4-byte signed-note key ID: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
        return key_id(self.name, self.sig_type, self.public_key.raw)

    @property
    def vkey(self) -> str:
        """The ``<name>+<hex id>+<base64(type ‖ pub)>`` verifier key string Go's ``note`` reads."""
        raw = base64.b64encode(bytes([self.sig_type]) + self.public_key.raw).decode()
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex id>+<base64(type ‖ pub)>``; the key ID must match."""
        if not isinstance(vkey, str):
            raise MalformedValueError("a verifier key is a string")
        types = (ED25519_TYPE, COSIGNATURE_V1_TYPE)
        name, kid, sig_type, pub = _split_key(vkey, 3, types, "verifier key")
        verifier = cls(name, Ed25519PublicKey(pub), sig_type)
        if verifier.key_id != kid:
            raise MalformedValueError("verifier key ID does not match its name and key")
        return verifier


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 signed-note signer: a key name and an ``identity.keys`` private key."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def verifier(self) -> NoteVerifier:
        """The verifier key (type 0x01, Ed25519) matching this signer."""
        return NoteVerifier(self.name, self.private_key.public_key())

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse Go's ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>``."""
        if not skey.startswith("PRIVATE+KEY+"):
            raise MalformedValueError("a signer key starts with PRIVATE+KEY+")
        name, kid, _, seed = _split_key(skey, 5, (ED25519_TYPE,), "signer key")
        signer = cls(name, Ed25519PrivateKey(seed))
        if signer.verifier.key_id != kid:
            raise MalformedValueError("signer key ID does not match its name and key")
        return signer

    def sign(self, text: str) -> NoteSignature:
        """Sign ``text`` (the exact note text, ending in a newline) with this key."""
        return NoteSignature(self.name, self.verifier.key_id, self.private_key.sign(text.encode()))


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line of a note: key name, 4-byte key ID, raw signature bytes.

    Raises ``MalformedValueError`` for a bad key name, a key ID not 4 bytes or an empty
    signature."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.key_id) != 4 or not self.signature:
            raise MalformedValueError("a note signature is a 4-byte key ID and a signature")

    def line(self) -> str:
        """The ``— <name> <base64(key ID ‖ signature)>`` line with its newline (signed-note)."""
        return (
            f"{SIG_PREFIX}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"
        )


@dataclass(frozen=True, slots=True)
class Note:
    """A signed note: ``text`` (ending in a newline) and its signatures, verified or not."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        if not self.text.endswith("\n") or _CONTROL.search(self.text):
            raise MalformedValueError("note text must end in a newline and have no controls")
        if not 0 < len(self.signatures) <= MAX_SIGNATURES:
            raise MalformedValueError("a note has 1 to 100 signatures")

    def to_bytes(self) -> bytes:
        """The note bytes: text, a blank line, then one line per signature."""
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode()


def parse_note(data: bytes) -> Note:
    """Split a signed note into text and signature lines (signed-note §Format), strictly."""
    try:
        whole = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedValueError("a signed note is UTF-8") from exc
    at = whole.rfind("\n\n")
    if at < 0 or not whole.endswith("\n"):
        raise MalformedValueError("a signed note is text, a blank line, then signature lines")
    text, sig_block = whole[: at + 1], whole[at + 2 :]
    signatures = []
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise MalformedValueError("a signature line starts with an em dash and a space")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep:
            raise MalformedValueError("a signature line is '— <name> <base64>'")
        raw = b64decode_strict(b64, "note signature")
        if len(raw) < 5:
            raise MalformedValueError("a note signature is a key ID and a signature")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


def sign_note(text: str, signers: Sequence[NoteSigner]) -> bytes:
    """Sign ``text`` with every signer and return the note bytes, signatures in signer order."""
    return Note(text, tuple(s.sign(text) for s in signers)).to_bytes()


def open_note(data: bytes, verifiers: Sequence[NoteVerifier]) -> Note:
    """Parse and verify: every signature by a known (name, key ID) must verify, and at
    least one must. Signatures by unknown keys are ignored (signed-note §Verification)."""
    note = parse_note(data)
    known = {(v.name, v.key_id): v for v in verifiers if v.sig_type == ED25519_TYPE}
    verified = 0
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        try:
            verifier.public_key.verify(sig.signature, note.text.encode())
        except ProofVerificationError as exc:
            raise LogProofError(f"note signature by {sig.name} does not verify") from exc
        verified += 1
    if not verified:
        raise LogProofError("note has no signature by a known key")
    return note


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """c2sp.org/tlog-checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or _CONTROL.search(self.origin):
            raise MalformedValueError("a checkpoint origin is one non-empty line")
        if not 0 <= self.size < 2**64:
            raise MalformedValueError("a checkpoint size is a uint64")
        if len(self.root) != HASH_SIZE:
            raise MalformedValueError("a checkpoint root is 32 bytes")
        if any(not e or "\n" in e or _CONTROL.search(e) for e in self.extensions):
            raise MalformedValueError("checkpoint extension lines are non-empty single lines")

    def body(self) -> str:
        """The checkpoint note text: origin, decimal size, base64 root, extensions, each a line."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text strictly (tlog-checkpoint §Note text).

        Raises ``MalformedValueError`` for a missing final newline, fewer than three lines, a
        size that is not canonical decimal or a root that is not base64 of 32 bytes."""
        if not text.endswith("\n"):
            raise MalformedValueError("a checkpoint body ends in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedValueError("a checkpoint has origin, size and root lines")
        if not _SIZE.fullmatch(lines[1]):
            raise MalformedValueError("a checkpoint size is decimal without leading zeros")
        root = b64decode_strict(lines[2], "checkpoint root")
        return cls(lines[0], int(lines[1]), root, tuple(lines[3:]))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint together with the exact signed-note bytes it was read from."""

    checkpoint: Checkpoint
    note: bytes


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> SignedCheckpoint:
    """Sign the checkpoint's body with the log's key into a signed note."""
    return SignedCheckpoint(checkpoint, sign_note(checkpoint.body(), [signer]))


def open_checkpoint(
    data: bytes, verifier: NoteVerifier, origin: str | None = None
) -> SignedCheckpoint:
    """Verify the log's signature, parse the body, and check the origin if given.

    The log signs with a key named after its origin (tlog-checkpoint §Note text)."""
    note = open_note(data, [verifier])
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != (origin if origin is not None else verifier.name):
        raise LogProofError("checkpoint is for another log", origin=checkpoint.origin)
    return SignedCheckpoint(checkpoint, data)


def verify_cosignature(body: str, signature: NoteSignature, cosigner: NoteVerifier) -> int:
    """Verify a c2sp.org/tlog-cosignature v1 line over a checkpoint body; return its time.

    The signature is ``key ID(4) ‖ u64be timestamp ‖ Ed25519 sig(64)`` over
    ``"cosignature/v1\\ntime <t>\\n" ‖ body``."""
    if cosigner.sig_type != COSIGNATURE_V1_TYPE:
        raise MalformedValueError("not a cosignature/v1 key")
    if signature.name != cosigner.name or signature.key_id != cosigner.key_id:
        raise LogProofError("cosignature is by another key")
    if len(signature.signature) != 8 + 64:
        raise MalformedValueError("a cosignature/v1 is a timestamp and a 64-byte signature")
    timestamp = int.from_bytes(signature.signature[:8], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    try:
        cosigner.public_key.verify(signature.signature[8:], message)
    except ProofVerificationError as exc:
        raise LogProofError("cosignature does not verify") from exc
    return timestamp
