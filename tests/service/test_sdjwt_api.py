"""The SD-JWT VC routes: issue, verify, metadata, Token Status List, anchoring, bad input."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.clock import FixedClock
from identity.jose.jws import parse_compact, sign_compact
from identity.jose.keys import SigningKey, b64url
from identity.log.entries import LogEntry
from identity.sdjwt.disclosures import Disclosure
from identity.sdjwt.format import split
from identity.sdjwt.holder import KeyBinding, present
from tests.sdjwt.conftest import counter_random
from tests.sdjwt.service_helpers import AUD, NONCE, sd_issue, sd_verify
from tests.service.conftest import NOW, make_issuer, services_of

PATHS = ["dateOfBirth", "district"]


@pytest.fixture
def agency(client: TestClient) -> dict[str, Any]:
    return make_issuer(client)


@pytest.fixture
def holder() -> SigningKey:
    return SigningKey.generate_p256(counter_random())


@pytest.fixture
def issued(client: TestClient, agency: dict[str, Any], holder: SigningKey) -> dict[str, Any]:
    response = sd_issue(client, agency, holder)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bound(token: str, holder: SigningKey, paths: list[str] = PATHS, iat: int | None = None) -> str:
    return present(
        token,
        paths,
        holder_key=holder,
        binding=KeyBinding(NONCE, AUD, iat if iat is not None else int(NOW.timestamp())),
    )


def log_size(client: TestClient) -> int:
    return services_of(client).logs.log.store.entry_count()


def test_issue_verify_round_trip(
    client: TestClient, issued: dict[str, Any], holder: SigningKey
) -> None:
    svc = services_of(client)
    assert issued["format"] == "dc+sd-jwt"
    jwt = split(issued["credential"]).issuer_jwt
    header, payload = parse_compact(jwt).header, parse_compact(jwt).claims()
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "EdDSA"
    assert payload["iss"] == svc.settings.public_url.rstrip("/")
    assert payload["vct"].endswith("/vct/ResidencePermitCredential")
    assert payload["fullName"] == "李雷" and "dateOfBirth" not in payload
    assert payload["sub"] == "did:example:citizen-1"
    assert payload["status"]["status_list"]["uri"].startswith(payload["iss"] + "/statuslists/")
    response = sd_verify(client, bound(issued["credential"], holder))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True
    assert body["disclosed"] == ["dateOfBirth", "district"]
    claims = body["claims"]
    assert claims["dateOfBirth"] == "1990-02-03" and claims["district"] == "Chaoyang"
    for hidden in ("residenceAddress", "permitNumber"):
        assert hidden not in claims
    results = body["results"]
    assert results["keyBinding"]["valid"] and results["status"]["status"] == "VALID"
    assert results["issuerTrust"]["accredited"] is True
    assert results["anchor"]["index"] == issued["receipt"]["index"]


def test_issuance_is_anchored_without_claims(client: TestClient, issued: dict[str, Any]) -> None:
    svc = services_of(client)
    index = issued["receipt"]["index"]
    [data] = svc.logs.log.store.read_entries(index, index + 1)
    entry = LogEntry.parse(data)
    parts = split(issued["credential"])
    assert entry.kind == "credential.issued"
    expected = hashlib.sha256(parts.issuer_jwt.encode()).hexdigest()
    assert entry.fields["credential_digest"] == "sha256:" + expected
    assert entry.fields["format"] == "dc+sd-jwt"
    assert sorted(entry.fields["disclosure_digests"].split()) == sorted(
        Disclosure.parse(d).digest for d in parts.disclosures
    )
    text = data.decode()
    for value in ("1990-02-03", "Chaoyang", "Xuhui", "SH2026001", "李雷"):
        assert value not in text
    record = svc.store.get_credential(issued["credentialId"])
    assert record.digest.hex() == expected and record.log_index == index


def test_revocation_flips_the_token_status_list(
    client: TestClient, agency: dict[str, Any], issued: dict[str, Any], holder: SigningKey
) -> None:
    uri = parse_compact(split(issued["credential"]).issuer_jwt).claims()["status"]["status_list"][
        "uri"
    ]
    path = uri.split("://", 1)[1].partition("/")[2]
    before = client.get("/" + path)
    assert before.status_code == 200
    assert before.headers["content-type"] == "application/statuslist+jwt"
    assert "max-age" in before.headers["cache-control"] and before.headers["etag"]
    assert (
        client.get("/" + path, headers={"If-None-Match": before.headers["etag"]}).status_code == 304
    )
    size = log_size(client)
    revoked = client.post(
        "/credentials/status",
        json={
            "credentialId": issued["credentialId"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "status": "revoked"},
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert revoked.status_code in (200, 201), revoked.text
    assert log_size(client) == size + 1  # the one change, anchored once for both lists
    after = client.get("/" + path)
    assert after.headers["etag"] != before.headers["etag"]
    claims = parse_compact(after.text).claims()
    assert claims["sub"] == uri and claims["status_list"]["bits"] == 2
    response = sd_verify(client, bound(issued["credential"], holder))
    assert response.status_code == 422
    assert response.json()["type"].endswith("/credential-status")


def test_metadata_routes(
    client: TestClient, agency: dict[str, Any], issued: dict[str, Any]
) -> None:
    meta = client.get("/.well-known/jwt-vc-issuer").json()
    kid = parse_compact(split(issued["credential"]).issuer_jwt).header["kid"]
    assert kid in {k["kid"] for k in meta["jwks"]["keys"]}
    assert meta["issuer"] == services_of(client).issuance.sdjwt.iss
    vct = client.get("/vct/ResidencePermitCredential").json()
    locales = {d["locale"]: d["name"] for d in vct["display"]}
    assert locales == {"zh-CN": "居住证", "en": "Residence permit"}
    dob = next(c for c in vct["claims"] if c["path"] == ["dateOfBirth"])
    assert {"locale": "zh-CN", "label": "出生日期"} in dob["display"] and dob["sd"] == "allowed"
    assert client.get("/vct/NoSuchCredential").status_code == 404


# -- bad input: problem+json, nothing written ----------------------------------------------


def _refused(client: TestClient, response: Any, status: int, suffix: str, size: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(suffix), response.json()
    assert log_size(client) == size


def test_verify_refusals(client: TestClient, issued: dict[str, Any], holder: SigningKey) -> None:
    token = issued["credential"]
    size = log_size(client)
    parts = split(bound(token, holder))
    stray = Disclosure.make("c2FsdA", "dateOfBirth", "2001-01-01").encoded
    cases = [
        (token + stray + "~", 422, "sd-jwt-unreferenced-disclosure"),
        (
            parts.issuer_jwt + "~" + parts.disclosures[0] + "~" + parts.disclosures[0] + "~",
            422,
            "sd-jwt-repeated-disclosure",
        ),
        (present(token, PATHS), 422, "sd-jwt-key-binding"),
        (bound(token, holder, iat=int(NOW.timestamp()) - 3600), 422, "sd-jwt-key-binding"),
        (parts.issuer_jwt + "~" + parts.kb_jwt, 422, "sd-jwt-sd-hash"),  # type: ignore[operator]
        (token + "A" * 40_000, 400, "token-too-large"),
        ("not-an-sd-jwt", 400, "token-parsing"),
    ]
    for presented, status, suffix in cases:
        _refused(client, sd_verify(client, presented), status, suffix, size)


def test_forged_headers_refused(
    client: TestClient, agency: dict[str, Any], issued: dict[str, Any]
) -> None:
    svc = services_of(client)
    size = log_size(client)
    jwt = split(issued["credential"]).issuer_jwt
    header, payload = parse_compact(jwt).header, parse_compact(jwt).claims()
    key = SigningKey.from_ed25519(svc.issuance.keys.signing_key(svc.store.get_issuer(agency["id"])))
    none = (
        b64url(f'{{"alg":"none","typ":"dc+sd-jwt","kid":"{header["kid"]}"}}'.encode())
        + "."
        + jwt.split(".")[1]
        + ".~"
    )
    crit = sign_compact({**header, "crit": ["x"], "x": 1}, payload, key) + "~"
    typ = sign_compact({**header, "typ": "JWT"}, payload, key) + "~"
    for token, suffix in (
        (none, "unsupported-algorithm"),
        (crit, "unknown-critical-header"),
        (typ, "wrong-token-type"),
    ):
        _refused(client, sd_verify(client, token, keyBinding=None), 422, suffix, size)


def test_always_disclosed_claim_refused(
    client: TestClient, agency: dict[str, Any], issued: dict[str, Any]
) -> None:
    svc = services_of(client)
    jwt = split(issued["credential"]).issuer_jwt
    header, payload = parse_compact(jwt).header, parse_compact(jwt).claims()
    full_name = Disclosure.make("c2FsdHNhbHQ", "fullName", "李雷")
    payload.pop("fullName")
    payload["_sd"] = sorted([*payload["_sd"], full_name.digest])
    key = SigningKey.from_ed25519(svc.issuance.keys.signing_key(svc.store.get_issuer(agency["id"])))
    token = sign_compact(header, payload, key) + "~" + full_name.encoded + "~"
    _refused(
        client,
        sd_verify(client, token, keyBinding=None),
        422,
        "sd-jwt-always-disclosed-claim",
        log_size(client),
    )


def test_issue_refusals_write_nothing(
    client: TestClient, agency: dict[str, Any], holder: SigningKey
) -> None:
    size = log_size(client)
    bad_subject = sd_issue(client, agency, holder, credentialSubject={"fullName": "x"})
    _refused(client, bad_subject, 422, "schema-violation", size)
    unknown = sd_issue(client, agency, holder, type="NoSuchCredential")
    _refused(client, unknown, 404, "not-found", size)
    private = client.post(
        "/credentials/sd-jwt/issue",
        json={
            "credential": {"type": "ResidencePermitCredential", "credentialSubject": {}},
            "options": {"cnf": {"jwk": holder.private_jwk()}},
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert private.status_code == 422 and log_size(client) == size
    assert (
        "d" not in private.text.split('"detail"')[0]
        or holder.private_jwk()["d"] not in private.text
    )
    unaccredited = make_issuer(client, "Unaccredited Bureau", accredit=False)
    size = log_size(client)
    _refused(client, sd_issue(client, unaccredited, holder), 403, "forbidden", size)


def test_expired_credential_refused(
    client: TestClient, clock: FixedClock, agency: dict[str, Any], holder: SigningKey
) -> None:
    response = sd_issue(client, agency, holder, validUntil="2026-06-02T00:00:00Z")
    token = response.json()["credential"]
    clock.advance(__import__("datetime").timedelta(days=2))
    later = present(
        token,
        PATHS,
        holder_key=holder,
        binding=KeyBinding(NONCE, AUD, int(clock.now().timestamp())),
    )
    _refused(client, sd_verify(client, later), 422, "RANGE_ERROR", log_size(client))


def test_registered_type_with_nested_and_array_disclosures(
    client: TestClient, holder: SigningKey
) -> None:
    from tests.service.conftest import admin

    definition = {
        "type": "LibraryCardCredential",
        "title": "Library card",
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "fullName": {"type": "string"},
                "address": {
                    "type": "object",
                    "properties": {"district": {"type": "string"}, "street": {"type": "string"}},
                },
                "branches": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["fullName"],
        },
        "selectivelyDisclosable": ["address.district", "address.street", "branches[]"],
        "display": {"zh-CN": "借书证", "en": "Library card"},
        "claimDisplay": {"fullName": {"zh-CN": "姓名", "en": "Full name"}},
    }
    registered = client.post("/credential-types", json=definition, headers=admin())
    assert registered.status_code == 201, registered.text
    agency = make_issuer(client, "City Library", accredit=False)
    accredited = client.post(
        "/accreditations",
        json={
            "issuer": agency["id"],
            "types": ["LibraryCardCredential"],
            "validFrom": "2026-01-01T00:00:00Z",
            "validUntil": "2027-01-01T00:00:00Z",
        },
        headers=admin(),
    )
    assert accredited.status_code == 201, accredited.text
    subject = {
        "fullName": "韩梅梅",
        "address": {"district": "Haidian", "street": "5 Yiheyuan Road"},
        "branches": ["Haidian", "Xicheng", "Dongcheng"],
    }
    response = client.post(
        "/credentials/sd-jwt/issue",
        json={
            "credential": {"type": "LibraryCardCredential", "credentialSubject": subject},
            "options": {"cnf": {"jwk": holder.public_jwk.to_dict()}},
        },
        headers={"Authorization": f"Bearer {agency['apiKey']}"},
    )
    assert response.status_code == 201, response.text
    token = response.json()["credential"]
    shown = bound(token, holder, ["address.district", "branches[1]"])
    verified = sd_verify(client, shown)
    assert verified.status_code == 200, verified.text
    claims = verified.json()["claims"]
    assert claims["address"] == {"district": "Haidian"}
    assert claims["branches"] == ["Xicheng"]
    assert verified.json()["disclosed"] == ["address.district", "branches[0]"]
    assert client.get("/vct/LibraryCardCredential").json()["display"][0]["name"] == "借书证"


def test_well_known_path_is_inserted_after_the_host() -> None:
    from service.sdjwt import jwt_vc_issuer_path

    assert jwt_vc_issuer_path("https://id.city.gov") == "/.well-known/jwt-vc-issuer"
    assert jwt_vc_issuer_path("https://id.city.gov/") == "/.well-known/jwt-vc-issuer"
    assert jwt_vc_issuer_path("https://id.city.gov/tenant/a") == (
        "/.well-known/jwt-vc-issuer/tenant/a"
    )


def test_other_well_known_tail_is_not_found(client: TestClient) -> None:
    response = client.get("/.well-known/jwt-vc-issuer/elsewhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
