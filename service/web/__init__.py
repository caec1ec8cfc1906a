"""Web pages for people: the verifier (``/verify``), the citizen portal (``/wallet``) and
the public log explorer (``/log``), plus credentials as QR codes.

The pages are Jinja2 templates rendered in the reader's language (``i18n.py``) with
scripts, styles and the QR decoder served from this package under ``/web-assets/``;
nothing is loaded from elsewhere (``Content-Security-Policy: default-src 'self'``).
The API routes under ``/wallet/…`` and ``/log/…`` are unchanged: a page lives at the
bare path only. Checks that matter are re-done in the browser (``static/js/crypto.js``).
"""

from __future__ import annotations

from fastapi import FastAPI

from service.web import pages, qr


def install(app: FastAPI) -> None:
    """Add the pages, their assets and the QR endpoint to ``app``."""
    app.include_router(pages.router)
    # Ahead of every route: ``GET /wallet/credentials/{id:path}`` (service/routers/
    # citizens.py) would otherwise take ``…/qr`` as part of a credential id.
    before = len(app.router.routes)
    app.include_router(qr.router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
