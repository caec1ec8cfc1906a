"""``identity verifier create`` / ``revoke``: a revoked verifier key is refused by the
running service at once; an unknown key id is exit 3 with one line."""

from __future__ import annotations

import os

import httpx

from service.cli_common import EXIT_NOT_FOUND
from tests.cli.helpers import Identity, free_port, one_line_error, serve_process


def test_verifier_keys_are_created_and_revoked(identity: Identity) -> None:
    made = identity.json("verifier", "create", "Counter 3")
    assert isinstance(made, dict) and str(made["apiKey"]).startswith("ik_")
    assert made["name"] == "Counter 3"
    headers = {"Authorization": f"Bearer {made['apiKey']}"}
    port = int(os.environ.get("IDENTITY_TEST_SERVE_PORT") or free_port())  # a range of one's own
    with serve_process(identity.env, identity.data.parent, port) as url:
        batch = url + "/credentials/verify/batch"
        assert httpx.post(batch, json=[], headers=headers).status_code == 200
        said = identity.ok("verifier", "revoke", str(made["keyId"]))
        assert said.strip() == f"revoked verifier key {made['keyId']}"
        refused = httpx.post(batch, json=[], headers=headers)
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    one_line_error(identity("verifier", "revoke", "nope"), EXIT_NOT_FOUND, "no such verifier")
    assert str(made["apiKey"]) not in identity("verifier", "revoke", "nope").stderr
