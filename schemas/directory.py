"""Wire shapes of the directory chain, for the OpenAPI description.

The core validates these bodies itself (``identity.dids.cityid``,
``identity.registry.catalog``, ``identity.registry.sharing``), strictly and with the
exact error it reports; these models document them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DidOperation(BaseModel):
    """A did:cityid operation with its eddsa-jcs-2022 capabilityInvocation proof."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["create", "update", "deactivate"]
    did: str | None = Field(default=None, description="update and deactivate only")
    previous: str | None = Field(
        default=None, description="sha256:<hex> of the operation this one follows"
    )
    document: dict[str, Any] | None = Field(
        default=None,
        description="verificationMethod (Ed25519 Multikeys, #fragment ids), purposes as "
        "lists of fragments (capabilityInvocation required), service",
    )
    nonce: str | None = Field(default=None, description="create only: a different DID")
    proof: dict[str, Any]


class CatalogField(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    description: str | None = None
    personal: bool = True


class CatalogEntryRequest(BaseModel):
    """One version of a catalog entry; posting an existing id publishes the next version."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    fields: list[CatalogField] = Field(min_length=1, max_length=64)
    legalBasis: str = Field(min_length=1, max_length=1000)
    responsibility: str | None = Field(default=None, max_length=1000)
    requesters: list[str] = Field(min_length=1, description='agency ids, or ["*"]')
    conditions: str | None = Field(default=None, max_length=2000)


class SharingRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource: str = Field(description="a catalog entry id")
    subject: str = Field(description="the citizen's DID")
    purpose: str = Field(min_length=1, max_length=1000)
    fields: list[str] | None = Field(default=None, description="default: every field")


class ExemptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    legalBasis: str = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)


class AccessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[str] | None = Field(default=None, description="default: the request's")
