"""What the pages check in the browser, timed beside the core doing the same work.

    .venv/bin/python benchmarks/bench_browser.py [--quick]

The citizen portal and the log explorer verify RFC 9162 inclusion proofs in JavaScript
(``service/web/static/js/crypto.js``, WebCrypto SHA-256). This verifies every leaf's proof
of a 1,024-leaf tree in headless Debian Chromium and in ``identity.log.proofs``,
interleaved round by round; medians, and the browser's cost as a multiple of the core's.
Needs ``/usr/bin/chromium`` (``scripts/ensure-chromium``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from identity.log.hashing import leaf_hash
from identity.log.proofs import verify_inclusion
from identity.log.tree import MerkleTree
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, serve

ROUND = """async ([cases, root, n]) => {
  const c = await import('/web-assets/js/crypto.js');
  const enc = new TextEncoder(), top = c.unhex(root), t = performance.now();
  for (const [i, path] of cases) {
    const leaf = await c.leafHash(enc.encode(`entry ${i}`));
    await c.verifyInclusion(i, n, leaf, path.map(c.unhex), top);
  }
  return performance.now() - t;
}"""


def main() -> None:
    size, rounds = (256, 3) if "--quick" in sys.argv else (1024, 7)
    tree = MerkleTree()
    for i in range(size):
        tree.append(f"entry {i}".encode())
    root = tree.root(size)
    cases = [[i, [h.hex() for h in tree.inclusion_proof(i, size)]] for i in range(size)]
    core, browser = [], []
    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as live, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = chromium.new_page()
        page.goto(live.url + "/log")
        page.evaluate(ROUND, [cases[:8], root.hex(), size])  # warm up
        for _ in range(rounds):
            start = time.perf_counter()
            for i, path in cases:
                leaf = leaf_hash(f"entry {i}".encode())
                verify_inclusion(i, size, leaf, [bytes.fromhex(h) for h in path], root)
            core.append((time.perf_counter() - start) * 1000)
            browser.append(page.evaluate(ROUND, [cases, root.hex(), size]))
        chromium.close()
    c, b = statistics.median(core), statistics.median(browser)
    print(f"{size} inclusion proofs, median of {rounds} interleaved rounds:")
    print(f"  identity.log.proofs (core)   {c:8.1f} ms  {c * 1000 / size:7.1f} µs/proof  1.0x")
    print(
        f"  crypto.js in Chromium        {b:8.1f} ms  {b * 1000 / size:7.1f} µs/proof  {b / c:.1f}x"
    )


if __name__ == "__main__":
    main()
