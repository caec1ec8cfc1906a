"""Verification: cryptosuites, DID resolution (did:key, the city's DIDs, did:web), the
verifier with the service's own checks (status, issuer trust, anchor), and VC-JOSE-COSE
envelopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from identity.clock import Clock
from identity.credentials.related import check_related_resources
from identity.credentials.verifier import Verified, Verifier
from identity.dids.cityid import METHOD
from identity.dids.cityid_resolver import CityDidResolver
from identity.dids.key import DidKeyResolver
from identity.dids.resolver import MethodResolver
from identity.directory_store import DirectoryStore
from identity.errors import (
    LogIntegrityError,
    MalformedProofError,
    MalformedValueError,
    PermissionDeniedError,
    UnavailableError,
)
from identity.jsonld import ContextLoader
from identity.proofs import Cryptosuite, SuiteRegistry
from identity.proofs.suites import default_registry
from identity.stores import Store
from service.composition.issuance import Issuance
from service.didweb import web_resolver
from service.enveloped import Enveloping, build_enveloping
from service.log import Anchors
from service.settings import Settings


@dataclass(frozen=True)
class Proofs:
    """What verification is made of and issuance needs first: the JSON-LD contexts, the
    cryptosuites and the DID resolvers; built by :func:`build_proofs`."""

    contexts: ContextLoader
    registry: SuiteRegistry
    resolver: MethodResolver
    cityid: CityDidResolver


def build_proofs(
    settings: Settings, store: Store, clock: Clock, directory: DirectoryStore
) -> Proofs:
    """Contexts (bundled, plus ``settings.contexts_dir``), the default cryptosuites, and
    resolvers for did:key, the city's DIDs in ``directory`` and did:web."""
    contexts = ContextLoader(extra_dir=settings.contexts_dir)
    cityid = CityDidResolver(directory)
    resolver = MethodResolver(
        {"key": DidKeyResolver(), METHOD: cityid, "web": web_resolver(settings, store, clock)}
    )
    return Proofs(contexts, default_registry(contexts), resolver, cityid)


@dataclass(frozen=True)
class Verification:
    """The service's verifier and what it is made of; built by :func:`build_verification`."""

    registry: SuiteRegistry
    resolver: MethodResolver
    cityid: CityDidResolver
    verifier: Verifier
    enveloping: Enveloping
    """VC-JOSE-COSE envelopes (service/enveloped.py)."""
    default_cryptosuite: str

    def suite_for(self, options: Any) -> Cryptosuite:
        """Pick the cryptosuite from VC-API ``options`` (unknown options are ignored)."""
        options = options if isinstance(options, dict) else {}
        name = options.get("cryptosuite", self.default_cryptosuite)
        proof_type = options.get("type", "DataIntegrityProof")
        if not isinstance(name, str) or not isinstance(proof_type, str):
            raise MalformedValueError("options.type and options.cryptosuite must be strings")
        try:
            return self.registry.named(proof_type, name)
        except MalformedProofError:  # the caller's options, not a proof, are wrong
            supported = [c for c in self.registry.names() if c != "None"]
            raise MalformedValueError(
                f"options.cryptosuite {name!r} with options.type {proof_type!r} is not "
                f"supported for issuing; use one of: {', '.join(supported)} "
                "(type DataIntegrityProof)",
                field="options.cryptosuite",
                supported=supported,
            ) from None


@dataclass(frozen=True)
class ServiceChecks:
    """The verifier's checks beyond the Data Integrity proof, over the service's state."""

    store: Store
    issuance: Issuance
    anchors: Anchors

    def status(self, verified: Verified, options: dict[str, Any]) -> dict[str, Any] | None:
        """``results.status``: every ``credentialStatus`` entry checked against its list
        (``None``: the credential has none, the check is skipped)."""
        return self.issuance.status.check(verified.credential.json, verified.credential.issuer)

    def issuer_trust(self, verified: Verified, options: dict[str, Any]) -> dict[str, Any]:
        """Reported always; a failure only when ``options.requireAccreditedIssuer``."""
        result = self.issuance.trust.issuer_trust(verified.credential)
        if options.get("requireAccreditedIssuer") and not result.get("accredited"):
            raise PermissionDeniedError(
                "the issuer was not accredited for this credential type at issuance",
                issuerTrust=result,
            )
        return result

    def anchor(self, verified: Verified, options: dict[str, Any]) -> dict[str, Any] | None:
        """``results.anchor`` for credentials this log anchored (skipped for others)."""
        try:
            return self.anchors.check_anchor(verified.credential_digest(), self.store)
        except LogIntegrityError as exc:  # the store is damaged, not the credential
            raise UnavailableError(f"the anchor cannot be checked now: {exc.detail}") from exc


def build_verification(
    settings: Settings,
    store: Store,
    clock: Clock,
    proofs: Proofs,
    issuance: Issuance,
    anchors: Anchors,
) -> Verification:
    """The verifier over ``proofs``, checking related resources, status (``issuance``),
    issuer trust and the anchor in the log; and envelopes verified by it."""
    checks = ServiceChecks(store, issuance, anchors)
    contexts = proofs.contexts
    verifier = Verifier(
        proofs.registry,
        proofs.resolver,
        clock,
        extra_checks=[
            (
                "relatedResource",
                lambda v, _: check_related_resources(v.credential.json, contexts),
            ),
            ("status", checks.status),
            ("issuerTrust", checks.issuer_trust),
            ("anchor", checks.anchor),
        ],
    )
    enveloping = build_enveloping(
        verifier, proofs.registry, anchors, store, settings.max_json_depth
    )
    return Verification(
        registry=proofs.registry,
        resolver=proofs.resolver,
        cityid=proofs.cityid,
        verifier=verifier,
        enveloping=enveloping,
        default_cryptosuite=settings.default_cryptosuite,
    )
