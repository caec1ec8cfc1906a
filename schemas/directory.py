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
    """One data field a catalog entry offers: its ``name`` (what requests ask for), a
    description, and whether it is personal data (default true)."""

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
    """Ask the holder of catalog entry ``resource`` for data about citizen ``subject``, for a
    stated ``purpose``; ``fields`` must be among the entry's (default all). The request then
    awaits the citizen's consent."""

    model_config = ConfigDict(extra="forbid")
    resource: str = Field(description="a catalog entry id")
    subject: str = Field(description="the citizen's DID")
    purpose: str = Field(min_length=1, max_length=1000)
    fields: list[str] | None = Field(default=None, description="default: every field")


class ExemptionRequest(BaseModel):
    """Operator only: let a request awaiting consent proceed without it, under the cited
    ``legalBasis`` (and optional case ``reference``); an exempted request cannot be withdrawn."""

    model_config = ConfigDict(extra="forbid")
    legalBasis: str = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)


class AccessRequest(BaseModel):
    """Record an access to the data of an approved request: the ``fields`` read, among those
    approved (default all of them)."""

    model_config = ConfigDict(extra="forbid")
    fields: list[str] | None = Field(default=None, description="default: the request's")
