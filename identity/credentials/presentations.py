"""Verifiable presentations (VC DM 2.0 §4.13) and the holder's proof (VC-DI §4.4).

A presentation verifies when its ``authentication`` proof was made by the holder for the
expected ``challenge`` and ``domain``, and every credential it carries verifies with the
same checks as ``/credentials/verify``. :func:`sign_presentation` is the holder's side
(the small client helper the README and tests use).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from identity.clock import xsd_datetime
from identity.credentials.model import V1_CONTEXT, V2_CONTEXT
from identity.credentials.verifier import (
    CheckResult,
    CredentialNotVerified,
    VerifiedCredential,
    Verifier,
)
from identity.dids import DidResolver
from identity.errors import (
    IdentityError,
    MalformedValueError,
    ParsingError,
    ProofVerificationError,
    VerificationError,
)
from identity.keys import Ed25519PrivateKey
from identity.proofs import Cryptosuite, SuiteRegistry, VerifiedProof, add_proof, verify_proofs

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class VerifiedPresentation:
    """A presentation whose holder proof (``authentication`` purpose, with the expected challenge
    and domain) and every embedded credential verified. ``holder`` is the presentation's
    ``holder`` id, if any; then some proof is by a key it controls."""

    holder: str | None
    proofs: tuple[VerifiedProof, ...]
    credentials: tuple[VerifiedCredential, ...]


class PresentationNotVerified(VerificationError):
    """The holder proof or an embedded credential failed; ``checks`` names each result.

    ``credentials`` holds, per embedded credential (by position), its failed checks.
    """

    def __init__(
        self, checks: list[CheckResult], credentials: dict[int, tuple[CheckResult, ...]]
    ) -> None:
        failed = [c for c in checks if not c.valid]
        first = failed[0].error if failed else None
        super().__init__(first.detail if first else "presentation failed verification")
        self.checks = tuple(checks)
        self.failed = tuple(failed)
        self.credentials = credentials
        if first is not None:
            self.type_uri = first.type_uri  # type: ignore[misc]
            self.title = first.title  # type: ignore[misc]


def parse_presentation(doc: Any) -> list[Any]:
    """Check the presentation's shape; return its embedded credentials."""
    if not isinstance(doc, dict):
        raise ParsingError("a presentation must be a JSON object")
    context = doc.get("@context")
    if not isinstance(context, list) or not context or context[0] not in (V2_CONTEXT, V1_CONTEXT):
        raise ParsingError(f"the first @context item must be {V2_CONTEXT}", field="@context")
    types = doc.get("type")
    listed = types if isinstance(types, list) else [types]
    if "VerifiablePresentation" not in listed:
        raise MalformedValueError("type must include VerifiablePresentation", field="type")
    if "holder" in doc:
        holder = doc["holder"]
        holder_id = holder.get("id") if isinstance(holder, dict) else holder
        if not isinstance(holder_id, str):
            raise MalformedValueError(
                "holder must be a URL or an object with an id", field="holder"
            )
    creds = doc.get("verifiableCredential", [])
    creds = creds if isinstance(creds, list) else [creds]
    if not all(isinstance(c, dict) for c in creds):
        raise MalformedValueError(
            "verifiableCredential must hold objects", field="verifiableCredential"
        )
    return creds


def _holder(doc: Json) -> str | None:
    holder = doc.get("holder")
    return holder.get("id") if isinstance(holder, dict) else holder


def verify_presentation(
    doc: Any,
    *,
    registry: SuiteRegistry,
    resolver: DidResolver,
    verifier: Verifier,
    challenge: str | None,
    domain: str | None,
    options: Json | None = None,
) -> VerifiedPresentation:
    """Verify the holder's proof, then every embedded credential; raise naming failures."""
    try:
        creds = parse_presentation(doc)
    except IdentityError as exc:
        raise PresentationNotVerified([CheckResult("wellFormed", exc)], {}) from exc
    checks = [CheckResult("wellFormed")]
    proofs: tuple[VerifiedProof, ...] = ()
    try:
        proofs = tuple(
            verify_proofs(
                doc,
                registry,
                resolver,
                purpose="authentication",
                challenge=challenge,
                domain=domain,
            )
        )
        holder = _holder(doc)
        if holder is not None and not any(p.controller == holder for p in proofs):
            raise ProofVerificationError("no proof was made by a key the holder controls")
        checks.append(CheckResult("holderProof"))
    except IdentityError as exc:
        checks.append(CheckResult("holderProof", exc))
    verified = verify_embedded(verifier, creds, options, checks)
    return VerifiedPresentation(_holder(doc), proofs, verified)


def verify_embedded(
    verifier: Verifier,
    creds: list[Json],
    options: dict[str, Any] | None,
    checks: list[CheckResult],
) -> tuple[VerifiedCredential, ...]:
    """Verify a presentation's credentials after its ``checks`` so far (holderProof):
    append the ``credentials`` check, then return the verified credentials, or raise
    :class:`PresentationNotVerified` with every check and each failed credential's."""
    verified: list[VerifiedCredential] = []
    failures: dict[int, tuple[CheckResult, ...]] = {}
    for position, cred in enumerate(creds):
        try:
            verified.append(verifier.verify(cred, options))
        except CredentialNotVerified as exc:
            failures[position] = exc.failed
    if failures:
        first = next(iter(failures.values()))[0]
        checks.append(CheckResult("credentials", first.error, {"failed": sorted(failures)}))
    else:
        checks.append(CheckResult("credentials", details={"count": len(verified)}))
    if not all(c.valid for c in checks):
        raise PresentationNotVerified(checks, failures)
    return tuple(verified)


def sign_presentation(
    credentials: list[Json],
    *,
    holder_key: Ed25519PrivateKey,
    holder_did: str,
    verification_method: str,
    challenge: str,
    domain: str | None,
    suite: Cryptosuite,
    created: datetime,
) -> Json:
    """The holder's side: wrap ``credentials`` and add an ``authentication`` proof."""
    presentation: Json = {
        "@context": [V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder_did,
        "verifiableCredential": credentials,
    }
    options: Json = {"type": suite.proof_type}
    if suite.cryptosuite is not None:
        options["cryptosuite"] = suite.cryptosuite
    options |= {
        "created": xsd_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": "authentication",
        "challenge": challenge,
    }
    if domain is not None:
        options["domain"] = domain
    return add_proof(suite, presentation, options, holder_key)
