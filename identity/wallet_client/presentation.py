"""The reference wallet's presentation half (OpenID4VP 1.0): pure logic, no I/O.

Given the parameters of the ``openid4vp://`` URI (parsed by the CLI), the fetched request
object (:func:`verify_request_object`: signed by the DID in a ``decentralized_identifier:``
``client_id``, resolved here for ``did:key``), the credentials held
(:class:`HeldCredential`, read from a folder by the CLI) and the holder's key,
:func:`build_response` chooses a matching credential for each Credential Query, discloses
only the claims asked for and binds each SD-JWT VC to the request's nonce and the full
``client_id`` (KB-JWT). An ``ldp_vc`` query is answered with a Data Integrity
presentation of the whole held credential (Data Integrity has no selective disclosure
here), signed by the holder's Ed25519 key (its ``did:key`` is the ``holder``) with
``challenge`` = nonce and ``domain`` = the full ``client_id`` (§B.1.3.2.5, eddsa-jcs-2022).
The CLI posts the returned form to ``response_uri``.

A folder (until the issuance half's ``folder.py`` lands): ``*.sd-jwt`` files each holding
one SD-JWT VC, and ``holder.jwk`` the holder's private JWK.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from identity.credentials.presentations import sign_presentation
from identity.dids.key import did_from_key, key_from_did
from identity.errors import MalformedValueError
from identity.jose.jws import parse_compact, verify_compact
from identity.jose.keys import PublicJwk, SigningKey, b64url_decode
from identity.keys import Ed25519PrivateKey
from identity.oid4vp import dcql
from identity.oid4vp.errors import Oid4vpError
from identity.oid4vp.requests import DID_PREFIX, REDIRECT_PREFIX, REQUEST_TYP
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.sdjwt.disclosures import SD_ALG, Disclosure, reveal
from identity.sdjwt.format import split
from identity.sdjwt.holder import KeyBinding, disclosure_paths, present


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """A credential the wallet holds: its ``format`` and compact/JSON form."""

    name: str
    format: str
    credential: str

    def claims(self) -> dict[str, Any]:
        """Every claim of an SD-JWT VC, all disclosures applied (the holder's own view)."""
        parts = split(self.credential)
        payload = parse_compact(parts.issuer_jwt).claims()
        payload.pop(SD_ALG, None)
        return reveal(payload, [Disclosure.parse(d) for d in parts.disclosures]).claims

    def document(self) -> dict[str, Any]:
        """An ``ldp_vc``'s JSON document (``credential`` holds it as JSON text)."""
        value = json.loads(self.credential)
        if not isinstance(value, dict):
            raise MalformedValueError(f"{self.name} does not hold a JSON-LD credential")
        return value

    def meta_and_claims(self) -> tuple[dict[str, Any], Any]:
        """What DCQL ``meta`` is matched against, and the claims its paths select."""
        if self.format == dcql.SD_JWT_FORMAT:
            claims = self.claims()
            return {"vct": claims.get("vct")}, claims
        document = self.document()
        return {"type": document.get("type")}, document


def verify_request_object(token: str, client_id: str, *, now: int) -> dict[str, Any]:
    """The request object's claims, verified: ``typ`` (RFC 9101), signed by the key of
    the verification method ``kid`` of the DID in ``client_id`` (§5.9.3), the same
    ``client_id`` inside, not expired."""
    if not client_id.startswith(DID_PREFIX):
        raise Oid4vpError("only decentralized_identifier: client ids are signed here")
    did = client_id.removeprefix(DID_PREFIX)
    header = parse_compact(token).header
    kid = header.get("kid")
    if not isinstance(kid, str) or kid.partition("#")[0] != did:
        raise Oid4vpError("the request object's kid is not a key of the client_id's DID")
    key = PublicJwk.from_ed25519(key_from_did(did))
    claims = verify_compact(token, key, typ=REQUEST_TYP).claims()
    if claims.get("client_id") != client_id:
        raise Oid4vpError("the request object names another client_id")
    exp = claims.get("exp")
    if isinstance(exp, int) and exp <= now:
        raise Oid4vpError("the request object has expired")
    return claims


def unsigned_request(params: dict[str, str]) -> dict[str, Any]:
    """An unsigned request passed by value (``redirect_uri:`` prefix, §5.9.3)."""
    if not params["client_id"].startswith(REDIRECT_PREFIX):
        raise Oid4vpError("an unsigned request uses the redirect_uri: prefix")
    claims: dict[str, Any] = dict(params)
    claims["dcql_query"] = json.loads(params.get("dcql_query", "null"))
    if claims["client_id"] != REDIRECT_PREFIX + params.get("response_uri", ""):
        raise Oid4vpError("with direct_post the client_id is redirect_uri:<response_uri>")
    return claims


def choose(
    query: dcql.CredentialQuery, held: list[HeldCredential]
) -> tuple[HeldCredential, tuple[dcql.ClaimQuery, ...]] | None:
    """The first held credential that answers ``query``, with the claims to disclose."""
    for credential in held:
        if credential.format != query.format:
            continue
        meta, claims = credential.meta_and_claims()
        if not dcql.meta_matches(query, meta):
            continue
        chosen = dcql.satisfied_claims(query, claims)
        if chosen is not None:
            return credential, chosen
    return None


def _disclosable(sd_jwt: str, paths: list[str]) -> list[str]:
    """The asked paths that need a disclosure (always-disclosed claims need none)."""
    available = set(disclosure_paths(sd_jwt).values())

    def needs(path: str) -> bool:
        generic = path.replace("[]", "")
        return any(
            q == path or q.startswith((path + ".", path + "[")) or _strip(q) == generic
            for q in available
        )

    return [p for p in paths if needs(p)]


def _strip(path: str) -> str:
    out, depth = [], 0
    for char in path:
        depth += char == "["
        if depth == 0:
            out.append(char)
        depth -= char == "]"
    return "".join(out)


def build_response(
    request: dict[str, Any], held: list[HeldCredential], holder_key: SigningKey, *, now: int
) -> dict[str, str]:
    """The ``direct_post`` form (``vp_token``, ``state``) answering ``request``'s DCQL
    query with only the requested claims; :class:`MalformedValueError` when the wallet
    holds nothing that answers a required query."""
    query = dcql.parse_query(request.get("dcql_query"))
    token: dict[str, list[Any]] = {}
    for credential_query in query.credentials:
        found = choose(credential_query, held)
        if found is None:
            continue
        credential, claims = found
        if credential.format == dcql.LDP_FORMAT:
            token[credential_query.id] = [
                ldp_presentation(credential, request, holder_key, now=now)
            ]
            continue
        paths = _disclosable(credential.credential, [dcql.path_string(c.path) for c in claims])
        token[credential_query.id] = [
            present(
                credential.credential,
                paths,
                holder_key=holder_key,
                binding=KeyBinding(str(request["nonce"]), str(request["client_id"]), now),
            )
        ]
    missing = dcql.required_ids(query, set(token))
    if missing:
        raise MalformedValueError(
            f"no held credential answers: {', '.join(missing)}", missing=missing
        )
    form = {"vp_token": json.dumps(token, separators=(",", ":"))}
    if "state" in request:
        form["state"] = str(request["state"])
    return form


def ldp_presentation(
    credential: HeldCredential, request: dict[str, Any], holder_key: SigningKey, *, now: int
) -> dict[str, Any]:
    """A Data Integrity presentation (eddsa-jcs-2022, ``authentication``) of ``credential``
    by the holder's ``did:key``, ``challenge`` = the request's nonce and ``domain`` = its
    full ``client_id`` (§B.1.3.2.5); MalformedValueError for a holder key that is not
    Ed25519 (the cryptosuites the verifier offers are EdDSA ones)."""
    if holder_key.public_jwk.kty != "OKP":
        raise MalformedValueError("an ldp_vc presentation needs an Ed25519 holder key")
    key = Ed25519PrivateKey(b64url_decode(holder_key.private_jwk()["d"]))
    did = did_from_key(key.public_key())
    presentation: dict[str, Any] = sign_presentation(
        [credential.document()],
        holder_key=key,
        holder_did=did,
        verification_method=f"{did}#{did.removeprefix('did:key:')}",
        challenge=str(request["nonce"]),
        domain=str(request["client_id"]),
        suite=EddsaJcs2022(),
        created=datetime.fromtimestamp(now, UTC),
    )
    return presentation
