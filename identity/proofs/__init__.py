"""W3C Data Integrity proofs (VC Data Integrity 1.0) with the EdDSA cryptosuites.

A :class:`Cryptosuite` supplies the three suite-specific algorithms -- transformation,
proof configuration and hashing -- and this module runs the generic *Add Proof*
(VC-DI §4.2) and *Verify Proof* (§4.4) around them. Verification recomputes the hash
from the JSON it was given and compares; it returns a :class:`VerifiedProof` or raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from identity.canonical import CanonicalObject, json_copy
from identity.dids import DidResolver, VerificationMethod
from identity.encoding import multibase_decode, multibase_encode
from identity.errors import (
    InvalidChallengeError,
    InvalidDomainError,
    MalformedProofError,
    ProofGenerationError,
    ProofVerificationError,
)
from identity.keys import Ed25519PrivateKey

Json = dict[str, Any]


class Cryptosuite(Protocol):
    """The suite-specific half of Data Integrity (EdDSA Cryptosuites §3.x)."""

    @property
    def proof_type(self) -> str:
        """The proof ``type`` this suite produces (e.g. ``DataIntegrityProof``)."""
        ...

    @property
    def cryptosuite(self) -> str | None:
        """The ``cryptosuite`` value, or None for a legacy suite named by ``type`` alone."""
        ...

    def transform(self, unsecured: Json) -> bytes:
        """Canonical bytes of the unsecured document (the *Transformation* algorithm)."""
        ...

    def configure(self, proof_options: Json, unsecured: Json) -> bytes:
        """Canonical bytes of the proof configuration (the *Proof Configuration* algorithm)."""
        ...

    def hash(self, transformed: bytes, config: bytes) -> bytes:
        """The *Hashing* algorithm: the bytes that are signed."""
        ...

    def proof_options(self, options: Json, unsecured: Json) -> Json:
        """The options the new proof is created with (a suite may add members)."""
        ...

    def prepare_verification(self, unsecured: Json, proof_options: Json) -> Json:
        """Suite-specific checks and adjustments before a verify (e.g. @context match)."""
        ...


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof that verified: who signed, with which key, for which purpose."""

    proof: Json
    method: VerificationMethod
    cryptosuite: str
    purpose: str

    @property
    def controller(self) -> str:
        """The DID that controls the signing key (from the resolved DID document, not from the
        proof's own claims): whom the proof binds."""
        return self.method.controller


class SuiteRegistry:
    """Looks up the suite for a proof by (type, cryptosuite)."""

    def __init__(self, suites: list[Cryptosuite]) -> None:
        self._suites = {(s.proof_type, s.cryptosuite): s for s in suites}

    def for_proof(self, proof: Json) -> Cryptosuite:
        """The suite for a proof's ``type`` and ``cryptosuite``; any pair not registered is a
        :class:`~identity.errors.MalformedProofError` listing those that are."""
        key: tuple[Any, Any] = (proof.get("type"), proof.get("cryptosuite"))
        suite = self._suites.get(key)
        if suite is None:
            known = ", ".join(sorted(f"{t}/{c}" if c else t for t, c in self._suites))
            raise MalformedProofError(
                f"unsupported proof type/cryptosuite {key[0]!r}/{key[1]!r}; supported: {known}",
                type=str(key[0]),
                cryptosuite=str(key[1]),
            )
        return suite

    def named(self, proof_type: str, cryptosuite: str | None) -> Cryptosuite:
        """:meth:`for_proof` by name (``cryptosuite`` None for a legacy suite such as
        Ed25519Signature2020); the same error for a pair not registered."""
        return self.for_proof({"type": proof_type, "cryptosuite": cryptosuite})

    def names(self) -> list[str]:
        """The registered ``cryptosuite`` values, sorted, as strings: a legacy suite that has
        none appears as ``"None"``."""
        return sorted(str(c) for _, c in self._suites)


def add_proof(suite: Cryptosuite, unsecured: Json, options: Json, key: Ed25519PrivateKey) -> Json:
    """VC-DI §4.2 Add Proof: return a copy of ``unsecured`` with one more proof.

    ``options`` is the proof without ``proofValue`` (type, cryptosuite, created,
    verificationMethod, proofPurpose, …). An existing ``proof`` becomes a proof set
    (§2.1.2); the new proof signs the document *without* the existing proofs unless
    ``options`` names them in ``previousProof`` (a proof chain, §2.1.3).
    """
    return add_proof_to(suite, json_copy(unsecured), options, key)


def add_proof_to(suite: Cryptosuite, document: Json, options: Json, key: Ed25519PrivateKey) -> Json:
    """:func:`add_proof` on ``document`` itself, not a copy: for a caller that made its own
    copy and gives it up (the issuer's bound credential); returns ``document``, signed."""
    existing = document.pop("proof", None)
    existing_list = (
        [] if existing is None else existing if isinstance(existing, list) else [existing]
    )
    signed_over = _with_previous_proofs(document, existing_list, options.get("previousProof"))
    options = suite.proof_options(options, signed_over)
    try:
        config = suite.configure(options, signed_over)
        transformed = suite.transform(signed_over)
    except ProofVerificationError as exc:
        raise ProofGenerationError(exc.detail, **exc.data) from exc
    signature = key.sign(suite.hash(transformed, config))
    proof = dict(options)
    proof["proofValue"] = multibase_encode(signature)
    proofs = [*existing_list, proof]
    document["proof"] = proofs[0] if len(proofs) == 1 else proofs
    return document


