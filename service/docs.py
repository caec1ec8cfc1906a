"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served offline.

The assets come from the ``fastapi-offline`` package installed with the service (the
same files as the npm packages ``swagger-ui-dist`` 5.32.6 and ``redoc`` 2.5.3, whose
licences ``service/static/docs/`` ships beside them); nothing is loaded from another
origin, and the pages' content security policy allows only this one.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from identity.errors import NotFoundError

ASSETS = "docs/assets/"
# Scripts, styles, fonts, fetches: this origin only; images may also be data: URLs
# (Swagger UI's stylesheet draws icons as inline SVG). ReDoc styles its page through
# styled-components, which inserts <style> elements, and runs its search index in a worker
# made from a blob: URL of its own code: its page alone allows both.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
REDOC_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + (
    "; worker-src 'self' blob:"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MEDIA = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
VENDORED = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
# The one thing the bundles would load from elsewhere: ReDoc's "API docs by Redocly" logo.
# An empty src fails at once without a request, and ReDoc then hides the image.
PATCHES = {
    "redoc.standalone.js": (b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"', b'src:""'),
}

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}} - Swagger UI</title>
<link rel="icon" type="image/png" href="{ASSETS}favicon.png">
<link rel="stylesheet" href="{ASSETS}swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}swagger-ui-bundle.js"></script>
<script src="{ASSETS}swagger-init.js"></script>
</body>
</html>
"""

REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}} - ReDoc</title>
<link rel="icon" type="image/png" href="{ASSETS}favicon.png">
</head>
<body>
<redoc spec-url="openapi.json"></redoc>
<script src="{ASSETS}redoc.standalone.js"></script>
</body>
</html>
"""


def asset(name: str) -> Traversable | None:
    """The file behind ``/docs/assets/<name>``: a vendored bundle, or one of ours (the
    initialiser and the bundles' licences); None for any other name."""
    if name in VENDORED:
        return resources.files("fastapi_offline") / "static" / name
    ours = resources.files("service") / "static" / "docs" / name
    if "/" not in name and name.endswith((".js", ".txt")) and ours.is_file():
        return ours
    return None


def install(app: FastAPI) -> None:
    """Add the two pages and their assets (not part of the OpenAPI document)."""
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE.format(title=title), headers=HEADERS)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        headers = {**HEADERS, "Content-Security-Policy": REDOC_CSP}
        return HTMLResponse(REDOC_PAGE.format(title=title), headers=headers)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        found = asset(name)
        if found is None:
            raise NotFoundError("no such documentation asset")
        media = MEDIA[name[name.rindex(".") :]]
        headers = {**HEADERS, "Cache-Control": "public, max-age=86400"}
        return Response(read_asset(name, found), media_type=media, headers=headers)


def read_asset(name: str, found: Traversable) -> bytes:
    """The asset's bytes, with :data:`PATCHES` applied."""
    data = found.read_bytes()
    if name in PATCHES:
        old, new = PATCHES[name]
        data = data.replace(old, new)
    return data
