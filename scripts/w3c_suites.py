# ruff: noqa: S603, S607 -- a developer tool that runs git, tar, npm, openssl and mocha
"""Run the W3C conformance suites against a locally started service (docs/conformance.md).

Usage (from the repository root, with the project's venv):

    .venv/bin/python scripts/w3c_suites.py SCRATCH [--snapshots DIR] [--only RUN ...]

SCRATCH is a folder OUTSIDE the repository. The suites and their GitHub-only dependencies
are not in this repository and never will be: this script takes them from git snapshots
(``DIR/<owner>+<name>/repo``, one bare git directory per repository, as the search tool's
``fetch`` leaves them), unpacks each suite with ``git archive`` into SCRATCH/suites, packs the
GitHub dependencies as tarballs in SCRATCH/tarballs, points the suites' package.json at those
tarballs and installs the rest from the npm registry. It then starts the service over TLS on
127.0.0.1 (a fresh data directory per run, a self-signed certificate: the suites send the
issuer's API key only over https), creates an agency, writes each suite's localConfig.cjs and
runs mocha with its JSON reporter. Figures and every failure go to SCRATCH/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]

SUITES = {
    "vc-di-eddsa-test-suite": "w3c/vc-di-eddsa-test-suite",
    "vc-data-model-2.0-test-suite": "w3c/vc-data-model-2.0-test-suite",
    "vc-api-issuer-test-suite": "w3c-ccg/vc-api-issuer-test-suite",
    "vc-api-verifier-test-suite": "w3c-ccg/vc-api-verifier-test-suite",
    "vc-bitstring-status-list-test-suite": "w3c/vc-bitstring-status-list-test-suite",
}
# package.json "github:" dependencies -> the snapshot that provides them.
GITHUB_DEPS = {
    "github:w3c/vc-test-suite-implementations": "w3c/vc-test-suite-implementations",
    "github:w3c-ccg/vc-test-suite-implementations": "w3c-ccg/vc-test-suite-implementations",
    "github:w3c-ccg/data-integrity-test-suite-assertion": (
        "w3c-ccg/data-integrity-test-suite-assertion"
    ),
}
ADMIN_TOKEN = "w3c-suites-admin-" + "t" * 32  # a throwaway loopback service's token
# Named states (statusSize 2) for the suites' unregistered credentials, so they also carry
# a Bitstring Status List message entry (§2.1 statusSize/statusMessage/statusReference).
# One deployment's settings for every run.
STATUS_MESSAGES = {
    "IDENTITY_GENERIC_STATUS_MESSAGES": json.dumps(
        ["valid", "pending_review", "on_hold", "withdrawn"]
    )
}


@dataclass(frozen=True)
class Run:
    """One suite run: the suite, the issuer's default cryptosuite, and the endpoint tags."""

    name: str
    suite: str
    cryptosuite: str
    tags: tuple[str, ...]
    per_cryptosuite_issuers: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    envelope: str | None = None
    """The issuer's ``options.envelope`` (VC-JOSE-COSE media type), for EnvelopingProof."""


RUNS = [
    Run(
        "vc-di-eddsa",
        "vc-di-eddsa-test-suite",
        "eddsa-jcs-2022",
        ("eddsa-rdfc-2022", "eddsa-jcs-2022"),
        per_cryptosuite_issuers=True,
    ),
    Run("vc2.0-rdfc", "vc-data-model-2.0-test-suite", "eddsa-rdfc-2022", ("vc2.0",)),
    Run("vc2.0-jcs", "vc-data-model-2.0-test-suite", "eddsa-jcs-2022", ("vc2.0",)),
    Run("vc-api-issuer-jcs", "vc-api-issuer-test-suite", "eddsa-jcs-2022", ("vc-api",)),
    Run("vc-api-issuer-rdfc", "vc-api-issuer-test-suite", "eddsa-rdfc-2022", ("vc-api",)),
    Run("vc-api-verifier-jcs", "vc-api-verifier-test-suite", "eddsa-jcs-2022", ("vc-api",)),
    Run("vc-api-verifier-rdfc", "vc-api-verifier-test-suite", "eddsa-rdfc-2022", ("vc-api",)),
    Run(
        "bitstring-status-list-jcs",
        "vc-bitstring-status-list-test-suite",
        "eddsa-jcs-2022",
        ("BitstringStatusList", "Revocation", "Suspension"),
    ),
    Run(
        "bitstring-status-list-rdfc",
        "vc-bitstring-status-list-test-suite",
        "eddsa-rdfc-2022",
        ("BitstringStatusList", "Revocation", "Suspension"),
    ),
    # VC DM 2.0 §4.13 enveloped credentials and presentations (docs/jose-cose.md): the
    # issuer answers EnvelopedVerifiableCredential (application/vc+jwt).
    Run(
        "vc2.0-enveloped",
        "vc-data-model-2.0-test-suite",
        "eddsa-jcs-2022",
        ("EnvelopingProof",),
        envelope="application/vc+jwt",
    ),
]


