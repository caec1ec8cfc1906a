"""Success bodies of the REST API, for the OpenAPI description.

The routes build their answers as JSON themselves; these models state those shapes so
that clients (and the fuzzer in ``tests/service/test_fuzz.py``) can check them. Documents
defined by other specifications (credentials, DID documents, JSON Schemas) are open
objects here: their own specifications govern them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.api import LogReceipt

Json = dict[str, Any]


class Open(BaseModel):
    """Base of answers that may gain members: clients must ignore what they do not know."""

    model_config = ConfigDict(extra="allow")


class Live(Open):
    """``GET /health/live``: the process answers."""

    status: Literal["ok"]


class NewApiKey(Open):
    """A freshly made API key, shown once (only its hash is stored)."""

    apiKey: str = Field(description="`ik_<keyId>.<secret>`; send as `Authorization: Bearer`")
    keyId: str


class NewVerifierKey(NewApiKey):
    """A verifier API key (scope ``verify``)."""

    name: str


class CredentialTypeView(Open):
    """A registered credential type with its JSON Schema (Draft 2020-12)."""

    type: str
    title: str | None
    context: str | None
    validityDays: int | None
    suspendable: bool
    schema_: Json = Field(alias="schema")


class Anchored(Open):
    """An answer to an act that was anchored in the log."""

    receipt: LogReceipt


class RegisteredType(CredentialTypeView, Anchored):
    """``POST /credential-types``: the type and its log receipt."""


class AccreditationView(Open):
    """An accreditation in the Trusted Issuers Registry."""

    id: str
    issuer: str = Field(description="the accredited agency's issuer id")
    types: list[str]
    validFrom: str
    validUntil: str
    accreditedBy: str = Field(description='"operator", or the delegating agency\'s id')
    parent: str | None
    depth: int
    revoked: str | None
    created: str


class AnchoredAccreditation(AccreditationView, Anchored):
    """An accreditation granted or revoked, with its log receipt."""


class IssuedCredential(Anchored):
    """``POST /credentials/issue``: the signed credential and where it is anchored."""

    verifiableCredential: Json
    credentialId: str


class StatusUpdate(Open):
    """``POST /credentials/status``: the credential's bits after the change."""

    credentialId: str
    receipts: list[LogReceipt]
    status: dict[str, bool] = Field(description="purpose -> bit (true: revoked / suspended)")


class Challenge(Open):
    """A single-use challenge for a presentation (``POST /challenges``)."""

    challenge: str
    expires: str


class LoginChallenge(Challenge):
    """A single-use challenge for DID login, with the domain to sign."""

    domain: str


class PresentationVerified(Open):
    """``POST /presentations/verify``: every check passed."""

    verified: Literal[True]
    holder: str | None
    checks: list[str]
    credentials: int = Field(description="how many embedded credentials verified")
    problemDetails: list[Json] = Field(max_length=0)


class CitizenToken(Open):
    """``POST /auth/token``: a short-lived bearer token scoped to the holder's DID."""

    access_token: str = Field(description="`ct_…`; send as `Authorization: Bearer`")
    token_type: Literal["Bearer"]
    did: str
    expires: str


class WalletReceipt(Open):
    """Where a wallet credential's issuance sits in the log."""

    logIndex: int


class WalletCredential(Open):
    """One of the citizen's credentials: digests and status, never the claims."""

    id: str
    type: str
    issuer: str
    issued: str
    digest: str
    status: dict[str, bool]
    receipt: WalletReceipt | None
    held: bool = False
    """The city-hosted wallet keeps the credential: ``GET …/{id}/qr`` renders it."""


class DidOperationResult(Anchored):
    """A did:cityid operation applied: the DID's new document and metadata."""

    did: str
    didDocument: Json | None
    didDocumentMetadata: Json


class DidOperationEntry(Open):
    """One signed did:cityid operation and its log position."""

    sequence: int
    time: str
    logIndex: int
    operation: Json


class DidResolutionResult(Open):
    """A DID Resolution result (DID Resolution §4)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    context: str | list[Any] = Field(alias="@context")
    didDocument: Json | None
    didDocumentMetadata: Json
    didResolutionMetadata: Json


class DidUrlDereferencingResult(Open):
    """A DID URL dereferencing result: the node a fragment names."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    context: str | list[Any] = Field(alias="@context")
    contentStream: Json
    contentMetadata: Json
    dereferencingMetadata: Json


class CatalogFieldView(Open):
    """A field an agency holds, as published."""

    name: str
    description: str | None = None
    personal: bool = True


class CatalogEntryView(Open):
    """A published catalog entry version, with its publisher and log position."""

    id: str
    title: str
    description: str | None = None
    fields: list[CatalogFieldView]
    legalBasis: str
    responsibility: str | None = None
    requesters: list[str]
    conditions: str | None = None
    version: int
    publisher: str = Field(description="the publishing agency's DID")
    published: str
    publisherId: str = Field(description="the publishing agency's issuer id")
    logIndex: int | None = None


class PublishedEntry(CatalogEntryView, Anchored):
    """``POST /catalog``: the entry and its log receipt."""


class SharingRequestView(Open):
    """A data-sharing request as its parties see it."""

    id: str
    state: str
    request: Json = Field(description="what the requester asked (the request digest's input)")
    requestDigest: str
    events: int
    created: str
    updated: str
    consentExpires: str | None = None
    exemption: Json | None = None


class SharingAct(SharingRequestView, Anchored):
    """A sharing act recorded: the request after it, the act's record and its receipt."""

    record: Json


class TracedEvent(Open):
    """One act on a request, with its log leaf and inclusion proof once integrated."""

    kind: str
    time: str
    record: Json
    logIndex: int
    integrated: bool
    leaf: str | None = None
    inclusionProof: list[str] | None = None


class TracedRequest(SharingRequestView):
    """A request with its whole history."""

    history: list[TracedEvent]


class Traced(Open):
    """Requests with every act, each provable against one signed checkpoint."""

    checkpoint: str = Field(description="the C2SP signed note the proofs are against")
    treeSize: int
    logOrigin: str
    agencies: dict[str, str] = Field(description="agency DID -> name")


class TracedOne(TracedRequest, Traced):
    """``GET /sharing/requests/{id}``: one request, traced."""


class AccessHistory(Traced):
    """``GET /wallet/access-history``: every request about the citizen, traced."""

    requests: list[TracedRequest]


class SharingStats(Open):
    """Aggregate counts of the directory chain (never who or about whom)."""

    requests: int
    byState: dict[str, int]
    byEvent: dict[str, int]
    catalogEntries: int
    catalogEntriesByAgency: dict[str, int]


class LogEntry(Open):
    """``GET /log/entries/{index}``: one leaf's data (base64) and hash."""

    index: int
    leaf_hash: str
    entry: str = Field(description="the leaf's bytes, base64")


class InclusionProof(Open):
    """An RFC 9162 §2.1.3 inclusion proof."""

    leaf_index: int
    tree_size: int
    leaf_hash: str
    root: str
    path: list[str]


class ConsistencyProof(Open):
    """An RFC 9162 §2.1.4 consistency proof."""

    first: int
    second: int
    first_root: str
    second_root: str
    path: list[str]


class LogKey(Open):
    """The log's origin and public key (C2SP signed-note verifier key)."""

    origin: str
    vkey: str
    publicKeyMultibase: str


class Document(Open):
    """A JSON document defined by another specification (a credential, a DID document,
    a JSON Schema, a JSON-LD context)."""
