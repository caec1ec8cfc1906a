"""A scripted workload over HTTP, and what it must do to the metrics.

Used by the metrics and log tests (in process and against ``identity serve --workers 2``)
and by ``benchmarks/render_dashboard.py``. Works with any ``httpx.Client`` (a
``TestClient`` is one). Every request carries an ``X-Request-ID`` of the form
``<prefix>-<n>``, so tests can find each one in the logs.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

SUBJECT = {
    "id": "did:example:citizen-obs-7",
    "fullName": "Wang Xiaoming",
    "dateOfBirth": "1988-08-08",
    "residenceAddress": "88 Anfu Road, Xuhui",
    "permitNumber": "SH2026OBS77",
}
"""The personal values the workload sends: none may appear in a log line or a label."""

Key = tuple[str, tuple[tuple[str, str], ...]]


def samples(text: str) -> dict[Key, float]:
    """Parse an exposition with prometheus_client's parser: (sample, labels) -> value."""
    out: dict[Key, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def key(name: str, **labels: str) -> Key:
    return (name, tuple(sorted(labels.items())))


@dataclass
class Workload:
    """The actors of the workload (made by :meth:`setup`) and what it expects."""

    client: httpx.Client
    admin_token: str
    prefix: str = "wl"
    expected: Counter[Key] = field(default_factory=Counter)
    request_ids: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    credential_ids: list[str] = field(default_factory=list)
    agency: dict[str, Any] = field(default_factory=dict)
    verifier_key: str = ""
    _n: itertools.count[int] = field(default_factory=itertools.count)
    log_entries: int = 0

    # -- plumbing ---------------------------------------------------------------------

    def call(
        self, method: str, path: str, *, route: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request; count what the metrics must show for it."""
        rid = f"{self.prefix}-{next(self._n)}"
        headers = {"X-Request-ID": rid, **kwargs.pop("headers", {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.request(method, path, headers=headers, **kwargs)
        assert response.headers["x-request-id"] == rid
        self.request_ids.append(rid)
        status = str(response.status_code)
        self.expected[key("identity_http_requests_total", route=route, method=method,
                          status=status)] += 1  # fmt: skip
        self.expected[
            key("identity_http_request_duration_seconds_count", route=route, method=method)
        ] += 1
        if response.status_code == 429:
            self.expected[key("identity_rate_limit_refusals_total", route=route)] += 1
        return response

    def anchored(self, kind: str) -> None:
        self.log_entries += 1
        self.expected[key("identity_log_entries_total", kind=kind)] += 1

    # -- the script -------------------------------------------------------------------

    def setup(self) -> None:
        """An agency, accredited; a second API key made and revoked; a verifier key."""
        self.secrets.append(self.admin_token)
        agency = self.call(
            "POST", "/issuers", route="/issuers", token=self.admin_token,
            json={"name": "Observed Bureau"},
        )  # fmt: skip
        assert agency.status_code == 201, agency.text
        self.agency = agency.json()
        self.secrets.append(self.agency["apiKey"])
        self.anchored("issuer.created")
        accredited = self.call(
            "POST", "/accreditations", route="/accreditations", token=self.admin_token,
            json={
                "issuer": self.agency["id"],
                "types": ["ResidencePermitCredential"],
                "validFrom": "2026-01-01T00:00:00Z",
                "validUntil": "2099-01-01T00:00:00Z",
            },
        )  # fmt: skip
        assert accredited.status_code == 201, accredited.text
        self.anchored("accreditation.granted")
        keys = "/issuers/{issuer_id}/keys"
        extra = self.call(
            "POST", f"/issuers/{self.agency['id']}/keys", route=keys, token=self.admin_token
        )
        assert extra.status_code == 201, extra.text
        self.secrets.append(extra.json()["apiKey"])
        revoked = self.call(
            "DELETE", f"/issuers/{self.agency['id']}/keys/{extra.json()['keyId']}",
            route=keys + "/{key_id}", token=self.admin_token,
        )  # fmt: skip
        assert revoked.status_code == 204, revoked.text
        verifier = self.call(
            "POST", "/verifiers", route="/verifiers", token=self.admin_token,
            json={"name": "Counter clerk"},
        )  # fmt: skip
        assert verifier.status_code == 201, verifier.text
        self.verifier_key = verifier.json()["apiKey"]
        self.secrets.append(self.verifier_key)

    def issue(self, suite: str, subject: dict[str, Any] | None = None) -> httpx.Response:
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "ResidencePermitCredential"],
            "issuer": self.agency["did"],
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": subject or SUBJECT,
        }
        response = self.call(
            "POST", "/credentials/issue", route="/credentials/issue", token=self.agency["apiKey"],
            json={"credential": credential, "options": {"cryptosuite": suite}},
        )  # fmt: skip
        outcome = "issued" if response.status_code == 201 else "refused"
        self.expected[key("identity_credentials_issued_total", cryptosuite=suite,
                          outcome=outcome)] += 1  # fmt: skip
        if outcome == "issued":
            self.anchored("credential.issued")
            self.credential_ids.append(response.json()["credentialId"])
        return response

    def verify(self, credential: Any, suite: str, *, token: str | None = None) -> httpx.Response:
        response = self.call(
            "POST", "/credentials/verify", route="/credentials/verify",
            token=self.verifier_key if token is None else token or None,
            json={"verifiableCredential": credential},
        )  # fmt: skip
        if response.status_code == 429:
            return response
        body = response.json()
        failed = [d["check"] for d in body.get("problemDetails", [])]
        outcome = (
            "verified" if response.status_code == 200
            else "malformed" if "wellFormed" in failed else "not_verified"
        )  # fmt: skip
        self.expected[key("identity_credentials_verified_total", cryptosuite=suite,
                          outcome=outcome)] += 1  # fmt: skip
        for check in failed:
            self.expected[key("identity_verification_failed_checks_total", check=check)] += 1
        return response

    def round(self, *, anonymous: int = 0) -> None:
        """Issue 2 eddsa-jcs-2022 + 1 eddsa-rdfc-2022 and one refused; verify each; a
        tampered, a malformed and a revoked credential; ``anonymous`` unauthenticated
        verifications (rate-limited); one DID resolved."""
        issued = []
        for suite in ("eddsa-jcs-2022", "eddsa-jcs-2022", "eddsa-rdfc-2022"):
            response = self.issue(suite)
            assert response.status_code == 201, response.text
            issued.append((response.json(), suite))
        refused = self.issue("eddsa-jcs-2022", {**SUBJECT, "dateOfBirth": "not a date"})
        assert refused.status_code == 422, refused.text
        for body, suite in issued:
            ok = self.verify(body["verifiableCredential"], suite)
            assert ok.status_code == 200, ok.text
        tampered = copy.deepcopy(issued[0][0]["verifiableCredential"])
        tampered["credentialSubject"]["residenceAddress"] = "1 Elsewhere Road"
        assert self.verify(tampered, "eddsa-jcs-2022").status_code == 422
        malformed = self.verify({"type": ["VerifiableCredential"]}, "none")
        assert malformed.status_code == 400, malformed.text
        revoke = self.call(
            "POST", "/credentials/status", route="/credentials/status",
            token=self.agency["apiKey"],
            json={"credentialId": issued[1][0]["credentialId"],
                  "credentialStatus": {"status": "revoked"}},
        )  # fmt: skip
        assert revoke.status_code == 200, revoke.text
        self.anchored("credential.revoked")
        self.expected[key("identity_status_changes_total", change="revoked")] += 1
        revoked = self.verify(issued[1][0]["verifiableCredential"], "eddsa-jcs-2022")
        assert revoked.status_code == 422, revoked.text
        for _ in range(anonymous):
            self.verify(issued[0][0]["verifiableCredential"], "eddsa-jcs-2022", token="")
        resolved = self.call("GET", f"/dids/{self.agency['did']}", route="/dids/{did:path}")
        assert resolved.status_code == 200, resolved.text

    def moved(self, before: dict[Key, float], after: dict[Key, float]) -> dict[Key, float]:
        """The difference of two scrapes, for the keys this workload expects."""
        return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in self.expected}
