"""The did:web method (W3C CCG, https://w3c-ccg.github.io/did-method-web/).

A did:web names an HTTPS location: ``did:web:example.com:user:alice`` is the document
at ``https://example.com/user/alice/did.json`` (§Read (Resolve)). This module maps DIDs
to those URLs, builds the documents of the agencies this service hosts, and resolves
did:web through a ``fetch`` function the service hands in -- it does no I/O itself.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from identity.canonical import parse_json
from identity.clock import Clock
from identity.dids import Resolution, VerificationMethod, methods_from_document, parse_did
from identity.dids.documents import checked_document
from identity.dids.key import CONTEXTS, key_from_did
from identity.errors import (
    InvalidDidDocumentError,
    InvalidDidError,
    InvalidVerificationMethodError,
    NotFoundError,
    ParsingError,
)

if TYPE_CHECKING:
    from identity.stores import IssuerRecord

Fetch = Callable[[str], bytes]
"""GET a URL, return the body; raise NotFoundError, UnavailableError or DidResolutionError."""
LocalDocuments = Callable[[str], dict[str, Any] | None]
"""The document of a DID this service hosts, or ``None`` when it hosts no such DID."""

MAX_DID_LENGTH = 2048
DID_LD_JSON = "application/did+ld+json"  # DID Core 1.0 §6.3.1: JSON-LD with an @context
AGENCIES = "agencies"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)
_NUMERIC = re.compile(r"[0-9]+|0x[0-9a-f]*", re.IGNORECASE)  # WHATWG URL: parsed as IPv4
_PORT = re.compile(r"[1-9][0-9]{0,4}")
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_PUBLIC_URL = re.compile(r"(https?)://([^/?#]+)(/[^?#]*)?", re.IGNORECASE)
_UNSAFE_DECODED = frozenset("/\\%?#")


def did_web_url(did: str) -> str:
    """The URL of the document of ``did`` (§Read (Resolve), steps 1-5).

    ``:`` becomes ``/``; a port's colon is the one percent-escape allowed in the domain
    (``%3A``, §Method-specific identifier); a DID without a path gets ``/.well-known``.
    Refused with :class:`InvalidDidError`: IP literals (the spec forbids them), anything
    but letter-digit-hyphen host labels (no userinfo, no escaped ``@``, ``/`` or ``[``),
    empty segments, ``.``/``..`` segments and segments whose escapes decode to ``/``,
    ``\\``, ``%``, ``?``, ``#`` or control characters (path traversal on the server).
    """
    host, port, path = _split(_method_specific_id(did), did)
    authority = host if port is None else f"{host}:{port}"
    if not path:
        return f"https://{authority}/.well-known/did.json"
    return f"https://{authority}/{'/'.join(path)}/did.json"


def domain_of(public_url: str) -> str:
    """The did:web form of a base URL: host, ``%3A`` port, then any path as ``:`` segments.

    ``https://id.example`` gives ``id.example``; ``http://localhost:8000`` gives
    ``localhost%3A8000``; ``https://gov.example/identity`` gives ``gov.example:identity``,
    so DIDs built on it map back under the same prefix. The scheme's default port is
    dropped. :class:`InvalidDidError` when the URL has no did:web form (an IP address,
    userinfo, a query).
    """
    match = _PUBLIC_URL.fullmatch(public_url.strip()) if isinstance(public_url, str) else None
    if match is None:
        raise InvalidDidError("the public URL is not an http(s) URL without query or fragment")
    scheme, authority, path = match.group(1).lower(), match.group(2), match.group(3) or ""
    if "@" in authority or authority.startswith("["):
        raise InvalidDidError("a did:web domain cannot carry userinfo or an IP literal")
    host, _, port = authority.partition(":")
    if port in ("", "443" if scheme == "https" else "80"):
        domain = host.lower()
    else:
        domain = f"{host.lower()}%3A{port}"
    segments = [s for s in path.split("/") if s]
    domain = ":".join([domain, *segments])
    _split(domain, "did:web:" + domain)  # the same checks as any did:web
    return domain


def agency_web_did(domain: str, issuer_id: str) -> str:
    """``did:web:<domain>:agencies:<issuer_id>``, the agency's DID next to its did:key."""
    if not _is_plain(issuer_id):
        raise InvalidDidError("an issuer id must be letters, digits, '.', '_' or '-'")
    did = f"did:web:{domain}:{AGENCIES}:{issuer_id}"
    did_web_url(did)
    return did


def hosted_agency_id(did: str, domain: str) -> str | None:
    """The issuer id when ``did`` is exactly an :func:`agency_web_did` on ``domain``."""
    prefix = f"did:web:{domain}:{AGENCIES}:"
    issuer_id = did[len(prefix) :] if did.startswith(prefix) else ""
    return issuer_id if _is_plain(issuer_id) else None


def agency_web_document(did: str, issuer: IssuerRecord) -> dict[str, Any]:
    """The agency's did:web document: its did:key's Ed25519 key as ``#key-1``.

    ``alsoKnownAs`` names the did:key (DID Core §5.1.3); it is a claim for readers, not
    something this resolver trusts -- each DID's keys come from its own document.
    """
    public = key_from_did(issuer.did)
    vm_id = f"{did}#key-1"
    return {
        "@context": list(CONTEXTS),
        "id": did,
        "alsoKnownAs": [issuer.did],
        "verificationMethod": [
            {
                "id": vm_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": public.multibase,
            }
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
    }


class WebDidResolver:
    """Resolves did:web: this service's own DIDs from ``local``, others with ``fetch``.

    A DID under ``domain`` (compared without case in the host) never goes to the
    network: ``local`` answers it or it is not found -- so a verifier cannot be made to
    call this service over HTTP. Remote documents are checked (I-JSON object, ``id`` the
    DID, DID Core shapes) and cached for ``cache_seconds`` of ``clock`` time, at most
    ``max_entries`` of them (least recently used go first). Failures are not cached: a
    cached failure would keep a correct credential failing after a host came back, and
    would not stop a hostile DID (a new path is a new DID); what bounds a fetch is its
    timeout and size limit.
    """

    def __init__(
        self,
        fetch: Fetch,
        clock: Clock,
        *,
        local: LocalDocuments | None = None,
        domain: str | None = None,
        cache_seconds: float = 300,
        max_entries: int = 1024,
    ) -> None:
        self.fetch = fetch
        self.clock = clock
        self.local = local
        self.domain = domain
        self.ttl = timedelta(seconds=cache_seconds)
        self.max_entries = max_entries
        self._cache: OrderedDict[str, tuple[datetime, Resolution]] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, did: str) -> Resolution:
        """The did:web document (the method's Read operation): served from ``local`` when the
        DID is on this service's own ``domain`` (NotFoundError if none is hosted), else fetched
        (``fetch``) and cached for ``cache_seconds``; a document that is not one for this DID
        is :class:`InvalidDidDocumentError`; a failed fetch raises what ``fetch`` raises
        (service/fetch.py: NotFoundError, UnavailableError, DidResolutionError)."""
        url = did_web_url(did)
        if self._is_local(did):
            document = self.local(did) if self.local is not None else None
            if document is None:
                raise NotFoundError("no DID document is hosted here for this DID", did=did)
            return _resolution(checked_document(document, did, url))
        hit = self._cached(did)
        if hit is not None:
            return hit
        resolution = _resolution(checked_document(_parsed(self.fetch(url), url), did, url))
        self._remember(did, resolution)
        return resolution

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        """The Ed25519 method ``url`` of the current document (``at`` is ignored: a
        did:web has no history to ask, only what its host serves now).

        The method's ``controller`` must be the DID itself (Controlled Identifiers 1.0,
        "Retrieve Verification Method"): the verifier trusts ``controller`` as the key's
        owner, and a document could otherwise claim keys for somebody else's DID.
        """
        if not isinstance(url, str):
            raise InvalidDidError("verificationMethod must be a DID URL string")
        did, _, fragment = url.partition("#")
        if not fragment:
            raise InvalidVerificationMethodError(
                "a did:web verification method needs a #fragment", verificationMethod=url[:200]
            )
        methods = methods_from_document(self.resolve(did).did_document)
        method = methods.get(url)
        if method is None:
            raise InvalidVerificationMethodError(
                "the DID document has no Ed25519 verification method with this id",
                verificationMethod=url[:200],
            )
        if method.controller != did:
            raise InvalidVerificationMethodError(
                "the verification method's controller is not the DID it belongs to",
                verificationMethod=url[:200],
                controller=method.controller[:200],
            )
        return method

    def _is_local(self, did: str) -> bool:
        if self.domain is None:
            return False
        ours = self.domain.split(":")
        theirs = did.split(":")[2:]
        return (
            len(theirs) >= len(ours)
            and theirs[0].lower() == ours[0].lower()
            and theirs[1 : len(ours)] == ours[1:]
        )

    def _cached(self, did: str) -> Resolution | None:
        now = self.clock.now()
        with self._lock:
            entry = self._cache.get(did)
            if entry is None:
                return None
            if now >= entry[0]:
                del self._cache[did]
                return None
            self._cache.move_to_end(did)
            return entry[1]

    def _remember(self, did: str, resolution: Resolution) -> None:
        if self.ttl <= timedelta(0) or self.max_entries <= 0:
            return
        expires = self.clock.now() + self.ttl
        with self._lock:
            self._cache[did] = (expires, resolution)
            self._cache.move_to_end(did)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)


