"""did:web in the running service: the HTTPS fetcher, and the resolver built from settings.

The agencies this service hosts are answered from the store -- the same documents
``GET /agencies/{id}/did.json`` serves -- and never over the network. Any other did:web
is fetched with :class:`Fetcher`: HTTPS only, no redirects, one deadline for the whole
download, a size limit checked while reading, no compressed bodies.
"""

from __future__ import annotations

import functools
import logging
import ssl
import time
from typing import Any

import httpx

from identity.clock import Clock
from identity.dids.web import (
    WebDidResolver,
    agency_web_did,
    agency_web_document,
    domain_of,
    hosted_agency_id,
)
from identity.errors import DidResolutionError, InvalidDidError, NotFoundError, UnavailableError
from identity.stores import IssuerStore
from service.offline import require_network
from service.settings import Settings

log = logging.getLogger("identity.didweb")

ACCEPT = "application/did+ld+json, application/did+json;q=0.9, application/json;q=0.8"


class Fetcher:
    """``fetch(url) -> bytes`` for :class:`WebDidResolver`, on a sync httpx client.

    404 and 410 are :class:`NotFoundError` (did:web §Deactivate: the file is removed);
    5xx, timeouts and network failures :class:`UnavailableError`; any other answer
    (redirects included: a did:web names one location) and an oversized body
    :class:`DidResolutionError`. Error details name the failure's kind, never the body.
    """

    def __init__(self, *, timeout_s: float, max_bytes: int, allow_http: bool = False) -> None:
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.allow_http = allow_http
        self._tls = httpx.create_ssl_context()
        self._tls.minimum_version = ssl.TLSVersion.TLSv1_2  # did:web §In-transit security

    def __call__(self, url: str) -> bytes:
        require_network()  # never block the event loop: see service/offline.py
        if not url.startswith("https://") and not (self.allow_http and url.startswith("http://")):
            raise DidResolutionError("did:web documents are fetched over HTTPS only", url=url)
        deadline = time.monotonic() + self.timeout_s
        headers = {"Accept": ACCEPT, "Accept-Encoding": "identity"}
        try:
            with (
                httpx.Client(
                    verify=self._tls, timeout=self.timeout_s, follow_redirects=False
                ) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                _check_status(response.status_code, url)
                return self._read(response, url, deadline)
        except httpx.TimeoutException as exc:
            raise UnavailableError("the did:web host did not answer in time", url=url) from exc
        except httpx.NetworkError as exc:
            raise UnavailableError(
                f"the did:web host could not be reached ({type(exc).__name__})", url=url
            ) from exc
        except httpx.HTTPError as exc:
            raise DidResolutionError(
                f"the did:web document could not be fetched ({type(exc).__name__})", url=url
            ) from exc

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise DidResolutionError("the did:web host sent a compressed body", url=url)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large(url, self.max_bytes)
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > self.max_bytes:
                raise _too_large(url, self.max_bytes)
            if time.monotonic() > deadline:
                raise UnavailableError(
                    "the did:web host did not send its document in time", url=url
                )
        return bytes(body)


def _check_status(status: int, url: str) -> None:
    if status == 200:
        return
    if status in (404, 410):
        raise NotFoundError("no DID document at the did:web location", url=url, upstream=status)
    if status >= 500:
        raise UnavailableError(f"the did:web host answered HTTP {status}", url=url)
    hint = " (redirects are not followed)" if 300 <= status < 400 else ""
    raise DidResolutionError(f"the did:web host answered HTTP {status}{hint}", url=url)


def _too_large(url: str, limit: int) -> DidResolutionError:
    return DidResolutionError(f"the did:web document exceeds {limit} bytes", url=url, limit=limit)


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
