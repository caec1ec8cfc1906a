"""The pages' own checks (static/js/crypto.js) against the Python core, in Chromium:
JCS against rfc8785, inclusion and consistency proofs of every shape up to 20 leaves
against identity.log, and signed checkpoints made by identity.log.checkpoint."""

from __future__ import annotations

import base64
from typing import Any

from identity.canonical import jcs
from identity.keys import Ed25519PrivateKey
from identity.log.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from identity.log.tree import MerkleTree
from tests.web.conftest import Browser, Live

IMPORT = "const c = await import('/web-assets/js/crypto.js');"


def run(browser: Browser, live: Live, body: str, arg: Any) -> Any:
    page = browser.page
    if not page.url.startswith(live.url):
        page.goto(live.url + "/log")  # a secure context of this origin (WebCrypto)
    return page.evaluate(f"async (arg) => {{ {IMPORT} {body} }}", arg)


TRICKY = [
    {"b": 1, "a": [True, False, None], "\u20ac": "euro", "\U0001f600": "emoji", "\ufb33": 0},
    {"numbers": [0, -0.0, 1e21, 1e-7, 0.1, 123456789012345, -1.5, 2**53 - 1]},
    {"escapes": '\u0000\u001f"\\/\b\f\n\r\t\u007f\u2028 é 中文'},
    [[], {}, "", [{}]],
]


def test_jcs_in_the_browser_is_rfc_8785(browser: Browser, live: Live) -> None:
    out = run(browser, live, "return arg.map((v) => c.jcs(v));", TRICKY)
    assert out == [jcs(v).decode() for v in TRICKY]


def proofs(limit: int) -> dict[str, Any]:
    tree = MerkleTree()
    inclusion, consistency = [], []
    for n in range(1, limit + 1):
        tree.append(f"entry {n - 1}".encode())
        root = tree.root(n).hex()
        for i in range(n):
            path = [h.hex() for h in tree.inclusion_proof(i, n)]
            inclusion.append([i, n, path, root])
    for n in range(1, limit + 1):
        for m in range(1, n + 1):
            path = [h.hex() for h in tree.consistency_proof(m, n)]
            consistency.append([m, n, tree.root(m).hex(), tree.root(n).hex(), path])
    return {"inclusion": inclusion, "consistency": consistency}


CHECK_ALL = """
  const u = c.unhex, ok = async (f) => { try { await f(); return true; } catch { return false; } };
  const enc = new TextEncoder();
  const out = { inclusion: [], tampered: [], consistency: [], badConsistency: [] };
  for (const [i, n, path, root] of arg.inclusion) {
    const leaf = await c.leafHash(enc.encode(`entry ${i}`));
    out.inclusion.push(await ok(() => c.verifyInclusion(i, n, leaf, path.map(u), u(root))));
    const wrong = path.length ? [...path.slice(1)] : ["00".repeat(32)];
    out.tampered.push(await ok(() => c.verifyInclusion(i, n, leaf, wrong.map(u), u(root))));
  }
  for (const [m, n, r1, r2, path] of arg.consistency) {
    out.consistency.push(await ok(() => c.verifyConsistency(m, n, u(r1), u(r2), path.map(u))));
    const other = m === n ? [r1] : path.slice(0, -1);
    out.badConsistency.push(await ok(() => c.verifyConsistency(m, n, u(r1), u(r2), other.map(u))));
  }
  return out;
"""


def test_every_proof_shape_up_to_20_leaves_verifies_and_no_tampered_one_does(
    browser: Browser, live: Live
) -> None:
    cases = proofs(20)
    out = run(browser, live, CHECK_ALL, cases)
    assert len(out["inclusion"]) == 210 and all(out["inclusion"])
    assert not any(out["tampered"])
    assert len(out["consistency"]) == 210 and all(out["consistency"])
    assert not any(out["badConsistency"])


def test_a_checkpoint_signed_by_the_core_opens_in_the_browser(browser: Browser, live: Live) -> None:
    signer = NoteSigner("example.org/log", Ed25519PrivateKey(bytes([5]) * 32))
    other = NoteSigner("example.org/log", Ed25519PrivateKey(bytes([6]) * 32))
    note = sign_checkpoint(Checkpoint("example.org/log", 42, bytes(range(32))), signer).note
    text = note.decode()
    body = """
      const res = [];
      for (const [note, vkey] of arg) {
        try { const cp = await c.openCheckpoint(note, vkey); res.push([cp.size, c.hex(cp.root)]); }
        catch (e) { res.push(e.step); }
      }
      return res;
    """
    tampered = text.replace("\n42\n", "\n43\n")
    cases = [
        [text, signer.verifier.vkey],
        [tampered, signer.verifier.vkey],
        [text, other.verifier.vkey],
        [text, signer.verifier.vkey[:-4] + "AAA="],
    ]
    out = run(browser, live, body, cases)
    assert out[0] == [42, bytes(range(32)).hex()]
    assert out[1] == "signature"  # the signature no longer covers the text
    assert out[2] == "signature"  # another key: no signature by it
    assert out[3] == "logKey"  # a vkey whose key ID does not match
    assert base64.b64decode(text.split("\n")[2]) == bytes(range(32))
