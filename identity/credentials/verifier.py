"""Credential verification: named checks, run in the order of VC DM 2.0 §7.1.

Each check either passes (and may add details) or raises an :class:`IdentityError`.
:meth:`Verifier.verify` runs every check that can run, whatever failed before it, then
returns a :class:`VerifiedCredential` or raises :class:`CredentialNotVerified` carrying
every result -- so the API names each failed check (a credential both expired and
revoked reports both) -- never a bare ``False``.

Check order: ``wellFormed`` (§4) -> ``proof`` (VC-DI §4.4, one result for the whole
proof set) -> ``issuer`` (the proof's controller is the issuer) -> ``validityPeriod``
(§4.9 against the verifier's clock) -> extra checks (related resources, status, issuer
trust, log anchor) that later layers plug in. Only a credential that is not well formed
stops the run (nothing else can be read from it). ``issuer`` needs a verified proof: when
the proof check failed it is reported as skipped, with the reason, and never passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from identity.canonical import CanonicalObject
from identity.clock import Clock, xsd_datetime
from identity.credentials.model import Credential, parse_credential
from identity.dids import DidResolver
from identity.errors import (
    IdentityError,
    ProofVerificationError,
    ValidityPeriodError,
    VerificationError,
)
from identity.proofs import SuiteRegistry, VerifiedProof, verify_proofs


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One named check: passed, failed with ``error``, or not run (``skipped`` says why,
    and ``needs`` names the failed check it depended on). Only a passed check is valid."""

    name: str
    error: IdentityError | None = None
    details: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    needs: str | None = None

    @property
    def valid(self) -> bool:
        """Passed: neither failed nor skipped."""
        return self.error is None and self.skipped is None

    @property
    def failed(self) -> bool:
        """Failed with an error (a skipped check is neither valid nor failed)."""
        return self.error is not None


@dataclass(frozen=True, slots=True)
class Verified:
    """What the fixed steps established; extra checks read it. They run even when an
    earlier check failed: ``proofs`` is empty when the proof check failed, so a check
    that needs the signer must look at :attr:`proof_verified`."""

    credential: Credential
    proofs: tuple[VerifiedProof, ...]
    canonical: CanonicalObject | None = None
    """The JCS members of ``credential.json`` the proof check serialized (if any)."""

    @property
    def proof_verified(self) -> bool:
        """Whether the proof check passed (there is at least one verified proof)."""
        return bool(self.proofs)

    def credential_digest(self) -> bytes:
        """SHA-256 of the JCS of the whole credential (what the log and records refer
        to), assembled from the members the proof check already serialized: one
        canonical serialization per request."""
        canonical = self.canonical or CanonicalObject(self.credential.json)
        return hashlib.sha256(canonical.whole()).digest()


ExtraCheck = tuple[str, Callable[[Verified, dict[str, Any]], dict[str, Any] | None]]
"""(name, fn): ``fn(verified, options)`` returns details, ``None`` to skip, or raises."""


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """A credential every check passed: its parse, the proofs that verified (the signers'
    methods) and every check's result in order (``results`` of the VC-API answer)."""

    credential: Credential
    proofs: tuple[VerifiedProof, ...]
    checks: tuple[CheckResult, ...]


class CredentialNotVerified(VerificationError):
    """At least one check failed; ``checks`` holds every result (passed, failed,
    skipped), ``failed`` the failed ones, in check order."""

    def __init__(self, checks: Sequence[CheckResult]) -> None:
        failed = [c for c in checks if c.failed]
        reasons = "; ".join(f"{c.name}: {c.error.detail}" for c in failed if c.error)
        super().__init__(f"credential failed verification: {reasons}")
        self.checks = tuple(checks)
        self.failed = tuple(failed)
        first = failed[0].error
        self.type_uri = type(first).type_uri if first else self.type_uri  # type: ignore[misc]
        self.title = type(first).title if first else self.title  # type: ignore[misc]


