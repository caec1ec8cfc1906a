"""Disclosures and digests (RFC 9901 §4.2) and the two tree walks over them.

A claim path names a place in the claims: ``dateOfBirth``, ``address.district`` (a
property of an object), ``nationalities[]`` (every element of an array, as policy) or
``nationalities[1]`` (one element, as disclosed). :func:`conceal` replaces the policy's
paths by digests, innermost first (so a disclosed object may itself hide members);
:func:`reveal` puts back exactly the disclosures presented and refuses the rest.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from identity.canonical import parse_json
from identity.errors import (
    ForbiddenSdClaimError,
    ParsingError,
    RepeatedDisclosureError,
    TokenParsingError,
    UnreferencedDisclosureError,
)
from identity.jose.keys import b64url, b64url_decode

RandomBytes = Callable[[int], bytes]

SD = "_sd"
ELLIPSIS = "..."
SD_ALG = "_sd_alg"
SHA_256 = "sha-256"  # RFC 9901 §4.1.1, the IANA Named Information hash name
SALT_BYTES = 16  # 128 bits, RFC 9901 §9.3
RESERVED = frozenset({SD, ELLIPSIS})


def sd_digest(encoded: str) -> str:
    """base64url(SHA-256(ASCII(disclosure))) -- the digest over the *encoded* form
    exactly as transmitted (RFC 9901 §4.2.3), never a re-encoding."""
    return b64url(hashlib.sha256(encoded.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One disclosure: ``[salt, name, value]`` for an object property, ``[salt, value]``
    for an array element (``name`` None). ``encoded`` is the string as transmitted."""

    salt: str
    name: str | None
    value: Any
    encoded: str = field(repr=False)

    @property
    def digest(self) -> str:
        """The SHA-256 digest that references this disclosure."""
        return sd_digest(self.encoded)

    @classmethod
    def make(cls, salt: str, name: str | None, value: Any) -> Disclosure:
        """Encode a new disclosure (UTF-8 JSON of the array, then base64url)."""
        if name is not None and name in RESERVED:
            raise ForbiddenSdClaimError(f"a disclosure may not name {name!r}", claim=name)
        array = [salt, value] if name is None else [salt, name, value]
        raw = json.dumps(array, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8")
        return cls(salt, name, value, b64url(raw))

    @classmethod
    def parse(cls, encoded: str) -> Disclosure:
        """Decode a disclosure; raise :class:`TokenParsingError` unless it is the
        base64url of a JSON array of 2 or 3 elements with a string salt (and name), and
        :class:`ForbiddenSdClaimError` for a name ``_sd`` or ``...`` (RFC 9901 §7.1)."""
        try:
            value = parse_json(b64url_decode(encoded))
        except (ValueError, ParsingError) as exc:
            raise TokenParsingError("a disclosure is not base64url-encoded JSON") from exc
        if not isinstance(value, list) or len(value) not in (2, 3):
            raise TokenParsingError("a disclosure is a JSON array of 2 or 3 elements")
        if not all(isinstance(v, str) for v in value[:-1]):
            raise TokenParsingError("a disclosure's salt and claim name are strings")
        name = value[1] if len(value) == 3 else None
        if name in RESERVED:
            raise ForbiddenSdClaimError(f"a disclosure may not name {name!r}", claim=name)
        return cls(value[0], name, value[-1], encoded)


def new_salt(random: RandomBytes) -> str:
    """A fresh 128-bit salt, base64url."""
    return b64url(random(SALT_BYTES))


def decoy_digest(random: RandomBytes) -> str:
    """A decoy digest (RFC 9901 §4.2.5): the hash of a random value, like any other."""
    return b64url(hashlib.sha256(random(32)).digest())


def _check_plain_claims(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key in value:
            if key in RESERVED or (key == SD_ALG and path == ""):
                raise ForbiddenSdClaimError(
                    f"claim name {key!r} is reserved by SD-JWT", claim=f"{path}.{key}".strip(".")
                )
            _check_plain_claims(value[key], f"{path}.{key}".strip("."))
    elif isinstance(value, list):
        for item in value:
            _check_plain_claims(item, f"{path}[]")


def conceal(
    claims: dict[str, Any],
    disclosable: Collection[str],
    random: RandomBytes,
    *,
    decoys: Callable[[], int],
) -> tuple[dict[str, Any], list[Disclosure]]:
    """Replace every claim at a ``disclosable`` path by its digest; return the payload
    and the disclosures (innermost first). ``decoys()`` tells how many decoy digests to
    add to each object or array that has a concealed member. ``_sd`` lists are sorted so
    the order of digests says nothing of the order of claims (RFC 9901 §4.2.4.1)."""
    _check_plain_claims(claims, "")
    out: list[Disclosure] = []
    wanted = frozenset(disclosable)

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            digests: list[str] = []
            for key, item in value.items():
                here = f"{path}.{key}" if path else key
                processed = walk(item, here)
                if here in wanted:
                    disclosure = Disclosure.make(new_salt(random), key, processed)
                    out.append(disclosure)
                    digests.append(disclosure.digest)
                else:
                    result[key] = processed
            if digests:
                digests.extend(decoy_digest(random) for _ in range(decoys()))
                result[SD] = sorted(digests)
            return result
        if isinstance(value, list):
            here = f"{path}[]"
            items: list[Any] = []
            for item in value:
                processed = walk(item, here)
                if here in wanted:
                    disclosure = Disclosure.make(new_salt(random), None, processed)
                    out.append(disclosure)
                    items.append({ELLIPSIS: disclosure.digest})
                else:
                    items.append(processed)
            if here in wanted:
                for _ in range(decoys()):
                    position = random(1)[0] % (len(items) + 1)
                    items.insert(position, {ELLIPSIS: decoy_digest(random)})
            return items
        return value

    payload = walk(claims, "")
    return payload, out


@dataclass(frozen=True, slots=True)
class Revealed:
    """The result of :func:`reveal`: the claims with every presented disclosure put back
    and every other digest removed, and the path of each disclosure used (same order as
    presented)."""

    claims: dict[str, Any]
    paths: dict[str, str]  # digest -> path such as "address.district" or "nationalities[1]"


def reveal(payload: dict[str, Any], disclosures: Iterable[Disclosure]) -> Revealed:
    """RFC 9901 §7.1 steps 3-5: put the disclosures back into ``payload``.

    Raises :class:`RepeatedDisclosureError` for a disclosure presented twice or a digest
    referenced twice, :class:`ForbiddenSdClaimError` for a malformed ``_sd``, a ``...``
    outside an array element, a disclosure of the wrong kind for where it is referenced,
    or a disclosed name already present, and :class:`UnreferencedDisclosureError` for a
    disclosure no digest references."""
    by_digest: dict[str, Disclosure] = {}
    for disclosure in disclosures:
        if disclosure.digest in by_digest:
            raise RepeatedDisclosureError(
                "the same disclosure is presented twice", digest=disclosure.digest
            )
        by_digest[disclosure.digest] = disclosure
    seen: set[str] = set()
    paths: dict[str, str] = {}

    def claim(digest: object, where: str) -> Disclosure | None:
        if not isinstance(digest, str):
            raise ForbiddenSdClaimError(f"{where}: a digest must be a string", path=where)
        if digest in seen:
            raise RepeatedDisclosureError(
                f"{where}: digest referenced more than once", digest=digest
            )
        seen.add(digest)
        return by_digest.get(digest)

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            if ELLIPSIS in value:
                raise ForbiddenSdClaimError(
                    f"{path or '$'}: '...' is allowed only as an array element's only key",
                    path=path,
                )
            result = {k: walk(v, f"{path}.{k}" if path else k) for k, v in value.items() if k != SD}
            digests = value.get(SD, [])
            if not isinstance(digests, list):
                raise ForbiddenSdClaimError(f"{path or '$'}: _sd must be an array", path=path)
            for digest in digests:
                found = claim(digest, path or "$")
                if found is None:
                    continue  # a decoy, or a claim the holder keeps
                if found.name is None:
                    raise ForbiddenSdClaimError(
                        "an array-element disclosure is referenced from an object's _sd",
                        digest=found.digest,
                    )
                if found.name in result:
                    raise ForbiddenSdClaimError(
                        f"disclosed claim {found.name!r} is already in the object",
                        claim=found.name,
                    )
                here = f"{path}.{found.name}" if path else found.name
                paths[found.digest] = here
                result[found.name] = walk(found.value, here)
            return result
        if isinstance(value, list):
            items: list[Any] = []
            for item in value:
                if isinstance(item, dict) and ELLIPSIS in item:
                    if len(item) != 1:
                        raise ForbiddenSdClaimError(
                            f"{path}: an array element with '...' has no other key", path=path
                        )
                    found = claim(item[ELLIPSIS], path)
                    if found is None:
                        continue
                    if found.name is not None:
                        raise ForbiddenSdClaimError(
                            "an object-property disclosure is referenced as an array element",
                            digest=found.digest,
                        )
                    here = f"{path}[{len(items)}]"
                    paths[found.digest] = here
                    items.append(walk(found.value, here))
                else:
                    items.append(walk(item, f"{path}[{len(items)}]"))
            return items
        return value

    claims = walk(payload, "")
    unreferenced = sorted(set(by_digest) - seen)
    if unreferenced:
        raise UnreferencedDisclosureError(
            f"{len(unreferenced)} disclosure(s) are not referenced by the issuer-signed JWT",
            digests=unreferenced,
        )
    return Revealed(claims, paths)


def decode_base64url_json(part: str) -> Any:
    """Helper for tests and tools: the JSON inside a base64url part."""
    return parse_json(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
