"""The cryptosuites this service signs and verifies with, in one registry."""

from __future__ import annotations

from identity.canonical import ContextSource
from identity.proofs import SuiteRegistry
from identity.proofs.ed25519_2020 import Ed25519Signature2020
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.proofs.eddsa_rdfc import EddsaRdfc2022


def default_registry(loader: ContextSource) -> SuiteRegistry:
    """eddsa-rdfc-2022, eddsa-jcs-2022 and (legacy) Ed25519Signature2020.

    ``loader`` is the offline context source of the RDFC suites, normally
    ``identity.jsonld.ContextLoader()``.
    """
    return SuiteRegistry([EddsaRdfc2022(loader), EddsaJcs2022(), Ed25519Signature2020(loader)])