def _with_previous_proofs(document: Json, proofs: list[Any], previous: Any) -> Json:
    """The document a chained proof signs: the unsecured document plus the proofs it
    names in ``previousProof`` (VC-DI §4.5 step 4)."""
    if previous is None:
        return document
    wanted = [previous] if isinstance(previous, str) else previous
    if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
        raise MalformedProofError("previousProof must be a string or a list of strings")
    _require_unique_ids(proofs)
    by_id = {p.get("id"): p for p in proofs if isinstance(p, dict)}
    missing = [w for w in wanted if w not in by_id]
    if missing:
        raise ProofVerificationError(
            "previousProof names a proof that is not present", missing=missing
        )
    chained = dict(document)
    matched = [by_id[w] for w in wanted]
    chained["proof"] = matched[0] if len(matched) == 1 else matched
    return chained


def _require_unique_ids(proofs: list[Any]) -> None:
    """Two proofs with one id would make ``previousProof`` ambiguous (VC-DI §2.1.3)."""
    ids = [str(p["id"]) for p in proofs if isinstance(p, dict) and "id" in p]
    if len(ids) != len(set(ids)):
        raise MalformedProofError("proof ids in a proof set must be unique")


def proofs_of(secured: Json) -> list[Json]:
    """The proofs of ``secured`` as a list (one proof or a proof set, VC-DI §2.1.2); no proof, an
    empty set, a non-object member or two proofs with one ``id`` is a
    :class:`~identity.errors.MalformedProofError`."""
    proof = secured.get("proof")
    if proof is None:
        raise MalformedProofError("document has no proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if not proofs or not all(isinstance(p, dict) for p in proofs):
        raise MalformedProofError("proof must be an object or a non-empty array of objects")
    _require_unique_ids(proofs)
    return proofs


def verify_proofs(
    secured: Json,
    registry: SuiteRegistry,
    resolver: DidResolver,
    *,
    purpose: str,
    challenge: str | None = None,
    domain: str | None = None,
    canonical: CanonicalObject | None = None,
) -> list[VerifiedProof]:
    """VC-DI §4.4/§4.6: verify every proof of ``secured`` (a proof set or chain).

    ``canonical`` (a :class:`CanonicalObject` of ``secured``) lets a JCS suite reuse
    the members it serializes: the caller then has the JCS of ``secured`` itself
    without serializing the document again (``canonical.whole()``)."""
    proofs = proofs_of(secured)
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    for proof in proofs:
        _check_binding(proof, challenge, domain)
    return [
        verify_one(
            unsecured, proof, proofs, registry, resolver, purpose=purpose, canonical=canonical
        )
        for proof in proofs
    ]


def verify_one(
    unsecured: Json,
    proof: Json,
    all_proofs: list[Json],
    registry: SuiteRegistry,
    resolver: DidResolver,
    *,
    purpose: str,
    canonical: CanonicalObject | None = None,
) -> VerifiedProof:
    """VC-DI §4.4 Verify Proof for one proof of a set or chain (``canonical``: see
    :func:`verify_proofs`)."""
    _check_proof_shape(proof, purpose)
    suite = registry.for_proof(proof)
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    signed_over = _with_previous_proofs(unsecured, all_proofs, proof.get("previousProof"))
    signed_over = suite.prepare_verification(signed_over, options)
    try:
        signature = multibase_decode(proof["proofValue"])
    except Exception as exc:
        raise MalformedProofError("proofValue is not a valid multibase value") from exc
    method = resolver.verification_method(proof["verificationMethod"], _created(proof))
    method.require(purpose)
    transform_with = getattr(suite, "transform_with", None)
    if canonical is not None and transform_with is not None:
        transformed: bytes = transform_with(signed_over, canonical)
    else:
        transformed = suite.transform(signed_over)
    data = suite.hash(transformed, suite.configure(options, signed_over))
    method.public_key.verify(signature, data)
    return VerifiedProof(
        proof=proof,
        method=method,
        cryptosuite=str(suite.cryptosuite or suite.proof_type),
        purpose=purpose,
    )


def _created(proof: Json) -> datetime | None:
    """``proof.created`` as a moment: the time the key must have been valid at."""
    created = proof.get("created")
    if created is None:
        return None
    try:
        moment = datetime.fromisoformat(created)
    except (TypeError, ValueError):
        raise MalformedProofError("proof.created is not a date-time", member="created") from None
    if moment.tzinfo is None:
        raise MalformedProofError("proof.created needs a time zone", member="created")
    return moment


def _check_binding(proof: Json, challenge: str | None, domain: str | None) -> None:
    """VC-DI §4.4 steps on ``challenge`` and ``domain`` when the verifier expects them."""
    if challenge is not None and proof.get("challenge") != challenge:
        raise InvalidChallengeError("proof.challenge does not match the expected challenge")
    if domain is not None:
        got = proof.get("domain")
        got_list = got if isinstance(got, list) else [got]
        if domain not in got_list:
            raise InvalidDomainError("proof.domain does not match the expected domain")


def _check_proof_shape(proof: Json, purpose: str) -> None:
    """VC-DI §2.1 required members, checked before any cryptography."""
    for name in ("type", "verificationMethod", "proofPurpose", "proofValue"):
        if not isinstance(proof.get(name), str) or not proof[name]:
            raise MalformedProofError(f"proof.{name} is required and must be a string", member=name)
    if proof["proofPurpose"] != purpose:
        raise MalformedProofError(
            f"proofPurpose is {proof['proofPurpose']!r}, expected {purpose!r}",
            member="proofPurpose",
        )
    if "created" in proof and not isinstance(proof["created"], str):
        raise MalformedProofError("proof.created must be a dateTimeStamp string", member="created")
