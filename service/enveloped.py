"""VC-JOSE-COSE envelopes in the service: issuing by ``options.envelope`` and verifying
through the one ``/credentials/verify`` and ``/presentations/verify``.

:func:`build_enveloping` makes the one object the service's verification group
(service/composition/verification.py) holds for this (``svc.verification.enveloping``):
the :class:`EnvelopingVerifier` built over the service's Data Integrity verifier (same
resolver, clock and extra checks) and the securer the issuance flow calls
in place of a Data Integrity proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from identity.clock import xsd_datetime
from identity.credentials.issuer import SignedCredential
from identity.credentials.model import parse_credential
from identity.errors import LogIntegrityError, MalformedValueError, UnavailableError
from identity.jose.envelope import ISSUED_MEDIA_TYPES, is_enveloped, parse_envelope
from identity.jose.vcjose import EnvelopingVerifier, secure
from identity.keys import Ed25519PrivateKey
from identity.proofs.eddsa_jcs import JsonLdCheck
from identity.stores import IssuerRecord

if TYPE_CHECKING:
    from identity.credentials.verifier import Verifier
    from identity.proofs import SuiteRegistry
    from identity.stores import Store
    from service.log import Anchors

Json = dict[str, Any]


@dataclass(frozen=True)
class Enveloping:
    """Enveloped credentials for one running service."""

    verifier: EnvelopingVerifier
    jsonld: JsonLdCheck | None

    @staticmethod
    def media_type(options: Any) -> str | None:
        """``options.envelope`` of an issue request: ``application/vc+jwt`` or
        ``application/vc+cose``; ``None`` (absent) means a Data Integrity proof."""
        value = options.get("envelope") if isinstance(options, dict) else None
        if value is None:
            return None
        if value not in ISSUED_MEDIA_TYPES:
            raise MalformedValueError(
                f"options.envelope must be one of {', '.join(ISSUED_MEDIA_TYPES)}",
                field="options.envelope",
                supported=list(ISSUED_MEDIA_TYPES),
            )
        return str(value)

    def securer(
        self,
        media_type: str,
        issuer: IssuerRecord,
        key: Ed25519PrivateKey,
        kid: str,
        now: Callable[[], datetime],
    ) -> Callable[[Json], SignedCredential]:
        """What :meth:`Issuer.issue` calls instead of adding a proof: the prepared
        credential, checked (VC DM 2.0 and JSON-LD, as the jcs path checks it), secured
        as ``media_type`` and enveloped; its digest is of the token bytes handed out."""

        def secure_credential(document: Json) -> SignedCredential:
            if "proof" in document:
                raise MalformedValueError(
                    "a credential that already carries a proof cannot be enveloped",
                    field="credential.proof",
                )
            if "validFrom" not in document:
                # No proof.created in an envelope: validFrom is the issuance time the
                # trust check reads (VC DM 2.0 §4.9 lets the issuer set it).
                document = {**document, "validFrom": xsd_datetime(now().replace(microsecond=0))}
            credential = parse_credential(document)
            if credential.version != 2:
                raise MalformedValueError(
                    "VC-JOSE-COSE secures VC DM 2.0 credentials only",
                    field="credential.@context",
                )
            if self.jsonld is not None:
                self.jsonld.check(document)
            envelope = secure(document, media_type, key=key, kid=kid)
            token = parse_envelope(envelope, "vc").token_bytes
            return SignedCredential(envelope, credential, hashlib.sha256(token).digest())

        return secure_credential


def build_enveloping(
    verifier: Verifier,
    registry: SuiteRegistry,
    anchors: Anchors,
    store: Store,
    max_depth: int,
) -> Enveloping:
    """The service's :class:`Enveloping`, over its verifier, log anchors and contexts."""
    jsonld = getattr(registry.named("DataIntegrityProof", "eddsa-jcs-2022"), "jsonld", None)

    def anchor(digest: bytes) -> dict[str, Any] | None:
        try:
            return anchors.check_anchor(digest, store)
        except LogIntegrityError as exc:  # the store is damaged, not the credential
            raise UnavailableError(f"the anchor cannot be checked now: {exc.detail}") from exc

    enveloping_verifier = EnvelopingVerifier(
        verifier,
        anchor=anchor,
        jsonld=jsonld,
        max_depth=max_depth,
    )
    return Enveloping(enveloping_verifier, jsonld)


__all__ = ["Enveloping", "build_enveloping", "is_enveloped"]
