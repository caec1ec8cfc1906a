"""Compact JWS (RFC 7515 §7.1) signing and verification over joserfc.

:func:`verify_compact` parses first, then trusts: the size bound, the header's shape,
``alg`` (never ``none``, RFC 8725 §3.2; only what the key verifies), ``crit`` (only
extensions the caller names, RFC 7515 §4.1.11) and ``typ`` (RFC 8725 §3.11) are checked
before joserfc checks the signature. Every failure is a domain error from
:mod:`identity.errors`; it returns a :class:`Jws` or raises.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws as _jws
from joserfc._rfc7515.model import JWSAlgModel
from joserfc.errors import JoseError
from joserfc.errors import UnsupportedAlgorithmError as JoseUnsupportedAlgorithmError
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from identity.canonical import parse_json
from identity.errors import (
    ParsingError,
    ProofVerificationError,
    TokenParsingError,
    TokenTooLargeError,
    TokenTypeError,
    UnknownCriticalHeaderError,
    UnsupportedAlgorithmError,
)
from identity.jose.keys import (
    ED25519_ALGORITHMS,
    ES256_ALGORITHMS,
    PublicJwk,
    SigningKey,
    b64url,
    b64url_decode,
)

#: default bound on a compact JWS, in bytes (a credential with its claims, not a file)
MAX_COMPACT_SIZE = 64 * 1024
MAX_HEADER_SIZE = 4096
#: every ``alg`` this module verifies; anything else (``none`` included) is refused
SUPPORTED_ALGORITHMS = ED25519_ALGORITHMS | ES256_ALGORITHMS


@dataclass(frozen=True, slots=True)
class Jws:
    """A parsed compact JWS: its protected header, payload bytes and signature.

    Returned unverified by :func:`parse_compact`, verified by :func:`verify_compact`.
    ``signing_input`` is ``BASE64URL(header) '.' BASE64URL(payload)`` exactly as received.
    """

    header: dict[str, Any]
    payload: bytes
    signature: bytes
    signing_input: bytes

    def claims(self) -> dict[str, Any]:
        """The payload as a JSON object (I-JSON: no duplicate names); raises
        :class:`TokenParsingError` when it is not one."""
        return _json_object(self.payload, "JWS payload")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = parse_json(data)
    except ParsingError as exc:
        raise TokenParsingError(f"{what} is not valid JSON: {exc.detail}") from exc
    if not isinstance(value, dict):
        raise TokenParsingError(f"{what} is not a JSON object")
    return value


def parse_compact(token: object, *, max_size: int = MAX_COMPACT_SIZE) -> Jws:
    """Split and decode a compact JWS without verifying it (to read ``kid`` or ``iss``
    before choosing a key). Raises :class:`TokenTooLargeError` past ``max_size`` bytes and
    :class:`TokenParsingError` for anything not three base64url parts with a JSON
    object header."""
    if not isinstance(token, str):
        raise TokenParsingError("a compact JWS is a string")
    if len(token) > max_size:
        raise TokenTooLargeError(
            f"the token is {len(token)} bytes; at most {max_size} are accepted",
            size=len(token),
            limit=max_size,
        )
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenParsingError("a compact JWS has exactly three dot-separated parts")
    if len(parts[0]) > MAX_HEADER_SIZE:
        raise TokenTooLargeError("the JWS header is too large", limit=MAX_HEADER_SIZE)
    try:
        header_bytes, payload, signature = (b64url_decode(p) for p in parts)
    except ValueError as exc:
        raise TokenParsingError("a JWS part is not unpadded base64url") from exc
    header = _json_object(header_bytes, "JWS protected header")
    return Jws(header, payload, signature, f"{parts[0]}.{parts[1]}".encode("ascii"))


def check_header(
    header: Mapping[str, Any],
    key: PublicJwk,
    *,
    typ: str | Collection[str] | None,
    algorithms: Collection[str] | None = None,
    understood_crit: Collection[str] = (),
) -> str:
    """Check a protected header before any signature work; return its ``alg``.

    ``typ`` None means the header must not constrain it; a string or a collection are the
    accepted values (compared case-insensitively, RFC 7515 §4.1.9, with an optional
    ``application/`` prefix). ``algorithms`` narrows what the key verifies."""
    alg = header.get("alg")
    allowed = key.algorithms & set(algorithms if algorithms is not None else SUPPORTED_ALGORITHMS)
    if not isinstance(alg, str) or alg.lower() == "none" or alg not in allowed:
        raise UnsupportedAlgorithmError(
            f"JWS alg {alg!r} is not accepted for this key",
            alg=str(alg),
            allowed=sorted(allowed),
        )
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
            raise TokenParsingError("crit must be a non-empty array of names (RFC 7515 §4.1.11)")
        unknown = sorted(set(crit) - set(understood_crit))
        if unknown:
            raise UnknownCriticalHeaderError(
                f"critical header extension(s) not understood: {', '.join(unknown)}",
                crit=unknown,
            )
        missing = sorted(c for c in crit if c not in header)
        if missing:
            raise TokenParsingError(f"crit names absent header parameters: {', '.join(missing)}")
    if typ is not None:
        wanted = {typ} if isinstance(typ, str) else set(typ)
        got = header.get("typ")
        if not isinstance(got, str) or _media_type(got) not in {_media_type(t) for t in wanted}:
            raise TokenTypeError(
                f"JWT typ {got!r} is not {' or '.join(sorted(wanted))}",
                typ=str(got),
                expected=sorted(wanted),
            )
    return alg


def _media_type(value: str) -> str:
    lowered = value.lower()
    return lowered.removeprefix("application/")


def _any_value(_: object) -> None:
    """An extension's value is the caller's to check (it named the extension)."""


class _Registry(JWSRegistry):
    """joserfc's registry narrowed to the one ``alg`` already checked by
    :func:`check_header`, without joserfc's warning that RFC 9864 deprecates ``EdDSA``:
    EdDSA is what the SD-JWT libraries verify, and this module decides what is accepted."""

    def get_alg(self, name: str) -> JWSAlgModel:
        if name not in self.algorithms or not self.allowed or name not in self.allowed:
            raise JoseUnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


def _registry(alg: str, understood_crit: Collection[str], max_size: int) -> JWSRegistry:
    registry = _Registry(
        header_registry={
            name: HeaderParameter("extension understood by the caller", _any_value)
            for name in understood_crit
        },
        algorithms=[alg],
        strict_check_header=False,
    )
    registry.max_header_length = MAX_HEADER_SIZE
    registry.max_payload_length = max_size
    return registry


def verify_compact(
    token: object,
    key: PublicJwk,
    *,
    typ: str | Collection[str] | None,
    algorithms: Collection[str] | None = None,
    understood_crit: Collection[str] = (),
    max_size: int = MAX_COMPACT_SIZE,
) -> Jws:
    """Verify a compact JWS with ``key``; return it parsed or raise.

    Raises :class:`TokenTooLargeError`, :class:`TokenParsingError`,
    :class:`UnsupportedAlgorithmError` (``none``, unknown, or not the key's),
    :class:`UnknownCriticalHeaderError`, :class:`TokenTypeError` (see :func:`check_header`
    for ``typ``), and :class:`ProofVerificationError` when the signature does not verify.
    """
    parsed = parse_compact(token, max_size=max_size)
    alg = check_header(
        parsed.header, key, typ=typ, algorithms=algorithms, understood_crit=understood_crit
    )
    try:
        _jws.deserialize_compact(
            str(token),
            key._joserfc(),
            algorithms=[alg],
            registry=_registry(alg, understood_crit, max_size),
        )
    except JoseError as exc:
        raise ProofVerificationError(
            f"JWS signature does not verify ({exc.error})", alg=alg
        ) from exc
    return parsed


def sign_compact(
    header: Mapping[str, Any],
    payload: bytes | Mapping[str, Any],
    key: SigningKey,
    *,
    max_size: int = MAX_COMPACT_SIZE,
) -> str:
    """Sign ``payload`` (bytes, or a JSON object serialized compactly as UTF-8) with
    ``key``; ``alg`` is the key's, set here (a header's own ``alg`` must agree).

    ``header`` is copied in order; ``typ`` and ``kid`` are the caller's."""
    if "alg" in header and header["alg"] != key.alg:
        raise ValueError(f"header alg {header['alg']!r} is not the key's {key.alg!r}")
    if isinstance(payload, Mapping):
        # Any JSON serialization is a valid JWS payload (RFC 7515 §3); the verifier reads
        # the bytes. ensure_ascii=False keeps non-ASCII claims (Chinese names) UTF-8.
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    else:
        body = bytes(payload)
    protected = {"alg": key.alg, **{k: v for k, v in header.items() if k != "alg"}}
    crit = protected.get("crit", ())
    token = _jws.serialize_compact(
        protected,
        body,
        key.joserfc_key(),
        algorithms=[key.alg],
        registry=_registry(key.alg, crit if isinstance(crit, list) else (), max_size),
    )
    return token


__all__ = [
    "MAX_COMPACT_SIZE",
    "SUPPORTED_ALGORITHMS",
    "Jws",
    "b64url",
    "check_header",
    "parse_compact",
    "sign_compact",
    "verify_compact",
]
