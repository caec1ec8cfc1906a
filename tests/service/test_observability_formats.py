"""The credential metrics by format: enveloped (vc+jwt, vc+cose) and SD-JWT VC (dc+sd-jwt)
issuance and verification move their own bounded ``cryptosuite`` label."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from identity.jose.keys import SigningKey
from identity.sdjwt.format import split
from service.observability.checks import SD_JWT_CHECKS
from service.observability.metrics import CHECKS, proof_suite, suite_label
from service.web import i18n
from tests.sdjwt.conftest import counter_random
from tests.sdjwt.service_helpers import SUBJECT, sd_issue, sd_verify
from tests.service.conftest import ADMIN, issue, make_issuer
from tests.service.observability_workload import Key, key, samples

ISSUED = "identity_credentials_issued_total"
VERIFIED = "identity_credentials_verified_total"
FAILED = "identity_verification_failed_checks_total"


def scrape(client: TestClient) -> dict[Key, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code == 200, response.text
    return samples(response.text)


def moved(before: dict[Key, float], after: dict[Key, float]) -> Counter[Key]:
    """The credential counters that changed, and by how much."""
    names = (ISSUED, VERIFIED, FAILED)
    return Counter(
        {
            k: after[k] - before.get(k, 0.0)
            for k in after
            if k[0] in names and after[k] != before.get(k, 0.0)
        }
    )


def tampered_disclosure(token: str) -> str:
    """The SD-JWT with its first disclosure's value changed (same salt and name)."""
    parts = split(token)
    first = parts.disclosures[0]
    salt, name, _ = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps([salt, name, "forged"]).encode()).rstrip(b"=")
    return token.replace(first, forged.decode(), 1)


@pytest.mark.parametrize(("media_type", "label"), [
    ("application/vc+jwt", "vc+jwt"),
    ("application/vc+cose", "vc+cose"),
])  # fmt: skip
def test_enveloped_credentials_are_counted_by_their_format(
    client: TestClient, media_type: str, label: str
) -> None:
    agency = make_issuer(client)
    before = scrape(client)
    response = issue(client, agency, envelope=media_type)
    assert response.status_code == 201, response.text
    vc = response.json()["verifiableCredential"]
    assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
    broken = {
        **vc,
        "id": vc["id"][:-8] + ("AAAAAAAA" if not vc["id"].endswith("A") else "BBBBBBBB"),
    }
    refused = client.post("/credentials/verify", json={"verifiableCredential": broken})
    assert refused.status_code in (400, 422), refused.text
    outcome = "malformed" if refused.status_code == 400 else "not_verified"
    failed = [p["check"] for p in refused.json()["problemDetails"]]
    after = scrape(client)
    expected: Counter[Key] = Counter(
        {
            key(ISSUED, cryptosuite=label, outcome="issued"): 1,
            key(VERIFIED, cryptosuite=label, outcome="verified"): 1,
            key(VERIFIED, cryptosuite=label, outcome=outcome): 1,
        }
    )
    for check in failed:
        expected[key(FAILED, check=check)] += 1
    assert moved(before, after) == expected
    # nothing is counted under the old catch-all labels any more
    for outcome_label in ("issued", "verified"):
        assert after.get(key(ISSUED, cryptosuite="other", outcome=outcome_label), 0) == 0
    assert after.get(key(VERIFIED, cryptosuite="none", outcome="verified"), 0) == 0


def test_sd_jwt_vcs_are_counted_as_dc_sd_jwt_with_the_failed_check(client: TestClient) -> None:
    agency = make_issuer(client)
    holder = SigningKey.generate_p256(counter_random())
    before = scrape(client)
    response = sd_issue(client, agency, holder)
    assert response.status_code == 201, response.text
    token = response.json()["credential"]
    assert sd_verify(client, token, keyBinding=None).status_code == 200
    forged = sd_verify(client, tampered_disclosure(token), keyBinding=None)
    assert forged.status_code == 422, forged.text
    assert forged.json()["check"] == "disclosures"
    garbage = sd_verify(client, "not an sd-jwt", keyBinding=None)
    assert garbage.status_code == 400 and garbage.json()["check"] == "wellFormed"
    unbound = sd_verify(client, token)  # key binding required, none presented
    assert unbound.status_code == 422 and unbound.json()["check"] == "keyBinding"
    refused = sd_issue(client, agency, holder, type="NoSuchCredential")
    assert refused.status_code >= 400
    after = scrape(client)
    assert moved(before, after) == Counter(
        {
            key(ISSUED, cryptosuite="dc+sd-jwt", outcome="issued"): 1,
            key(ISSUED, cryptosuite="dc+sd-jwt", outcome="refused"): 1,
            key(VERIFIED, cryptosuite="dc+sd-jwt", outcome="verified"): 1,
            key(VERIFIED, cryptosuite="dc+sd-jwt", outcome="not_verified"): 2,
            key(VERIFIED, cryptosuite="dc+sd-jwt", outcome="malformed"): 1,
            key(FAILED, check="disclosures"): 1,
            key(FAILED, check="wellFormed"): 1,
            key(FAILED, check="keyBinding"): 1,
        }
    )
    text = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text
    for value in (*SUBJECT.values(), agency["did"], response.json()["credentialId"]):
        assert value not in text, value


@pytest.mark.parametrize(("given", "label"), [
    ({"id": "data:application/vc+jwt,eyJ"}, "vc+jwt"),
    ({"id": "data:application/vc+cose;base64,0oRD"}, "vc+cose"),
    ({"id": "data:application/jwt,eyJ"}, "jwt"),
    ({"id": "data:text/plain,did:example:chosen-by-a-client"}, "other"),
    ({"id": "urn:uuid:1", "proof": {"cryptosuite": "eddsa-jcs-2022"}}, "eddsa-jcs-2022"),
    ({"id": "data:application/vc+jwt,x", "proof": {"cryptosuite": "x"}}, "other"),
    ({"credentialSubject": {}}, "none"),
    ("a string", "none"),
])  # fmt: skip
def test_the_label_of_a_submitted_credential_is_bounded(given: Any, label: str) -> None:
    assert proof_suite(given) == label


def test_issuance_labels_are_bounded() -> None:
    assert suite_label("application/vc+jwt") == "vc+jwt"
    assert suite_label("dc+sd-jwt") == "dc+sd-jwt"
    assert suite_label("application/vc+sd-jwt") == "other"
    assert suite_label(None) == "none"


def test_every_sd_jwt_check_is_a_bounded_label_with_words_in_both_languages() -> None:
    assert set(SD_JWT_CHECKS) <= CHECKS
    script = (Path(i18n.__file__).parent / "static" / "js" / "verify.js").read_text()
    listed = re.search(r"const SD_JWT_CHECKS = \[([^\]]*)\]", script)
    assert listed is not None
    assert re.findall(r'"(\w+)"', listed.group(1)) == list(SD_JWT_CHECKS)
    for language in i18n.LANGUAGES:
        texts = i18n.catalogue(language)
        for check in SD_JWT_CHECKS:
            assert f"check_{check}" in texts and f"check_{check}_failed" in texts, check
