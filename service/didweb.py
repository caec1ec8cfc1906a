"""did:web in the running service: the HTTPS fetcher, and the resolver built from settings.

The agencies this service hosts are answered from the store -- the same documents
``GET /agencies/{id}/did.json`` serves -- and never over the network. Any other did:web
is fetched with :class:`service.fetch.HttpsFetcher`: HTTPS only, no redirects, one
deadline for the whole download, a size limit checked while reading, no compressed bodies.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from identity.clock import Clock
from identity.dids.web import (
    WebDidResolver,
    agency_web_did,
    agency_web_document,
    domain_of,
    hosted_agency_id,
)
from identity.errors import DidResolutionError, InvalidDidError, NotFoundError
from identity.stores import IssuerStore
from service.fetch import HttpsFetcher
from service.settings import Settings

log = logging.getLogger("identity.didweb")

ACCEPT = "application/did+ld+json, application/did+json;q=0.9, application/json;q=0.8"


class Fetcher(HttpsFetcher):
    """The fetcher of remote did:web documents (did:web §Read: one HTTPS location; 404
    and 410 mean no document, §Deactivate)."""

    def __init__(self, *, timeout_s: float, max_bytes: int, allow_http: bool = False) -> None:
        super().__init__(
            timeout_s=timeout_s,
            max_bytes=max_bytes,
            what="did:web document",
            error=DidResolutionError,
            accept=ACCEPT,
            allow_http=allow_http,
        )


def service_domain(settings: Settings) -> str | None:
    """The did:web domain of ``settings.public_url``; ``None`` (did:web hosting off, with
    a warning) when that URL has no did:web form, e.g. an IP address."""
    return _domain(settings.public_url)


@functools.lru_cache(maxsize=8)
def _domain(public_url: str) -> str | None:
    try:
        return domain_of(public_url)
    except InvalidDidError as exc:
        log.warning("did:web hosting is off: IDENTITY_PUBLIC_URL %s (%s)", public_url, exc.detail)
        return None


def agency_did_web(settings: Settings, issuer_id: str) -> str | None:
    """The agency's did:web on this service, or ``None`` when there is none to give."""
    domain = service_domain(settings)
    if domain is None:
        return None
    try:
        return agency_web_did(domain, issuer_id)
    except InvalidDidError:
        return None


def hosted_document(store: IssuerStore, domain: str, did: str) -> dict[str, Any] | None:
    """The document of ``did`` if it is the did:web of an agency in ``store``."""
    issuer_id = hosted_agency_id(did, domain)
    if issuer_id is None:
        return None
    try:
        issuer = store.get_issuer(issuer_id)
    except NotFoundError:
        return None
    return agency_web_document(did, issuer)


def web_resolver(settings: Settings, store: IssuerStore, clock: Clock) -> WebDidResolver:
    """The did:web resolver of the service: hosted agencies locally, the rest by HTTPS
    (by plain HTTP instead when ``did_web_allow_http`` is set, for tests)."""
    domain = service_domain(settings)
    fetcher = Fetcher(
        timeout_s=settings.did_web_timeout_s,
        max_bytes=settings.did_web_max_bytes,
        allow_http=settings.did_web_allow_http,
    )

    def fetch(url: str) -> bytes:
        if settings.did_web_allow_http:
            url = "http://" + url.removeprefix("https://")
        return fetcher(url)

    def local(did: str) -> dict[str, Any] | None:
        return hosted_document(store, domain, did) if domain is not None else None

    return WebDidResolver(
        fetch,
        clock,
        local=local,
        domain=domain,
        cache_seconds=settings.did_web_cache_seconds,
    )