def _method_specific_id(did: str) -> str:
    if isinstance(did, str) and len(did) > MAX_DID_LENGTH:
        raise InvalidDidError(f"a did:web is at most {MAX_DID_LENGTH} characters")
    method, msid = parse_did(did)
    if method != "web":
        raise InvalidDidError("not a did:web", did=did[:100])
    return msid


def _split(msid: str, did: str) -> tuple[str, str | None, list[str]]:
    """(host, port, path segments) of a did:web method-specific id, all checked."""
    domain, *path = msid.split(":")
    host, sep, port = domain.replace("%3a", "%3A").partition("%3A")
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidDidError(
            "a did:web domain must be a DNS name of letter-digit-hyphen labels", did=did[:100]
        )
    if _NUMERIC.fullmatch(labels[-1]):
        raise InvalidDidError("a did:web must not name an IP address", did=did[:100])
    if sep and (not _PORT.fullmatch(port) or int(port) > 65535):
        raise InvalidDidError("a did:web port must be 1-65535", did=did[:100])
    for segment in path:
        _check_segment(segment, did)
    return host, (port or None), path


def _check_segment(segment: str, did: str) -> None:
    if not segment:
        raise InvalidDidError("a did:web path has an empty segment", did=did[:100])
    try:
        decoded = _percent_decode(segment)
    except UnicodeDecodeError:
        raise InvalidDidError("a did:web path segment is not UTF-8", did=did[:100]) from None
    if decoded in (".", "..") or any(
        c in _UNSAFE_DECODED or ord(c) < 0x20 or ord(c) == 0x7F for c in decoded
    ):
        raise InvalidDidError(
            "a did:web path segment must not decode to '.', '..', '/', '\\', '%', '?', '#'"
            " or a control character",
            did=did[:100],
        )


def _percent_decode(text: str) -> str:
    """RFC 3986 §2.1 percent-decoding (``urllib`` is out of the core's reach)."""
    parts = _ESCAPE.split(text)  # text, hex, text, hex, ..., text
    raw = b"".join(bytes.fromhex(p) if i % 2 else p.encode() for i, p in enumerate(parts))
    return raw.decode("utf-8")


def _parsed(body: bytes, url: str) -> Any:
    try:
        return parse_json(body)
    except ParsingError as exc:
        raise InvalidDidDocumentError(
            f"the DID document is not valid I-JSON: {exc.detail}", url=url
        ) from exc


def _is_plain(segment: Any) -> bool:
    return (
        isinstance(segment, str)
        and _PLAIN_SEGMENT.fullmatch(segment) is not None
        and segment not in (".", "..")
    )


def _resolution(document: dict[str, Any]) -> Resolution:
    return Resolution(did_document=document, resolution_metadata={"contentType": DID_LD_JSON})
