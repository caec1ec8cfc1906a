"""COSE_Sign1 (RFC 9052 §4.2) for VC-JOSE-COSE §3.3, over pycose and cbor2.

Signing and signature verification are pycose's (``Sign1Message``). What a verifier
must refuse before that is checked here on the raw CBOR, each with its own error:

* bytes that are not one CBOR item (trailing bytes included), or not a COSE_Sign1
  array ``[protected bstr, unprotected map, payload bstr, signature bstr]``, optionally
  under tag 18 (:class:`MalformedCoseError`, a well-formedness failure, 400);
* a detached (``nil``) payload: the envelope must carry the credential;
* ``alg`` missing, not in the protected header, or not allowed here
  (:class:`~identity.errors.UnsupportedAlgorithmError`);
* ``crit`` (2) naming a header this verifier does not understand (RFC 9052 §3.1:
  "the recipient MUST ... reject the message").

Header labels (RFC 9052 §3.1, RFC 9596 §2): 1 alg, 2 crit, 3 content type, 4 kid,
16 typ. Algorithms: EdDSA (-8) and ES256 (-7).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm, ContentType
from pycose.keys.curves import P256, Ed25519
from pycose.keys.ec2 import EC2Key
from pycose.keys.okp import OKPKey
from pycose.messages.cosemessage import CoseMessage
from pycose.messages.sign1message import Sign1Message

from identity.errors import (
    PROBLEMS,
    ParsingError,
    ProofVerificationError,
    UnknownCriticalHeaderError,
    UnsupportedAlgorithmError,
)

ALG, CRIT, CONTENT_TYPE, KID_LABEL, TYP = 1, 2, 3, 4, 16
COSE_SIGN1_TAG = 18
EDDSA, ES256 = -8, -7
ALLOWED_ALGS = {EDDSA: "EdDSA", ES256: "ES256"}
UNDERSTOOD_CRIT: frozenset[int | str] = frozenset()


class MalformedCoseError(ParsingError):
    """Not a COSE_Sign1 message in well-formed CBOR (400: not well formed)."""

    type_uri = PROBLEMS + "malformed-cose"
    title = "Malformed COSE_Sign1"


@dataclass(frozen=True, slots=True)
class DecodedSign1:
    """A COSE_Sign1 taken apart but NOT verified."""

    protected: dict[Any, Any]
    unprotected: dict[Any, Any]
    payload: bytes
    message: bytes

    @property
    def alg(self) -> int:
        """The protected ``alg`` (1) as its COSE number; read only after :func:`check_headers`
        (before that a missing ``alg`` is a ``KeyError``)."""
        value: int = self.protected[ALG]
        return value

    @property
    def kid(self) -> str | None:
        """The ``kid`` (4) as text (this service puts the verification method URL there)."""
        value = self.protected.get(KID_LABEL, self.unprotected.get(KID_LABEL))
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return value if isinstance(value, str) else None

    def header(self, label: int) -> Any:
        """A header parameter, protected first."""
        return self.protected.get(label, self.unprotected.get(label))


def _one_item(data: bytes, what: str) -> Any:
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError, OverflowError):
        raise MalformedCoseError(f"the {what} is not well-formed CBOR") from None
    if stream.tell() != len(data):
        raise MalformedCoseError(f"the {what} has bytes after its CBOR item")
    return item


def decode_sign1(message: bytes) -> DecodedSign1:
    """Check the CBOR structure of a COSE_Sign1 (headers: :func:`check_headers`; no
    signature is checked here)."""
    item = _one_item(message, "COSE_Sign1 message")
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise MalformedCoseError(f"CBOR tag {item.tag} is not COSE_Sign1 (18)")
        item = item.value
    if not isinstance(item, list | tuple) or len(item) != 4:  # cbor2 6: tuple under a tag
        raise MalformedCoseError("a COSE_Sign1 is an array of four items")
    protected_bytes, unprotected, payload, signature = item
    if not isinstance(protected_bytes, bytes) or not isinstance(unprotected, Mapping):
        raise MalformedCoseError("COSE_Sign1 headers are a bstr and a map")
    if payload is None:
        raise MalformedCoseError("a detached payload is not accepted: the envelope carries it")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise MalformedCoseError("COSE_Sign1 payload and signature are byte strings")
    protected = _one_item(protected_bytes, "protected header") if protected_bytes else {}
    if not isinstance(protected, Mapping):
        raise MalformedCoseError("the protected header is not a CBOR map")
    return DecodedSign1(dict(protected), dict(unprotected), payload, message)


def check_headers(decoded: DecodedSign1) -> None:
    """alg present, protected (RFC 9052 §3.1: "SHOULD be protected"; required here) and
    allowed; ``crit`` only with understood labels."""
    if ALG not in decoded.protected:
        raise UnsupportedAlgorithmError("the COSE protected header has no alg (1)")
    alg = decoded.protected[ALG]
    if alg not in ALLOWED_ALGS:
        raise UnsupportedAlgorithmError(
            f"COSE alg {str(alg)[:20]} is not accepted; use EdDSA (-8) or ES256 (-7)",
            alg=str(alg)[:20],
        )
    crit = decoded.header(CRIT)
    if crit is not None:
        if not isinstance(crit, list | tuple) or not crit:
            raise UnknownCriticalHeaderError("COSE crit (2) must be a non-empty array")
        unknown = [c for c in crit if c not in UNDERSTOOD_CRIT]
        if unknown:
            raise UnknownCriticalHeaderError(
                f"critical COSE header not understood: {', '.join(map(str, unknown))[:200]}",
                crit=[str(c) for c in unknown[:10]],
            )


def sign1(
    payload: bytes, *, seed: bytes, public: bytes, kid: str, typ: str, content_type: str
) -> bytes:
    """A tagged COSE_Sign1 of ``payload`` with an Ed25519 key (EdDSA, -8); ``alg``,
    ``kid``, ``typ`` and content type all in the protected header."""
    message = Sign1Message(
        phdr={Algorithm: EdDSA, KID: kid.encode("utf-8"), ContentType: content_type, TYP: typ},
        payload=payload,
    )
    message.key = OKPKey(crv=Ed25519, d=seed, x=public)
    encoded: bytes = message.encode(tag=True)
    return encoded


def verify_sign1(decoded: DecodedSign1, *, ed25519: bytes | None = None, p256: Any = None) -> None:
    """Check the signature with an Ed25519 public key (raw 32 bytes) or a P-256 public
    key (pyca ``EllipticCurvePublicKey``); raise :class:`ProofVerificationError`."""
    if decoded.alg == EDDSA and ed25519 is not None:
        key: Any = OKPKey(crv=Ed25519, x=ed25519)
    elif decoded.alg == ES256 and p256 is not None:
        numbers = p256.public_numbers()
        key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    else:
        raise ProofVerificationError("the COSE alg does not fit the verification key")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # pycose decodes tagged messages only; an untagged COSE_Sign1 is valid where
            # the context says what it is (RFC 9052 §2): tag 18 is the one byte 0xd2.
            tagged = decoded.message
            if not isinstance(_one_item(tagged, "message"), cbor2.CBORTag):
                tagged = b"\xd2" + tagged
            message = CoseMessage.decode(tagged)
            if not isinstance(message, Sign1Message):
                raise ProofVerificationError("not a COSE_Sign1 message")
            message.key = key
            valid = message.verify_signature()
    except Exception as exc:  # pycose raises its own and cryptography's errors
        raise ProofVerificationError("the COSE_Sign1 signature does not verify") from exc
    if not valid:
        raise ProofVerificationError("the COSE_Sign1 signature does not verify")
