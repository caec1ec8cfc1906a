"""Request and response envelopes of the REST API (VC-API / VCALM shapes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; extension members are allowed."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


class IssueRequest(BaseModel):
    credential: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class LogReceipt(BaseModel):
    origin: str
    index: int
    leafHash: str
    checkpoint: str | None = None
    inclusionProof: list[str] | None = None
    treeSize: int | None = None


class IssueResponse(BaseModel):
    verifiableCredential: dict[str, Any]
    receipt: LogReceipt | None = None


class VerifyRequest(BaseModel):
    verifiableCredential: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class VerifyResponse(BaseModel):
    verified: bool
    checks: list[str]
    results: dict[str, Any]
    problemDetails: list[dict[str, Any]]
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class VerifyPresentationRequest(BaseModel):
    verifiablePresentation: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str | None = None
    statusPurpose: str | None = None
    status: str | bool


class UpdateStatusRequest(BaseModel):
    credentialId: str
    credentialStatus: list[StatusChange] | StatusChange


class CredentialTypeRequest(BaseModel):
    # strict: JSON types as declared (no 0 for false, no "30" for 30); found by the fuzzer
    model_config = ConfigDict(extra="forbid", strict=True)
    type: str
    title: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    context: str | None = None
    validityDays: int | None = None
    suspendable: bool = True
    statusMessages: list[str] | None = None
    statusReference: str | list[str] | None = None
    selectivelyDisclosable: list[str] | None = None  # SD-JWT VC claim paths (issue #17)
    display: dict[str, str] | None = None  # the type's name per locale
    claimDisplay: dict[str, dict[str, str]] | None = None  # each claim's label per locale


class AccreditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(description="The accredited agency's issuer id")
    types: list[str] = Field(min_length=1)
    validFrom: str | None = None
    validUntil: str
    parent: str | None = Field(default=None, description="Delegations: the parent accreditation")


class TokenRequest(BaseModel):
    verifiablePresentation: dict[str, Any]


class CreateVerifierRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class CreateIssuerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")


class CreateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scopes: list[Literal["issue", "revoke", "read", "accredit", "share"]] = Field(min_length=1)


class IssuerView(BaseModel):
    id: str
    name: str
    did: str
    verificationMethod: str
    created: str
    didWeb: str | None = Field(
        default=None,
        description="The agency's did:web (same key as `did`); null when the service's "
        "public URL has no did:web form.",
    )


class CreatedIssuer(IssuerView):
    apiKey: str = Field(description="Shown once; only its hash is stored.")


class Health(BaseModel):
    status: str
    storage: str
    version: str
