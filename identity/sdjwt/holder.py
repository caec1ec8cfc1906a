"""The holder's side: choose which disclosures to present and bind them to a key
(RFC 9901 §4.3, the Key Binding JWT with ``nonce``, ``aud``, ``iat`` and ``sd_hash``).

A wallet calls :func:`present` with the SD-JWT it holds, the claim paths to show
(``dateOfBirth``, ``residenceAddress.district``, ``nationalities[0]``; a path also
brings the disclosures of the objects that contain it) and its key.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from identity.errors import MalformedValueError
from identity.jose.jws import parse_compact, sign_compact
from identity.jose.keys import SigningKey
from identity.sdjwt.disclosures import SD_ALG, Disclosure, reveal
from identity.sdjwt.format import SdJwtParts, sd_hash, split

KB_TYP = "kb+jwt"


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """What the verifier asked for: its ``nonce`` and ``aud``; ``issued_at`` the holder's
    clock (NumericDate)."""

    nonce: str
    audience: str
    issued_at: int


def disclosure_paths(sd_jwt: str) -> dict[str, str]:
    """Every disclosure of an SD-JWT (encoded) -> its claim path, for a wallet's UI."""
    parts = split(sd_jwt)
    payload = parse_compact(parts.issuer_jwt).claims()
    payload.pop(SD_ALG, None)
    disclosures = [Disclosure.parse(d) for d in parts.disclosures]
    paths = reveal(payload, disclosures).paths
    return {d.encoded: paths[d.digest] for d in disclosures}


def _wanted(path: str, selected: Collection[str]) -> bool:
    for want in selected:
        if path == want or ("[]" in want and _generic(path) == want):
            return True
        if want.startswith(path + ".") or want.startswith(path + "["):
            return True  # an object or element that contains a selected claim
    return False


def _generic(path: str) -> str:
    """``a[3].b`` -> ``a[].b``: a disclosed index matched by the policy's ``[]`` form."""
    out, depth = [], 0
    for char in path:
        if char == "[":
            depth += 1
            out.append("[")
        elif char == "]":
            depth -= 1
            out.append("]")
        elif depth == 0:
            out.append(char)
    return "".join(out)


def present(
    sd_jwt: str,
    disclose: Collection[str],
    *,
    holder_key: SigningKey | None = None,
    binding: KeyBinding | None = None,
) -> str:
    """The presentation of ``sd_jwt`` revealing only ``disclose`` (and what contains
    them), with a KB-JWT signed by ``holder_key`` when ``binding`` is given.

    Raises :class:`MalformedValueError` for a path that no disclosure has."""
    paths = disclosure_paths(sd_jwt)
    available = set(paths.values())
    unknown = sorted(
        p
        for p in disclose
        if not any(_wanted(q, [p]) and (q == p or _generic(q) == _generic(p)) for q in available)
    )
    if unknown:
        raise MalformedValueError(
            f"no disclosure for: {', '.join(unknown)}", paths=unknown, available=sorted(available)
        )
    parts = split(sd_jwt)
    chosen = tuple(d for d in parts.disclosures if _wanted(paths[d], disclose))
    shown = SdJwtParts(parts.issuer_jwt, chosen, None)
    if binding is None:
        return shown.serialize()
    if holder_key is None:
        raise ValueError("a key binding needs the holder's key")
    kb_jwt = sign_compact(
        {"typ": KB_TYP},
        {
            "iat": binding.issued_at,
            "aud": binding.audience,
            "nonce": binding.nonce,
            "sd_hash": sd_hash(shown.without_kb),
        },
        holder_key,
    )
    return SdJwtParts(parts.issuer_jwt, chosen, kb_jwt).serialize()
