"""The citizen's sign-in page of the OpenID4VCI authorization code flow, and its error
page (service/routers/oid4vci_authorize.py), in the reader's language.

The page shows who asks (the wallet's ``client_id``, where the answer goes) and what
(the credential, the agency), and takes the citizen's DID-auth presentation over this
request's challenge: signed in the page with the key this browser holds (the portal's,
``static/js/authorize.js``) or pasted. Its form may post here and be redirected to the
wallet's ``redirect_uri`` only (``form-action``), nothing else is loaded from elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from service.web import i18n
from service.web.pages import ASSETS, CSP, PAGES, SECURITY_HEADERS, _environment

if TYPE_CHECKING:
    from service.oid4vci import Oid4vciIssuer
    from service.oid4vci_authorize import Started


def _render(request: Request, status: int, csp: str, **context: Any) -> HTMLResponse:
    language = i18n.choose(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language"),
    )
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    html = _environment().get_template("authorize.html").render(
        lang=language, t=i18n.catalogue(language), assets=ASSETS, pages=PAGES,
        query=query, path=request.url.path, **context,
    )  # fmt: skip
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp, "Cache-Control": "no-store"}
    return HTMLResponse(html, status_code=status, headers=headers)


def redirect_source(uri: str) -> str:
    """The CSP source of a redirect URI: its origin, or its scheme (``com.example:``)."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}:"


def sign_in_page(request: Request, vci: Oid4vciIssuer, started: Started) -> HTMLResponse:
    """The sign-in page of a pending Authorization Request."""
    auth, offer = started.auth, started.offer
    issuer = vci.svc.trust.issuer(offer.issuer_id)
    target = redirect_source(auth.redirect_uri)
    csp = CSP.replace("form-action 'self'", f"form-action 'self' {target}")
    return _render(
        request, 200, csp,
        error=None,
        action=f"/oid4vci/authorize/{auth.id}",
        challenge=started.challenge,
        domain=urlsplit(vci.settings.public_url).netloc,
        client_id=auth.client_id,
        redirect_host=urlsplit(auth.redirect_uri).netloc or auth.redirect_uri.split(":")[0],
        agency=issuer.name,
        credential=offer.type_name,
        subject=offer.subject,
    )  # fmt: skip


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    """The page of a refusal that is not sent back to a wallet."""
    return _render(request, status, CSP, error=detail)
