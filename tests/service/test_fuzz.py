"""Schemathesis against the app's own OpenAPI document (issue #13: a fuzzer in CI).

Every operation is fuzzed as each of four callers -- the operator, an agency key, a
verifier key and a citizen token -- with valid and invalid data (``mode: all``): its
examples first, then generated cases. Each answer must not be a server error and must
match what the document declares for the operation: status code, content type, headers
and body schema. The run is bounded and reproducible: a fixed seed and derandomized
Hypothesis (``deterministic``), no example database, ``MAX_EXAMPLES`` cases per
operation and caller. ``IDENTITY_FUZZ_EXAMPLES`` and ``IDENTITY_FUZZ_SEED`` change the
bound and the seed for a longer local run.

A failure prints the case as a curl command and the seed; re-running this file replays
the same cases.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from identity.clock import FixedClock
from service.app import create_app
from service.settings import Settings
from tests.service.conftest import (
    ADMIN,
    NOW,
    credential_for,
    issue,
    make_issuer,
    service_settings,
)
from tests.service.directory_helpers import ask, catalog_entry, publish
from tests.service.test_roles import CITIZEN_DID, login

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SEED = int(os.environ.get("IDENTITY_FUZZ_SEED", "1913"))
MAX_EXAMPLES = int(os.environ.get("IDENTITY_FUZZ_EXAMPLES", "8"))
ROLES = tuple(os.environ.get("IDENTITY_FUZZ_ROLES", "operator agency verifier citizen").split())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,  # an undeclared method: 405 with Allow (RFC 9110 §15.5.6)
    missing_required_header,
    negative_data_rejection,  # invalid input is refused with a 4xx
]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


def _document() -> dict[str, Any]:
    settings = Settings(data_dir=Path("unused"), admin_token=ADMIN, master_secret="ab" * 32)
    return create_app(settings).openapi()  # builds nothing: the document only


schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)
SENT: Counter[str] = Counter()


@dataclass
class World:
    """The running app and the credentials each caller presents."""

    client: TestClient
    headers: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = service_settings(tmp_path_factory.mktemp("fuzz"))
    app = create_app(settings, clock=FixedClock(NOW))
    with TestClient(app, raise_server_exceptions=False) as client:
        agency = make_issuer(client, "Public Security Bureau")
        verifier = client.post("/verifiers", json={"name": "counter"}, headers=_bearer(ADMIN))
        assert verifier.status_code == 201, verifier.text
        # Something to find: a credential for the citizen, a catalog entry, a request.
        credential = credential_for(agency["did"])
        credential["credentialSubject"]["id"] = CITIZEN_DID
        assert issue(client, agency, credential).status_code == 201
        assert publish(client, agency, catalog_entry()).status_code == 201
        school = make_issuer(client, "Education Bureau")
        asked = ask(client, school, CITIZEN_DID)
        assert asked.status_code == 201, asked.text
        token = login(client)
        assert token.status_code == 200, token.text
        yield World(
            client,
            {
                "anonymous": {},
                "operator": _bearer(ADMIN),
                "agency": _bearer(agency["apiKey"]),
                "verifier": _bearer(verifier.json()["apiKey"]),
                "citizen": _bearer(token.json()["access_token"]),
            },
        )
    total = sum(SENT.values())
    print(f"\nfuzzer: {total} requests over {len(SENT)} operations x callers")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_every_answer_is_documented(case: Any, role: str, world: World) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=world.headers[role])
    method, url = kwargs.pop("method"), kwargs.pop("url")
    data = kwargs.pop("data", None)
    if data is not None:
        kwargs["content"] = data if isinstance(data, bytes | str) else None
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)
    kwargs.pop("allow_redirects", None)
    kwargs.pop("verify", None)
    kwargs.pop("timeout", None)
    response = world.client.request(method, url, follow_redirects=False, **kwargs)
    SENT[f"{role} {case.operation.label}"] += 1
    case.validate_response(response, checks=CHECKS, headers=world.headers[role])