class Verifier:
    """The verification steps of VC DM 2.0 §7.1 in a fixed order -- well-formed, proof
    (``assertionMethod``), issuer bound to the signer, validity period -- then the
    ``extra_checks`` (status, trust, anchor... in the service), each run even when an
    earlier one failed so every result is reported. ``clock`` is the validity moment."""

    def __init__(
        self,
        registry: SuiteRegistry,
        resolver: DidResolver,
        clock: Clock,
        extra_checks: Sequence[ExtraCheck] = (),
    ) -> None:
        self.registry = registry
        self.resolver = resolver
        self.clock = clock
        self.extra_checks = tuple(extra_checks)

    def verify(self, document: Any, options: dict[str, Any] | None = None) -> VerifiedCredential:
        """The verified credential, or :class:`CredentialNotVerified` carrying every check
        (``options`` reach the extra checks; ``options.checks`` narrows what is reported
        and required). Never returns a credential with a failed check."""
        options = options or {}
        try:
            credential = parse_credential(document)
        except IdentityError as exc:
            raise CredentialNotVerified([CheckResult("wellFormed", exc)]) from exc
        results = [CheckResult("wellFormed")]
        canonical = CanonicalObject(credential.json)
        proofs = self._check_proof(credential, results, canonical)
        if proofs is None:
            results.append(
                CheckResult(
                    "issuer",
                    skipped="needs a verified proof; the proof check failed",
                    needs="proof",
                )
            )
        else:
            results.append(self._check_issuer(credential, proofs))
        results.append(self._check_validity(credential))
        results.extend(self._run_extra(Verified(credential, proofs or (), canonical), options))
        results = _requested(results, options.get("checks"))
        if not all(r.valid for r in results):
            raise CredentialNotVerified(results)
        assert proofs is not None  # a failed proof check is always among the results
        return VerifiedCredential(credential, proofs, tuple(results))

    def _check_proof(
        self, credential: Credential, results: list[CheckResult], canonical: CanonicalObject
    ) -> tuple[VerifiedProof, ...] | None:
        try:
            proofs = tuple(
                verify_proofs(
                    credential.json,
                    self.registry,
                    self.resolver,
                    purpose="assertionMethod",
                    canonical=canonical,
                )
            )
        except IdentityError as exc:
            results.append(CheckResult("proof", exc))
            return None
        results.append(
            CheckResult(
                "proof",
                details={
                    "proofs": [
                        {"cryptosuite": p.cryptosuite, "verificationMethod": p.method.id}
                        for p in proofs
                    ]
                },
            )
        )
        return proofs

    @staticmethod
    def _check_issuer(credential: Credential, proofs: tuple[VerifiedProof, ...]) -> CheckResult:
        """The issuer must control a key that signed (VC DM 2.0 §4.7, VC-DI §4.4)."""
        if any(p.controller == credential.issuer for p in proofs):
            return CheckResult("issuer", details={"issuer": credential.issuer})
        return CheckResult(
            "issuer",
            ProofVerificationError(
                "no proof was made by a key the issuer controls", issuer=credential.issuer
            ),
        )

    def _check_validity(self, credential: Credential) -> CheckResult:
        now = self.clock.now()
        if credential.valid_from is not None and now < credential.valid_from:
            at, starts = xsd_datetime(now), xsd_datetime(credential.valid_from)
            return CheckResult(
                "validityPeriod",
                ValidityPeriodError(
                    f"credential is not yet valid: validFrom is {starts}, now is {at}",
                    validFrom=starts,
                    now=at,
                ),
            )
        if credential.valid_until is not None and now > credential.valid_until:
            at, ended = xsd_datetime(now), xsd_datetime(credential.valid_until)
            return CheckResult(
                "validityPeriod",
                ValidityPeriodError(
                    f"credential has expired: validUntil was {ended}, now is {at}",
                    validUntil=ended,
                    now=at,
                ),
            )
        return CheckResult("validityPeriod")

    def _run_extra(
        self, verified: Verified, options: dict[str, Any], exclude: str | None = None
    ) -> list[CheckResult]:
        """Run each of :attr:`extra_checks` but the one named ``exclude``: a result per
        check that failed or returned details."""
        out = []
        for name, check in self.extra_checks:
            if name == exclude:
                continue
            try:
                details = check(verified, options)
            except IdentityError as exc:
                out.append(CheckResult(name, exc))
                continue
            if details is not None:
                out.append(CheckResult(name, details=details))
        return out


def _requested(results: list[CheckResult], checks: Any) -> list[CheckResult]:
    """VC-API ``options.checks``: when the caller names checks, only those (and
    ``wellFormed``, and the failed check a named one was skipped for) decide and are
    reported; otherwise every check does. A verified proof always decides."""
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        return results
    named = {"wellFormed", *checks}
    named |= {r.needs for r in results if r.name in named and r.needs is not None}
    return [r for r in results if r.name in named or (r.name == "proof" and r.failed)]
