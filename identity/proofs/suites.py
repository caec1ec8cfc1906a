"""The cryptosuites this service signs and verifies with, in one registry."""

from __future__ import annotations

from identity.canonical.terms import ContextUrls, JsonLdChecker
from identity.proofs import SuiteRegistry
from identity.proofs.ed25519_2020 import Ed25519Signature2020
from identity.proofs.eddsa_jcs import EddsaJcs2022
from identity.proofs.eddsa_rdfc import EddsaRdfc2022


def default_registry(
    loader: ContextUrls, *, jcs_json_ld: bool = True, rdfc_fast_path: bool = True
) -> SuiteRegistry:
    """eddsa-rdfc-2022, eddsa-jcs-2022 and (legacy) Ed25519Signature2020.

    ``loader`` is the offline context source, normally ``identity.jsonld.ContextLoader()``.
    eddsa-jcs-2022 checks JSON-LD validity against it like the RDFC suites do, unless
    ``jcs_json_ld`` is False (only for measuring what the check costs). eddsa-rdfc-2022
    takes the RDFC-1.0 fast path unless ``rdfc_fast_path`` is False (only for measuring
    the reference path; both give the same bytes).
    """
    jcs = EddsaJcs2022(JsonLdChecker(loader) if jcs_json_ld else None)
    rdfc = EddsaRdfc2022(loader, fast_path=rdfc_fast_path)
    return SuiteRegistry([rdfc, jcs, Ed25519Signature2020(loader)])