def sh(*cmd: str | Path, cwd: Path | None = None, **kw: object) -> None:
    """Run a command, echoing it; raise on failure."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=cwd, check=True, **kw)  # type: ignore[call-overload]


def snapshot(snapshots: Path, repo: str) -> Path:
    path = snapshots / repo.replace("/", "+") / "repo"
    if not path.is_dir():
        sys.exit(f"no snapshot of {repo} at {path}: fetch it first (docs/conformance.md)")
    return path


def prepare(scratch: Path, snapshots: Path, suites: set[str] | None = None) -> None:
    """Unpack the suites (``suites``: those names only), pack their GitHub deps as
    tarballs, npm install."""
    tarballs = scratch / "tarballs"
    tarballs.mkdir(parents=True, exist_ok=True)
    local: dict[str, str] = {}
    for spec, repo in GITHUB_DEPS.items():
        if not (snapshots / repo.replace("/", "+") / "repo").is_dir() and suites is not None:
            continue  # not needed by the suites asked for (a KeyError below if it is)
        tgz = tarballs / (repo.replace("/", "-") + ".tgz")
        sh(
            "git",
            "-C",
            snapshot(snapshots, repo),
            "archive",
            "--prefix=package/",
            "-o",
            tgz,
            "HEAD",
        )
        local[spec] = f"file:{tgz}"
    for name, repo in SUITES.items():
        if suites is not None and name not in suites:
            continue
        target = scratch / "suites" / name
        if (target / "node_modules").is_dir():
            continue
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(snapshot(snapshots, repo)), "archive", "HEAD"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        manifest = json.loads((target / "package.json").read_text())
        for section in ("dependencies", "devDependencies"):
            deps = manifest.get(section, {})
            for dep, spec in list(deps.items()):
                if spec.startswith("github:"):
                    deps[dep] = local[spec]  # KeyError: a new GitHub dep to add above
                elif section == "devDependencies" and ("eslint" in dep or "allure" in dep):
                    del deps[dep]  # linters and report viewers: not needed to run
        (target / "package.json").write_text(json.dumps(manifest, indent=2))
        (target / "package-lock.json").unlink(missing_ok=True)
        sh("npm", "install", "--no-audit", "--no-fund", cwd=target)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def service(scratch: Path, run: Run) -> Iterator[tuple[str, dict[str, str]]]:
    """The service over TLS on loopback with a fresh data dir; yields (base URL, agency)."""
    work = Path(tempfile.mkdtemp(prefix=f"{run.name}-", dir=scratch / "runs"))
    cert, key = work / "cert.pem", work / "key.pem"
    sh(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ed25519",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    env = {
        **os.environ,
        "IDENTITY_DATA_DIR": str(work / "data"),
        "IDENTITY_ADMIN_TOKEN": ADMIN_TOKEN,
        "IDENTITY_MASTER_SECRET": "ab" * 32,
        "IDENTITY_PUBLIC_URL": base,
        "IDENTITY_DEFAULT_CRYPTOSUITE": run.cryptosuite,
        "IDENTITY_ALLOW_UNREGISTERED_TYPES": "true",
        "IDENTITY_ACCEPT_CALLER_CHALLENGES": "true",
        "IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "1000000",
        **STATUS_MESSAGES,
        **run.extra,
    }
    log = (work / "service.log").open("w")
    # `identity serve` is uvicorn on service.main:app; uvicorn is called directly only to
    # pass the TLS certificate, which `identity serve` has no option for.
    proc = subprocess.Popen(
        [
            str(REPO / ".venv/bin/python"),
            "-m",
            "uvicorn",
            "service.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--ssl-keyfile",
            str(key),
            "--ssl-certfile",
            str(cert),
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=base, verify=False, timeout=10) as http:  # noqa: S501
            for _ in range(100):
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/health/live").status_code == 200:
                        break
                if proc.poll() is not None:
                    sys.exit(f"service exited; see {work / 'service.log'}")
                time.sleep(0.2)
            made = http.post(
                "/issuers",
                json={"name": "W3C suites issuer"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            made.raise_for_status()
        yield base, made.json()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def local_config(run: Run, base: str, agency: dict[str, str]) -> str:
    """The suite's localConfig.cjs: only this service, every endpoint tagged for the run."""
    auth = {"Authorization": f"Bearer {agency['apiKey']}"}
    supports = {"vc": ["1.1", "2.0"]}
    if run.per_cryptosuite_issuers:
        issuers = [
            {
                "id": agency["did"],
                "endpoint": f"{base}/credentials/issue",
                "headers": auth,
                "options": {"type": "DataIntegrityProof", "cryptosuite": tag},
                "tags": [tag],
                "supports": supports,
            }
            for tag in run.tags
        ]
    else:
        issuers = [
            {
                "id": agency["did"],
                "endpoint": f"{base}/credentials/issue",
                "headers": auth,
                "tags": list(run.tags),
                "supports": supports,
                **({"options": {"envelope": run.envelope}} if run.envelope else {}),
            }
        ]
    endpoint = {"tags": list(run.tags), "supports": supports}
    implementation = {
        "name": "identity-service",
        "implementation": "identity-service",
        "issuers": issuers,
        "verifiers": [{"id": agency["did"], "endpoint": f"{base}/credentials/verify", **endpoint}],
        "vpVerifiers": [
            {"id": agency["did"], "endpoint": f"{base}/presentations/verify", **endpoint}
        ],
    }
    config = {
        "settings": {"enableInteropTests": False, "testAllImplementations": False},
        "implementations": [implementation],
    }
    return "module.exports = " + json.dumps(config, indent=2) + ";\n"


