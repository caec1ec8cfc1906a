"""The pages and their assets, with a strict content security policy."""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from identity.credentials.qrcode import MAX_COMPRESSED_BYTES, PREFIX
from identity.errors import NotFoundError
from service.web import i18n

HERE = Path(__file__).parent
STATIC = HERE / "static"
ASSETS = "/web-assets"
#: Everything from this origin, nothing inline, nothing from elsewhere. Images may also be
#: blob: URLs (the QR codes the portal fetches) and the camera preview a MediaStream.
CSP = (
    "default-src 'self'; img-src 'self' blob:; media-src 'self' blob: mediastream:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}
PAGES = {"verify": "/verify", "wallet": "/wallet", "log": "/log", "counter": "/counter"}
JSQR = STATIC / "vendor" / "jsQR.js"

router = APIRouter(include_in_schema=False)


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(request: Request, page: str) -> HTMLResponse:
    """``templates/<page>.html`` in the reader's language, with the security headers."""
    asked = request.query_params.get("lang")
    language = i18n.choose(
        asked, request.cookies.get("lang"), request.headers.get("accept-language")
    )
    texts = i18n.catalogue(language)
    context: dict[str, Any] = {
        "lang": language,
        "page": page,
        "pages": PAGES,
        "path": PAGES[page],
        "t": texts,
        "assets": ASSETS,
        "qr_decoder": JSQR.is_file(),
        "qr_prefix": PREFIX,
        "qr_limit": MAX_COMPRESSED_BYTES,
    }
    html = _environment().get_template(f"{page}.html").render(context)
    response = HTMLResponse(html, headers={**SECURITY_HEADERS, "Vary": "Accept-Language, Cookie"})
    response.headers["Cache-Control"] = "no-cache"
    if asked in i18n.LANGUAGES:
        response.set_cookie("lang", asked, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> HTMLResponse:
    """The verifier: paste, drop, photograph or scan a credential or presentation."""
    return render(request, "verify")


@router.get("/wallet", response_class=HTMLResponse)
def wallet_page(request: Request) -> HTMLResponse:
    """The citizen portal (the wallet API stays under ``/wallet/...``)."""
    return render(request, "wallet")


@router.get("/log", response_class=HTMLResponse)
def log_page(request: Request) -> HTMLResponse:
    """The public log explorer (the log API stays under ``/log/...``)."""
    return render(request, "log")


@router.get("/counter", response_class=HTMLResponse)
def counter_page(request: Request) -> HTMLResponse:
    """The agency counter: offer a credential over OpenID4VCI as a QR code and a PIN."""
    return render(request, "counter")


@cache
def _assets() -> dict[str, Path]:
    """The files served under ``/web-assets/``: exactly those in ``static/``."""
    return {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}


_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@router.get(ASSETS + "/{name:path}")
def asset(name: str) -> Response:
    """A script, style or licence from the package; anything else is 404."""
    path = _assets().get(name)
    if path is None:
        raise NotFoundError("no such asset")
    media = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(path.read_bytes(), media_type=media, headers=headers)
