"""Each CLI command, as an operator runs it: output, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from service.cli_common import (
    EXIT_CONFLICT,
    EXIT_DENIED,
    EXIT_INVALID,
    EXIT_NOT_FOUND,
)
from tests.cli.helpers import Identity, agency, one_line_error, serving


def test_version(identity: Identity) -> None:
    assert identity.ok("--version").strip() == "identity 0.1.0"


def test_agency_create_list_show(identity: Identity) -> None:
    created = agency(identity)
    assert created["id"] == "psb" and str(created["did"]).startswith("did:key:z6Mk")
    assert str(created["apiKey"]).startswith("ik_")
    listed = identity.json("agency", "list", "--json")
    assert [a["id"] for a in listed] == ["psb"]  # type: ignore[union-attr,index]
    table = identity.ok("agency", "list")
    assert "psb" in table and str(created["did"]) in table.replace("\n", "").replace("│", "")
    shown = identity.json("agency", "show", "psb", "--json")
    assert isinstance(shown, dict) and shown["did"] == created["did"]
    assert shown["accreditations"][0]["types"] == ["ResidencePermitCredential"]
    assert "ResidencePermitCredential" in identity.ok("agency", "show", "psb")


def test_an_existing_agency_id_is_one_line_and_exit_4(identity: Identity) -> None:
    agency(identity)
    result = identity("agency", "create", "Another", "--id", "psb")
    one_line_error(result, EXIT_CONFLICT, "issuer id already exists")
    result = identity("issuer", "create", "Another", "--id", "psb")  # the older name
    one_line_error(result, EXIT_CONFLICT, "issuer id already exists")
    assert len(identity.json("agency", "list", "--json")) == 1  # type: ignore[arg-type]


def test_unknown_agency_is_exit_3(identity: Identity) -> None:
    one_line_error(identity("agency", "show", "nobody"), EXIT_NOT_FOUND, "issuer")
    one_line_error(identity("accreditation", "list", "nobody"), EXIT_NOT_FOUND, "issuer")


def test_api_keys_are_added_and_revoked(identity: Identity) -> None:
    agency(identity)
    made = identity.json("agency", "key", "add", "psb", "--scope", "read")
    assert isinstance(made, dict) and str(made["apiKey"]).startswith("ik_")
    with serving(identity) as url:
        wallet = httpx.get(url + "/issuers/psb", headers={"Authorization": "Bearer x"})
        assert wallet.status_code == 200
        identity.ok("agency", "key", "revoke", "psb", str(made["keyId"]))
        refused = httpx.post(
            url + "/credentials/status",
            json={"credentialId": "x", "credentialStatus": [{"status": "revoked"}]},
            headers={"Authorization": f"Bearer {made['apiKey']}"},
        )
        assert refused.status_code == 401
    one_line_error(
        identity("agency", "key", "revoke", "psb", "nope"), EXIT_NOT_FOUND, "no such API key"
    )


def test_a_wrong_admin_token_against_a_url_is_exit_6(identity: Identity) -> None:
    with serving(identity) as url:
        wrong = Identity(identity.data, {"IDENTITY_ADMIN_TOKEN": "w" * 40})
        one_line_error(wrong("agency", "create", "X", "--url", url), EXIT_DENIED, "")
        created = identity.json("agency", "create", "Civil Affairs", "--id", "cab", "--url", url)
        assert isinstance(created, dict) and created["id"] == "cab"
        listed = identity.json("agency", "list", "--json", "--url", url)
        assert [a["id"] for a in listed] == ["cab"]  # type: ignore[union-attr,index]


def test_accreditations_grant_list_revoke(identity: Identity) -> None:
    agency(identity)
    granted = identity.json(
        "accreditation", "grant", "psb", "--type", "BusinessLicenceCredential",
        "--until", "2031-01-01T00:00:00Z",
    )  # fmt: skip
    assert isinstance(granted, dict) and granted["types"] == ["BusinessLicenceCredential"]
    assert granted["receipt"]["index"] >= 0
    listed = identity.json("accreditation", "list", "psb", "--json")
    assert {a["id"] for a in listed} >= {granted["id"]}  # type: ignore[union-attr,index]
    revoked = identity.json("accreditation", "revoke", str(granted["id"]))
    assert isinstance(revoked, dict) and revoked["revoked"]
    assert str(granted["id"]) in identity.ok("accreditation", "list", "psb").replace("\n", "")
    result = identity(
        "accreditation", "grant", "psb", "--type", "BusinessLicenceCredential",
        "--until", "2031-01-01",
    )  # fmt: skip
    one_line_error(result, EXIT_INVALID, "validUntil")


def test_types_list_and_register(identity: Identity, tmp_path: Path) -> None:
    listed = identity.json("type", "list", "--json")
    names = {t["type"] for t in listed}  # type: ignore[union-attr,index]
    assert "ResidencePermitCredential" in names
    assert "ResidencePermitCredential" in identity.ok("type", "list")
    definition = tmp_path / "library.json"
    definition.write_text(
        json.dumps(
            {
                "type": "LibraryCardCredential",
                "title": "Library card",
                "schema": {
                    "type": "object",
                    "required": ["cardNumber"],
                    "properties": {"cardNumber": {"type": "string"}},
                },
            }
        )
    )
    assert "registered LibraryCardCredential" in identity.ok("type", "register", str(definition))
    listed = identity.json("type", "list", "--json")
    assert "LibraryCardCredential" in {t["type"] for t in listed}  # type: ignore[union-attr,index]
    one_line_error(
        identity("type", "register", str(definition)), EXIT_CONFLICT, "already registered"
    )
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_line_error(identity("type", "register", str(bad)), EXIT_INVALID, "not JSON")
    one_line_error(identity("type", "register", str(tmp_path / "none.json")), EXIT_INVALID, "")
