"""Every answer the test suite gets from the service is one its OpenAPI document declares.

``TestClient.request`` is wrapped for the whole session: each response from an app built
by ``service.app.create_app`` is recorded as (method, route template, status, media
type), and JSON bodies are validated against the schema the document declares for them.
At the end of the session, any answer the document does not declare -- an undeclared
status code or content type, or a body that breaks its schema -- fails the run with a
list of what was seen. Answers from real server processes (``slow`` tests) and from
routes outside the document (the /docs pages, unknown paths) are not recorded.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

DOC_URI = "urn:identity-service:openapi"
MAX_BODY_CHECKS = 50  # bodies validated per (operation, status, media type)

Key = tuple[str, str, int, str]


def media_type(content_type: str | None) -> str:
    """``type/subtype`` of a Content-Type, or "" when the response has none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_service_app(app: Any) -> bool:
    """Apps made by ``create_app`` serve the document of ``service/openapi.py``."""
    return getattr(getattr(app, "openapi", None), "__module__", "") == "service.openapi"


def route_template(app: Any, document: dict[str, Any], method: str, path: str) -> str | None:
    """The document's path template for (method, path); None outside the document.

    The app's own route patterns decide (``{did:path}`` takes slashes, ``{id}`` does
    not); where two match, the one with more literal text wins, as route order makes it
    win in the app (``/dids/{did}/operations`` before ``/dids/{did}``).
    """
    best: tuple[int, str] | None = None
    for raw in _route_paths(app):
        template = re.sub(r"\{([^}:]+):[^}]+\}", r"{\1}", raw)
        if method.lower() not in document["paths"].get(template, {}):
            continue
        if _template_regex(raw).fullmatch(path):
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            if best is None or literal > best[0]:
                best = (literal, template)
    return None if best is None else best[1]


def _route_paths(app: Any) -> list[str]:
    try:  # FastAPI >= 0.160 nests included routers
        from fastapi.routing import iter_route_contexts

        routes: Any = iter_route_contexts(app.routes)
    except ImportError:
        routes = app.routes
    return [str(r.path) for r in routes if getattr(r, "include_in_schema", False)]


@functools.cache
def _template_regex(raw: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", raw)
    pattern = "".join(
        (".+" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p)
        for p in parts
    )
    return re.compile(pattern)


def declared(document: dict[str, Any], key: Key) -> tuple[str, str] | None:
    """(response code key, declared media type) covering ``key``, or None."""
    method, path, status, media = key
    operation = document["paths"].get(path, {}).get(method.lower())
    if operation is None:
        return None
    responses = operation["responses"]
    code = str(status) if str(status) in responses else f"{str(status)[0]}XX"
    response = responses.get(code)
    if response is None:
        return None
    content = response.get("content")
    if not content:
        return (code, "") if media == "" else None
    for declared_media in content:
        if media_type(declared_media) == media:
            return code, declared_media
    return None


@dataclass
class Recorder:
    """What the suite saw, and what of it the document does not declare."""

    seen: Counter[Key] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    document: dict[str, Any] | None = None
    outside: Counter[tuple[str, int]] = field(default_factory=Counter)
    _checked: Counter[Key] = field(default_factory=Counter)
    _validators: dict[tuple[str, str, str, str], Draft202012Validator] = field(default_factory=dict)

    def record(self, app: Any, response: Any) -> None:
        request = response.request
        method, path = request.method, request.url.path
        if self.document is None:
            self.document = app.openapi()
        template = route_template(app, self.document, method, path)
        if template is None:
            self.outside[(method + " " + path[:40], response.status_code)] += 1
            return
        key = (
            method,
            template,
            response.status_code,
            media_type(response.headers.get("content-type")),
        )
        self.seen[key] += 1
        if self.seen[key] > 1 and self._checked[key] >= MAX_BODY_CHECKS:
            return
        found = declared(self.document, key)
        if found is None:
            if self.seen[key] == 1:
                self.problems.append(f"undeclared: {method} {template} -> {key[2]} {key[3]!r}")
            return
        if key[3] == "application/json" or key[3].endswith("+json"):
            self._checked[key] += 1
            self._check_body(key, found, response)

    def _check_body(self, key: Key, found: tuple[str, str], response: Any) -> None:
        method, path, _, _ = key
        code, media = found
        try:
            body = json.loads(response.content)
        except ValueError:
            self.problems.append(f"not JSON: {method} {path} -> {key[2]} {key[3]}")
            return
        validator = self._validator(path, method.lower(), code, media)
        if validator is None:
            return
        error = next(iter(validator.iter_errors(body)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            self.problems.append(
                f"schema: {method} {path} -> {key[2]} {key[3]}: at {where}: {error.message[:300]}"
            )

    def _validator(self, path: str, method: str, code: str, media: str) -> Any:
        cache_key = (path, method, code, media)
        if cache_key not in self._validators:
            assert self.document is not None
            content = self.document["paths"][path][method]["responses"][code].get("content", {})
            if "schema" not in content.get(media, {}):
                return None
            pointer = "/".join(
                quote(part.replace("~", "~0").replace("/", "~1"), safe="")
                for part in ("paths", path, method, "responses", code, "content", media, "schema")
            )
            resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
            registry: Registry[Any] = Registry().with_resource(DOC_URI, resource)
            self._validators[cache_key] = Draft202012Validator(
                {"$ref": f"{DOC_URI}#/{pointer}"}, registry=registry
            )
        return self._validators[cache_key]


RECORDER = Recorder()
_original_request = TestClient.request


def _recording_request(self: TestClient, method: str, url: Any, **kwargs: Any) -> Any:
    response = _original_request(self, method, url, **kwargs)
    if is_service_app(self.app):
        RECORDER.record(self.app, response)
    return response


def pytest_configure(config: pytest.Config) -> None:
    TestClient.request = _recording_request  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    TestClient.request = _original_request  # type: ignore[method-assign]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and RECORDER.seen:
        reporter.write_line(
            f"OpenAPI conformance: {sum(RECORDER.seen.values())} answers of "
            f"{len(RECORDER.seen)} kinds recorded, {len(RECORDER.problems)} undeclared; "
            f"{sum(RECORDER.outside.values())} outside the document (unknown paths, /docs)"
        )
    if not RECORDER.problems:
        return
    lines = [
        f"{len(RECORDER.problems)} answers the OpenAPI document does not declare "
        f"(of {len(RECORDER.seen)} kinds seen; tests/openapi_recorder.py):",
        *sorted(set(RECORDER.problems)),
    ]
    if reporter is not None:
        reporter.write_sep("=", "OpenAPI conformance", red=True)
        for line in lines:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