def run_suite(scratch: Path, run: Run) -> dict[str, object]:
    """One run: service up, localConfig written, mocha with the JSON reporter."""
    suite = scratch / "suites" / run.suite
    results = scratch / "results"
    results.mkdir(exist_ok=True)
    out = results / f"{run.name}.mocha.json"
    out.unlink(missing_ok=True)
    with service(scratch, run) as (base, agency):
        (suite / "localConfig.cjs").write_text(local_config(run, base, agency))
        subprocess.run(
            [
                str(suite / "node_modules/.bin/mocha"),
                "tests/",
                "--reporter",
                "json",
                "--reporter-option",
                f"output={out}",
                "--timeout",
                "15000",
                "--preserve-symlinks",
            ],
            cwd=suite,
            env={**os.environ, "NODE_TLS_REJECT_UNAUTHORIZED": "0"},
            stdout=subprocess.DEVNULL,
            check=False,
        )
    report = json.loads(out.read_text())
    stats = report["stats"]
    summary = {
        "run": run.name,
        "suite": run.suite,
        "issuer cryptosuite": run.cryptosuite,
        "passed": stats["passes"],
        "failed": stats["failures"],
        "pending": stats["pending"],
        "failures": [
            {
                "test": t["fullTitle"],
                "file": t.get("file", ""),
                "error": (t.get("err") or {}).get("message", "")[:500],
            }
            for t in report["failures"]
        ],
        "pendingTests": [t["fullTitle"] for t in report["pending"]],
    }
    if run.per_cryptosuite_issuers:
        # Every test sits under a describe() named for its cryptosuite: the first tag named.
        def suite_of(title: str) -> str:
            named = [(title.find(tag), tag) for tag in run.tags if tag in title]
            return min(named)[1] if named else "other"

        summary["byCryptosuite"] = {
            tag: {
                kind: sum(suite_of(t["fullTitle"]) == tag for t in report[kind])
                for kind in ("passes", "failures", "pending")
            }
            for tag in run.tags
        }
    (results / f"{run.name}.summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scratch", type=Path, help="a folder outside the repository")
    parser.add_argument(
        "--snapshots",
        type=Path,
        default=Path("/work/.mirror"),
        help="where the fetched git snapshots are (<owner>+<name>/repo)",
    )
    parser.add_argument("--only", nargs="*", default=None, help="run names (default: all)")
    args = parser.parse_args()
    scratch = args.scratch.resolve()
    if scratch.is_relative_to(REPO):
        sys.exit("the scratch folder must be outside the repository")
    (scratch / "runs").mkdir(parents=True, exist_ok=True)
    wanted = {r.suite for r in RUNS if not args.only or r.name in args.only}
    prepare(scratch, args.snapshots, wanted)
    table = []
    for run in RUNS:
        if args.only and run.name not in args.only:
            continue
        summary = run_suite(scratch, run)
        table.append(summary)
        print(
            f"{run.name}: {summary['passed']} passed, {summary['failed']} failed, "
            f"{summary['pending']} pending",
            flush=True,
        )
        for tag, counts in summary.get("byCryptosuite", {}).items():  # type: ignore[attr-defined]
            print(f"  {tag}: {counts}")
        for failure in summary["failures"]:  # type: ignore[attr-defined]
            print(f"  FAIL {failure['test']}\n       {failure['error'][:200]}")
    print("\n| run | issuer cryptosuite | passed | failed | pending |\n|---|---|---|---|---|")
    for s in table:
        print(
            f"| {s['run']} | {s['issuer cryptosuite']} | {s['passed']} | {s['failed']} "
            f"| {s['pending']} |"
        )


if __name__ == "__main__":
    main()
