"""The OpenAPI document is complete and valid, and /docs and /redoc work offline.

What the suite observes is checked against the document by ``tests/openapi_recorder.py``
(every answer, at the end of the session) and by the fuzzer (``test_fuzz.py``).
"""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from identity import errors as e
from service.app import create_app
from service.docs import CSP, REDOC_CSP
from service.openapi import OAUTH_PATHS, OPERATIONS, SECURITY_SCHEMES, references
from service.openapi_examples import EXAMPLES
from service.settings import Settings
from tests.openapi_recorder import Recorder
from tests.service.conftest import ADMIN, admin

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
RESOLVER = "/1.0/identifiers/{did}"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(data_dir=Path("unused"), admin_token=ADMIN, master_secret="ab" * 32)
    doc: dict[str, Any] = create_app(settings).openapi()
    return doc


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    ]


def pointer(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(references(document))
    assert len(refs) > 40
    for ref in refs:
        assert pointer(document, ref) is not None, ref
    text = repr(document)
    assert "#/$defs/" not in text and "$defs" not in text


def test_every_operation_has_a_row_in_the_table(document: dict[str, Any]) -> None:
    seen = {(method, path) for method, path, _ in operations(document)}
    assert seen == set(OPERATIONS)
    assert len(seen) >= 55


def test_four_bearer_schemes_are_declared_and_applied(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"operatorToken", "agencyKey", "verifierKey", "citizenToken"}
    assert all(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    ops = {(m, p): op for m, p, op in operations(document)}
    assert ops["POST", "/issuers"]["security"] == [{"operatorToken": []}]
    assert ops["POST", "/credentials/issue"]["security"] == [{"agencyKey": []}]
    assert ops["POST", "/credentials/verify"]["security"] == [{"verifierKey": []}, {}]
    assert ops["GET", "/wallet/credentials"]["security"] == [{"citizenToken": []}]
    assert ops["GET", "/sharing/requests/{request_id}"]["security"] == [
        {"agencyKey": []},
        {"citizenToken": []},
    ]
    assert ops["GET", "/issuers"]["security"] == []
    for _, _, op in operations(document):
        for requirement in op["security"]:
            assert set(requirement) <= set(SECURITY_SCHEMES)
        if op["security"] and {} not in op["security"]:
            assert {"401", "403"} <= set(op["responses"]), op["operationId"]
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]


def test_every_success_has_a_real_schema(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        codes = [c for c in op["responses"] if c.startswith("2")]
        if path in OAUTH_PATHS and "202" in codes:  # OID4VCI §8.3: a deferred answer
            codes.remove("202")
        assert len(codes) == 1, (method, path)
        success = op["responses"][codes[0]]
        if codes[0] == "204":
            assert "content" not in success
            continue
        for media, content in success["content"].items():
            schema = content["schema"]
            assert schema not in ({}, {"type": "object"}), (method, path, media)
            if "$ref" in schema:
                target = pointer(document, schema["$ref"])
                assert target.get("properties") or target.get("additionalProperties"), path


#: the authorization code flow's sign-in: a browser gets its errors as pages
PAGES = {"/oid4vci/authorize", "/oid4vci/authorize/{request_id}"}
OAUTH_ERROR_PATHS = {
    "/oid4vp/responses/{request_id}",
    "/oid4vp/requests/{request_id}/request.jwt",
}


def test_every_error_is_problem_json_with_its_types(document: dict[str, Any]) -> None:
    every_type = {c.type_uri for c in _tree(e.IdentityError)} | {e.PROBLEMS + "internal"}
    for method, path, op in operations(document):
        errors = {c: r for c, r in op["responses"].items() if c[0] in "45"}
        assert "500" in errors, (method, path)
        assert "422" not in errors or "HTTPValidationError" not in repr(errors["422"])
        if path == RESOLVER:
            continue
        for code, response in errors.items():
            if (path in OAUTH_PATHS and code in ("400", "401")) or (
                code == "400" and path in OAUTH_ERROR_PATHS  # OpenID4VP §8.5, RFC 9101
            ):  # RFC 6749 §5.2 JSON
                assert list(response["content"]) == ["application/json"], (method, path, code)
                continue
            media = [m for m in response["content"] if not (m == "text/html" and path in PAGES)]
            assert media == [PROBLEM], (method, path, code)  # a browser may get a page
            schema = response["content"][PROBLEM]["schema"]
            constraint = schema["allOf"][1]["properties"]
            assert constraint["status"] == {"const": int(code)}
            types = constraint["type"]["enum"]
            assert types and set(types) <= every_type, (method, path, code)


def test_declared_errors_follow_the_status_table(document: dict[str, Any]) -> None:
    def types(method: str, path: str, code: str) -> list[str]:
        op = document["paths"][path][method]
        enum: list[str] = op["responses"][code]["content"][PROBLEM]["schema"]["allOf"][1][
            "properties"
        ]["type"]["enum"]
        return enum

    issue = "/credentials/issue"
    assert e.MalformedValueError.type_uri in types("post", issue, "422")
    assert e.SchemaViolationError.type_uri in types("post", issue, "422")
    assert e.ParsingError.type_uri in types("post", issue, "400")
    assert types("post", issue, "413") == [e.PayloadTooLargeError.type_uri]
    assert types("post", issue, "401") == [e.AuthenticationError.type_uri]
    assert e.ConflictError.type_uri in types("post", issue, "409")  # and its subclasses
    assert set(types("get", "/health", "503")) == {
        e.UnavailableError.type_uri,
        e.LogIntegrityError.type_uri,
    }
    assert "https://identity-service.example/problems/rate-limited" in types(
        "post", "/credentials/verify", "429"
    )
    # a failed verification may carry any check's type
    assert e.CredentialStatusError.type_uri in types("post", "/credentials/verify", "422")
    assert e.SharingStateError.type_uri in types(
        "post", "/sharing/requests/{request_id}/approve", "409"
    )


def test_every_request_body_has_an_example_that_fits_its_schema(
    document: dict[str, Any],
) -> None:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:doc", resource)
    bodies = 0
    for method, path, op in operations(document):
        if "requestBody" not in op:
            continue
        bodies += 1
        media = next(iter(op["requestBody"]["content"]))  # JSON, or a form (the sign-in)
        content = op["requestBody"]["content"][media]
        named = {k: v["value"] for k, v in content.get("examples", {}).items()}
        example = content["example"] if "example" in content else named["dataIntegrity"]
        assert example == EXAMPLES[method, path]
        escaped = path.replace("~", "~0").replace("/", "~1")
        body = f"requestBody/content/{media.replace('/', '~1')}/schema"
        ref = f"urn:doc#/paths/{escaped}/{method.lower()}/{body}"
        validator = Draft202012Validator({"$ref": ref}, registry=registry)
        for value in (example, *named.values()):
            errors = [err.message for err in validator.iter_errors(value)]
            assert not errors, (method, path, errors)
    assert bodies == len(EXAMPLES) >= 17


def test_the_recorder_reports_undeclared_answers_and_broken_bodies(
    client: TestClient, document: dict[str, Any]
) -> None:
    recorder = Recorder()
    app = client.app
    good = client.get("/log/key")
    recorder.record(app, good)
    assert recorder.problems == []
    request = httpx.Request("GET", "http://testserver/log/key")
    teapot = httpx.Response(418, json={}, request=request)
    broken = httpx.Response(200, json={"origin": 3}, request=request)
    as_text = httpx.Response(200, text="x", request=request)
    for response in (teapot, broken, as_text):
        recorder.record(app, response)
    assert len(recorder.problems) == 3, recorder.problems
    assert recorder.problems[0].startswith("undeclared: GET /log/key -> 418")
    assert recorder.problems[1].startswith("schema: GET /log/key -> 200")
    assert recorder.problems[2].startswith("undeclared: GET /log/key -> 200 'text/plain'")


# -- /docs and /redoc ------------------------------------------------------------------


class Links(HTMLParser):
    """Every URL an HTML page would load or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "spec-url", "action", "data", "poster") and value:
                self.urls.append(value)
            if name == "style" or name.startswith("on"):
                raise AssertionError(f"inline {name} attribute on <{tag}>")
        if tag == "script" and not dict(attrs).get("src"):
            self.inline_scripts += 1


def same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def test_the_docs_pages_load_only_from_this_origin(client: TestClient) -> None:
    assets: set[str] = set()
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        policy = REDOC_CSP if page == "/redoc" else CSP
        assert response.headers["content-security-policy"] == policy
        links = Links()
        links.feed(response.text)
        assert links.inline_scripts == 0
        assert links.urls and all(same_origin(u) for u in links.urls), links.urls
        assets |= {u for u in links.urls if u.startswith("docs/assets/")}
        assert "openapi.json" in links.urls or "swagger-init.js" in repr(links.urls)
    assert len(assets) == 5
    for asset in assets:
        served = client.get("/" + asset)
        assert served.status_code == 200, asset
        assert served.headers["content-security-policy"] == CSP
        if asset.endswith(".css"):
            for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", served.text):
                assert url.startswith("data:") or same_origin(url), url
        if asset.endswith(".js"):
            # The only remote loads the bundles could make: ReDoc's logo (patched out)
            # and Swagger UI's validator badge (switched off by swagger-init.js).
            assert "cdn.redoc.ly" not in served.text
    init = client.get("/docs/assets/swagger-init.js").text
    assert "validatorUrl: null" in init and 'url: "openapi.json"' in init
    assert client.get("/docs/assets/../app.py").status_code == 404
    assert client.get("/docs/assets/nothing.js").status_code == 404


@pytest.mark.parametrize("policy", [CSP, REDOC_CSP])
def test_the_policy_allows_no_other_origin(policy: str) -> None:
    allowed = {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}
    directives = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        assert set(sources) <= allowed, name
        directives[name] = sources
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]  # no inline script, no eval
    assert directives["connect-src"] == ["'self'"]


def test_the_bundles_licences_are_served_beside_them(client: TestClient) -> None:
    swagger = client.get("/docs/assets/swagger-ui-bundle.js").text
    redoc = client.get("/docs/assets/redoc.standalone.js").text
    # The licences shipped in service/static/docs are those of these versions.
    assert 'PACKAGE_VERSION:"5.32.6"' in swagger
    assert 'const Yw="2.5.3"' in redoc or '"2.5.3"' in redoc
    for bundle, text in (("swagger-ui-bundle.js", swagger), ("redoc.standalone.js", redoc)):
        assert f"For license information please see {bundle}.LICENSE.txt" in text[:200]
        notice = client.get(f"/docs/assets/{bundle}.LICENSE.txt")
        assert notice.status_code == 200 and "license" in notice.text.lower()
    assert "Apache License" in client.get("/docs/assets/swagger-ui.LICENSE.txt").text
    assert "MIT" in client.get("/docs/assets/redoc.LICENSE.txt").text


def _tree(cls: type[e.IdentityError]) -> list[type[e.IdentityError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _tree(sub))]


# -- what the fuzzer found -------------------------------------------------------------


def test_405_names_the_allowed_methods(client: TestClient) -> None:
    response = client.put("/health")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET"  # RFC 9110 §15.5.6


@pytest.mark.parametrize("field,value", [("suspendable", 0), ("validityDays", "30")])
def test_a_credential_type_with_a_mistyped_member_is_refused(
    client: TestClient, field: str, value: Any
) -> None:
    body = {**EXAMPLES["POST", "/credential-types"], field: value}
    response = client.post("/credential-types", json=body, headers=admin())
    assert response.status_code == 422
    assert response.json()["type"] == e.MalformedValueError.type_uri
    assert client.get("/credential-types/LibraryCardCredential").status_code == 404
