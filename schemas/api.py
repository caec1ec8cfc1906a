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
    """VC-API issue request: the unsecured ``credential`` (its ``issuer`` must be the calling
    agency's DID) and ``options`` (e.g. the cryptosuite, an envelope media type,
    ``waitForCheckpoint``)."""

    credential: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class LogReceipt(BaseModel):
    """Where the issuance sits in the transparency log: ``origin`` of the log, leaf ``index`` and
    ``leafHash`` (hex SHA-256, RFC 9162 §2.1.1). With ``waitForCheckpoint`` also the signed
    ``checkpoint`` note, its ``treeSize`` and the hex ``inclusionProof``."""

    origin: str
    index: int
    leafHash: str
    checkpoint: str | None = None
    inclusionProof: list[str] | None = None
    treeSize: int | None = None


class IssueResponse(BaseModel):
    """The signed credential and, when the issuance was anchored, its log receipt."""

    verifiableCredential: dict[str, Any]
    receipt: LogReceipt | None = None


class VerifyRequest(BaseModel):
    """VC-API verify request: a secured credential (Data Integrity, or an enveloped one) and
    verification ``options``."""

    verifiableCredential: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class VerifyResponse(BaseModel):
    """A credential that verified: every named check in ``checks``, each one's outcome in
    ``results``. A credential that fails is answered with problem+json instead, never 200 with
    ``verified`` false."""

    verified: bool
    checks: list[str]
    results: dict[str, Any]
    problemDetails: list[dict[str, Any]]
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class VerifyPresentationRequest(BaseModel):
    """VC-API presentation verify request: the presentation and ``options``: ``challenge``
    (required) and ``domain`` (optional), which its holder proof must carry."""

    verifiablePresentation: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class StatusChange(BaseModel):
    """One status change: ``status`` as ``revoked``, ``suspended`` or ``active`` (also
    ``unsuspended``); or a boolean
    with ``statusPurpose`` revocation or suspension; or a named state (or its ``0x`` value)
    with ``statusPurpose`` message. Revocation cannot be undone."""

    model_config = ConfigDict(extra="allow")
    type: str | None = None
    statusPurpose: str | None = None
    status: str | bool


class UpdateStatusRequest(BaseModel):
    """Change the status of credential ``credentialId`` (issued by the calling agency): one
    change or a list applied together."""

    credentialId: str
    credentialStatus: list[StatusChange] | StatusChange


class CredentialTypeRequest(BaseModel):
    """Register a credential type: its name, the JSON Schema (Draft 2020-12) its
    ``credentialSubject`` must fit, and optional context, default validity in days (1-36500),
    suspendability, named states, selectively disclosable claims and display labels. Members
    must have their declared JSON types."""

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
    """Accredit an agency for credential types until ``validUntil`` (from ``validFrom``, default
    now); with ``parent``, an agency's delegation of its own root accreditation, within that
    accreditation's types and window."""

    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(description="The accredited agency's issuer id")
    types: list[str] = Field(min_length=1)
    validFrom: str | None = None
    validUntil: str
    parent: str | None = Field(default=None, description="Delegations: the parent accreditation")


class TokenRequest(BaseModel):
    """A login: a presentation signed by the citizen's DID with the challenge and domain from
    ``POST /auth/challenge``."""

    verifiablePresentation: dict[str, Any]


class CreateVerifierRequest(BaseModel):
    """Create a verifier API key (scope ``verify``); ``name`` is echoed in the answer to label it
    and is not stored. The key is shown once."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class CreateIssuerRequest(BaseModel):
    """Register an agency by display ``name``; ``id`` (2-63 of a-z, 0-9, -, not starting with -)
    is 12 random hex digits when absent. The answer carries its API key once."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")


class CreateKeyRequest(BaseModel):
    """A further API key for an agency, limited to ``scopes``; the key is shown once."""

    model_config = ConfigDict(extra="forbid")
    scopes: list[Literal["issue", "revoke", "read", "accredit", "share"]] = Field(min_length=1)


class IssuerView(BaseModel):
    """An agency as registered: id, name, its ``did:key`` DID and the verification method its
    credentials are signed with, and its did:web when there is one. Never its key."""

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
    """A newly registered agency, with its API key."""

    apiKey: str = Field(description="Shown once; only its hash is stored.")


class Health(BaseModel):
    """Readiness: ``status`` ``ok``, the storage backend's scheme (e.g. ``redis``, never its URL)
    and the service version."""

    status: str
    storage: str
    version: str
