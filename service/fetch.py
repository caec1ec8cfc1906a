"""One HTTPS fetcher for everything the service reads from other hosts.

Remote did:web documents and remote status lists are both fetched with
:class:`HttpsFetcher`: HTTPS only (TLS 1.2+), no redirects (a DID or a status list URL
names one location), one deadline for the whole download, a size limit checked while
reading, no compressed bodies (no decompression bombs). It never runs on the event loop
(:func:`service.offline.require_network`).

404 and 410 are :class:`NotFoundError`; 5xx, timeouts and network failures
:class:`UnavailableError`; any other answer, redirects included, and an oversized body
raise the fetcher's ``error`` class. Error details name the failure's kind, never the
body.
"""

from __future__ import annotations

import ssl
import time

import httpx

from identity.errors import IdentityError, NotFoundError, UnavailableError
from service.offline import require_network


class HttpsFetcher:
    """``fetch(url) -> bytes`` on a sync httpx client, for documents called ``what``."""

    def __init__(
        self,
        *,
        timeout_s: float,
        max_bytes: int,
        what: str,
        error: type[IdentityError],
        accept: str = "application/json",
        allow_http: bool = False,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.what = what
        self.error = error
        self.accept = accept
        self.allow_http = allow_http
        self._tls = httpx.create_ssl_context()
        self._tls.minimum_version = ssl.TLSVersion.TLSv1_2

    def __call__(self, url: str) -> bytes:
        """The body of a 200 answer to a GET of ``url``, at most ``max_bytes``, within
        ``timeout_s`` in all; errors as the module docstring says (a non-HTTPS URL, unless
        ``allow_http``, is the ``error`` class). Call off the event loop only."""
        require_network()  # never block the event loop: see service/offline.py
        if not url.startswith("https://") and not (self.allow_http and url.startswith("http://")):
            raise self.error(f"{self.what}s are fetched over HTTPS only", url=url)
        deadline = time.monotonic() + self.timeout_s
        headers = {"Accept": self.accept, "Accept-Encoding": "identity"}
        try:
            with (
                httpx.Client(
                    verify=self._tls, timeout=self.timeout_s, follow_redirects=False
                ) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                self._check_status(response.status_code, url)
                return self._read(response, url, deadline)
        except httpx.TimeoutException as exc:
            raise UnavailableError(f"the {self.what} host did not answer in time", url=url) from exc
        except httpx.NetworkError as exc:
            raise UnavailableError(
                f"the {self.what} host could not be reached ({type(exc).__name__})", url=url
            ) from exc
        except httpx.HTTPError as exc:
            raise self.error(
                f"the {self.what} could not be fetched ({type(exc).__name__})", url=url
            ) from exc

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise self.error(f"the {self.what} host sent a compressed body", url=url)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large(url)
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > self.max_bytes:
                raise self._too_large(url)
            if time.monotonic() > deadline:
                raise UnavailableError(f"the {self.what} host did not send it in time", url=url)
        return bytes(body)

    def _check_status(self, status: int, url: str) -> None:
        if status == 200:
            return
        if status in (404, 410):
            raise NotFoundError(f"no {self.what} at that location", url=url, upstream=status)
        if status >= 500:
            raise UnavailableError(f"the {self.what} host answered HTTP {status}", url=url)
        hint = " (redirects are not followed)" if 300 <= status < 400 else ""
        raise self.error(f"the {self.what} host answered HTTP {status}{hint}", url=url)

    def _too_large(self, url: str) -> IdentityError:
        limit = self.max_bytes
        return self.error(f"the {self.what} exceeds {limit} bytes", url=url, limit=limit)
