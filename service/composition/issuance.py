"""Issuance: agencies' keys, the issuer, status lists, the trust registry, SD-JWT VCs
(issue #17) and the city-hosted wallet (issue #14)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

from identity.clock import Clock
from identity.credentials.issuer import Issuer
from identity.credentials.status import StatusMessages
from identity.credentials.verifier import Verifier
from identity.dids.resolver import MethodResolver
from identity.errors import ConflictError
from identity.jsonld import ContextLoader
from identity.keys import KeySealer
from identity.proofs import SuiteRegistry
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.registry.trust import TrustRegistry
from identity.registry.types import bundled_types
from identity.stores import Store
from service.agency_keys import AgencyKeys
from service.composition.log_side import LogSide
from service.log import type_anchor
from service.sdjwt import SdJwtVcService, build_sdjwt
from service.settings import Settings
from service.status import StatusLists
from service.wallet import Wallet, build_wallet


@dataclass(frozen=True)
class Issuance:
    """What makes, signs and revokes credentials; built once by :func:`build_issuance`."""

    keys: AgencyKeys
    """Agencies' signing keys (service/agency_keys.py)."""
    issuer: Issuer
    status: StatusLists
    trust: TrustRegistry
    sdjwt: SdJwtVcService
    """SD-JWT VCs and Token Status Lists (service/sdjwt.py, issue #17)."""
    wallet: Wallet
    """The city-hosted wallet (issue #14, service/wallet.py)."""

    def close(self) -> None:
        """Close the wallet's store (the service's store is closed by its owner)."""
        self.wallet.close()  # issue #14


def _seed_types(store: Store, clock: Clock) -> None:
    """Create the bundled credential types missing from ``store`` (each anchored)."""
    for credential_type in bundled_types():
        if store.find_type(credential_type.name) is None:
            seeded = replace(credential_type, created=clock.now())
            with contextlib.suppress(ConflictError):  # another replica seeded it
                store.create_type(seeded, type_anchor(seeded, clock.now()))


def build_issuance(
    settings: Settings,
    store: Store,
    clock: Clock,
    master_secret: bytes,
    log_side: LogSide,
    registry: SuiteRegistry,
    resolver: MethodResolver,
    contexts: ContextLoader,
) -> Issuance:
    """Issuance over ``store``, anchoring into ``log_side``; status lists check their own
    credentials with a plain verifier over ``registry`` and ``resolver``. Seeds the
    bundled credential types when the settings ask for it."""
    keys = AgencyKeys(KeySealer(master_secret))
    anchors = log_side.anchors
    issuer = Issuer(
        store,
        clock,
        anchor=anchors.credential_issued,
        write_record=log_side.write_record,
        log_origin=log_side.log.origin,
        contexts=contexts,
    )
    trust = TrustRegistry(
        store,
        store,
        clock,
        schema_base_url=settings.public_url,
        allow_unregistered_types=settings.allow_unregistered_types,
    )
    status = StatusLists(
        store,
        clock,
        settings.public_url,
        keys.signing_key_and_method,
        EddsaJcs2022(),
        Verifier(registry, resolver, clock),
        generic_messages=StatusMessages.from_json(settings.generic_status_messages)
        if settings.generic_status_messages
        else None,
        find_type=trust.find_type,
    )
    wallet = build_wallet(settings, store, master_secret, clock)  # issue #14
    if settings.seed_credential_types:
        _seed_types(store, clock)
    sdjwt = build_sdjwt(
        store,
        clock,
        settings.public_url,
        anchors,
        status,
        trust,
        keys.signing_key,
        log_side.write_record,
    )
    return Issuance(
        keys=keys, issuer=issuer, status=status, trust=trust, sdjwt=sdjwt, wallet=wallet
    )
