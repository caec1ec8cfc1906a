"""The data catalog: accredited agencies publish versioned, anchored entries; anyone
browses and searches; bad entries are refused and write nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.canonical import jcs
from tests.service.conftest import make_issuer, services_of
from tests.service.directory_helpers import catalog_entry, publish

PROBLEMS = "https://identity-service.example/problems/"
MALFORMED = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR"


def entries(client: TestClient) -> int:
    return services_of(client).logs.log.store.entry_count()


def test_a_published_version_is_anchored_by_the_digest_of_its_record(client: TestClient) -> None:
    agency = make_issuer(client)
    response = publish(client, agency)
    assert response.status_code == 201
    body = response.json()
    leaf = json.loads(
        services_of(client).logs.log.store.read_entries(body["logIndex"], body["logIndex"] + 1)[0]
    )
    record = {k: v for k, v in body.items() if k not in ("publisherId", "logIndex", "receipt")}
    assert leaf["kind"] == "catalog.published" and leaf["entry"] == "psb.household-register"
    assert leaf["catalog_digest"] == "sha256:" + hashlib.sha256(jcs(record)).hexdigest()
    assert leaf["publisher"] == agency["did"] and leaf["version"] == "1"


def test_versions_are_kept_and_the_latest_is_listed(client: TestClient) -> None:
    agency = make_issuer(client)
    publish(client, agency)
    changed = catalog_entry(title="Household register (2027 edition)")
    second = publish(client, agency, changed)
    assert second.status_code == 201 and second.json()["version"] == 2
    assert client.get("/catalog/psb.household-register").json()["version"] == 2
    assert (
        client.get("/catalog/psb.household-register/versions/1").json()["title"]
        == "Household register"
    )
    assert [
        v["version"] for v in client.get("/catalog/psb.household-register/versions").json()
    ] == [1, 2]
    assert [e["version"] for e in client.get("/catalog").json()] == [2]


def test_search_by_agency_field_and_words(client: TestClient) -> None:
    psb = make_issuer(client, "Public Security Bureau")
    tax = make_issuer(client, "Tax Bureau")
    publish(client, psb)
    publish(
        client,
        tax,
        catalog_entry(
            "tax.income",
            title="Declared income",
            description="Yearly declared income",
            fields=[{"name": "income"}, {"name": "fullName"}],
        ),
    )

    def ids(**params: Any) -> list[str]:
        return [e["id"] for e in client.get("/catalog", params=params).json()]

    assert ids() == ["psb.household-register", "tax.income"]
    assert ids(agency=tax["id"]) == ["tax.income"] == ids(agency=tax["did"])
    assert ids(field="fullName") == ["psb.household-register", "tax.income"]
    assert ids(field="income") == ["tax.income"]
    assert ids(q="HOUSEHOLD members") == ["psb.household-register"]
    assert ids(q="nothing like this") == []


@pytest.mark.parametrize(
    "change",
    [
        {"id": "X"},
        {"title": ""},
        {"fields": []},
        {"fields": [{"name": "a"}, {"name": "a"}]},
        {"fields": [{"name": "1bad"}]},
        {"requesters": []},
        {"requesters": ["no-such-agency"]},
        {"legalBasis": None},
        {"surprise": True},
    ],
)
def test_bad_entries_are_refused_and_write_nothing(
    client: TestClient, change: dict[str, Any]
) -> None:
    agency = make_issuer(client)
    before = entries(client)
    entry = {k: v for k, v in {**catalog_entry(), **change}.items() if v is not None}
    response = publish(client, agency, entry)
    assert response.status_code == 422, response.text
    assert response.json()["type"] == MALFORMED
    assert entries(client) == before
    assert client.get("/catalog").json() == []


def test_only_accredited_agencies_publish_and_only_the_owner_versions(client: TestClient) -> None:
    owner = make_issuer(client, "Public Security Bureau")
    other = make_issuer(client, "Tax Bureau")
    unaccredited = make_issuer(client, "New Bureau", accredit=False)
    publish(client, owner)
    before = entries(client)
    for agency, status, problem in [
        (other, 403, PROBLEMS + "forbidden"),
        (unaccredited, 403, PROBLEMS + "forbidden"),
    ]:
        response = publish(client, agency)
        assert response.status_code == status and response.json()["type"] == problem
    anonymous = client.post("/catalog", json=catalog_entry("anon.entry"))
    assert anonymous.status_code == 401
    assert entries(client) == before
    assert [
        v["version"] for v in client.get("/catalog/psb.household-register/versions").json()
    ] == [1]


def test_unknown_entries_and_versions_are_404(client: TestClient) -> None:
    agency = make_issuer(client)
    publish(client, agency)
    assert client.get("/catalog/nothing.here").status_code == 404
    assert client.get("/catalog/psb.household-register/versions/2").status_code == 404
    assert client.get("/catalog/psb.household-register/versions/x").status_code in (400, 422)
