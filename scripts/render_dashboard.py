"""Render deploy/grafana/identity-dashboard.json from a real run, as a PNG for the README.

    .venv/bin/pip install matplotlib    # or: pip install -e '.[bench]'
    .venv/bin/python scripts/render_dashboard.py [--seconds 150] [--out docs/images/dashboard.png]

Grafana is not installed here, so this is not a Grafana screenshot. What it does:

1. starts a private ``redis-server`` and ``identity serve --workers 2`` on it (JSON logs,
   multiprocess metrics), and drives the scripted workload of the metrics tests
   (``tests/service/observability_workload.py``) plus directory-chain sharing acts and
   anonymous verifications that hit the rate limit, from two threads;
2. a third of the way in, kills Redis for 15 s and starts it again (AOF kept): the
   outage the store panels show;
3. scrapes ``/metrics`` every 2 s, like Prometheus would;
4. evaluates each panel's PromQL expressions, read from the dashboard JSON, over the
   scraped samples with the small evaluator below (``rate``, ``increase``, ``sum``/``max``/
   ``min`` ``by``, ``histogram_quantile``, ``/``: the subset the dashboard uses), and
   draws each panel where its ``gridPos`` puts it, in Grafana's dark colours.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import ADMIN, server  # noqa: E402
from tests.service.observability_workload import Workload, samples  # noqa: E402

Labels = tuple[tuple[str, str], ...]
Vector = dict[Labels, float]

# -- a tiny PromQL evaluator for the dashboard's expressions ----------------------------

TOKEN = re.compile(r"\s*(\d+\.\d+|\d+|[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+[smh]\]|[(),/])")


@dataclass
class Scrapes:
    times: list[float]
    values: list[dict[str, Vector]]  # per scrape: metric name -> labels -> value

    def instant(self, name: str, i: int) -> Vector:
        return dict(self.values[i].get(name, {}))

    def window(self, name: str, i: int, seconds: float) -> dict[Labels, list[tuple[float, float]]]:
        out: dict[Labels, list[tuple[float, float]]] = defaultdict(list)
        t = self.times[i]
        for j in range(i + 1):
            if self.times[j] > t - seconds:
                for labels, value in self.values[j].get(name, {}).items():
                    out[labels].append((self.times[j], value))
        return out


def tokens(expr: str) -> list[str]:
    out, pos = [], 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if m is None:
            raise ValueError(f"cannot read {expr[pos:]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class Evaluator:
    """Evaluate one expression at scrape ``i``."""

    def __init__(self, scrapes: Scrapes, i: int) -> None:
        self.s, self.i = scrapes, i

    def run(self, expr: str) -> Vector:
        self.toks, self.pos = tokens(expr), 0
        value = self.expr()
        assert self.pos == len(self.toks), expr
        return value

    def peek(self) -> str | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.toks[self.pos]
        if expected is not None and tok != expected:
            raise ValueError(f"expected {expected}, got {tok}")
        self.pos += 1
        return tok

    def expr(self) -> Vector:
        left = self.term()
        while self.peek() == "/":
            self.take("/")
            right = self.term()
            left = {k: v / right[k] for k, v in left.items() if right.get(k)}
        return left

    def term(self) -> Vector:
        name = self.take()
        if name in ("sum", "max", "min"):
            by: list[str] = []
            if self.peek() == "by":
                self.take("by")
                self.take("(")
                while self.peek() != ")":
                    tok = self.take()
                    if tok != ",":
                        by.append(tok)
                self.take(")")
            self.take("(")
            inner = self.expr()
            self.take(")")
            return aggregate(name, by, inner)
        if name in ("rate", "increase"):
            self.take("(")
            metric = self.take()
            seconds = duration(self.take())
            self.take(")")
            return rate(self.s.window(metric, self.i, seconds), seconds, name == "increase")
        if name == "histogram_quantile":
            self.take("(")
            q = float(self.take())
            self.take(",")
            inner = self.expr()
            self.take(")")
            return quantile(q, inner)
        return self.s.instant(name, self.i)


def duration(tok: str) -> float:
    number, unit = int(tok[1:-2]), tok[-2]
    return number * {"s": 1, "m": 60, "h": 3600}[unit]


def rate(windows: dict[Labels, list[tuple[float, float]]], seconds: float, total: bool) -> Vector:
    out: Vector = {}
    for labels, points in windows.items():
        if len(points) < 2:
            continue
        moved = 0.0
        for (_, a), (_, b) in itertools.pairwise(points):
            moved += b - a if b >= a else b  # a counter reset starts again from zero
        span = points[-1][0] - points[0][0]
        per_second = moved / span if span > 0 else 0.0
        out[labels] = per_second * seconds if total else per_second
    return out


def aggregate(op: str, by: list[str], vector: Vector) -> Vector:
    groups: dict[Labels, list[float]] = defaultdict(list)
    for labels, value in vector.items():
        kept = tuple((k, v) for k, v in labels if k in by)
        groups[kept].append(value)
    fn = {"sum": sum, "max": max, "min": min}[op]
    return {k: float(fn(v)) for k, v in groups.items()}


def quantile(q: float, vector: Vector) -> Vector:
    """Prometheus's histogram_quantile: linear interpolation inside the bucket."""
    groups: dict[Labels, list[tuple[float, float]]] = defaultdict(list)
    for labels, value in vector.items():
        le = dict(labels).get("le")
        if le is None:
            continue
        rest = tuple((k, v) for k, v in labels if k != "le")
        groups[rest].append((float(le), value))
    out: Vector = {}
    for labels, buckets in groups.items():
        buckets.sort()
        total = buckets[-1][1]
        if total <= 0:
            continue
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if math.isinf(bound):
                    out[labels] = lower_bound
                else:
                    width = count - lower_count
                    fraction = (rank - lower_count) / width if width else 0
                    out[labels] = lower_bound + (bound - lower_bound) * fraction
                break
            lower_bound, lower_count = bound, count
    return out


def legend(template: str, labels: Labels) -> str:
    values = dict(labels)
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values.get(m.group(1), ""), template).strip() or "-"


# -- the run ----------------------------------------------------------------------------


def drive(url: str, stop: threading.Event, n: int) -> None:
    """The tests' workload in a loop; failures during the outage are expected."""
    with httpx.Client(base_url=url, timeout=10) as client:
        work = Workload(client, ADMIN, prefix=f"dash{n}")
        sharing: Sharing | None = None
        while not stop.is_set():
            try:
                if not work.agency:
                    work.setup()
                if sharing is None:
                    sharing = Sharing(work, seed=40 + n)
                work.round(anonymous=3 if n == 1 else 0)
                sharing.act()
            except (AssertionError, httpx.HTTPError, KeyError, ValueError):
                time.sleep(0.5)


class Sharing:
    """A holder publishes a catalog entry; each call, a request and the citizen's consent."""

    def __init__(self, work: Workload, seed: int) -> None:
        from tests.service.directory_helpers import Citizen, catalog_entry

        self.work, self.client = work, work.client
        self.requester = self._agency("Education Bureau")
        self.holder = work.agency
        self.citizen = Citizen(seed=seed)
        self.citizen.register(self.client)  # type: ignore[arg-type]
        entry = catalog_entry(f"psb.register-{id(self)}")
        self.resource = entry["id"]
        published = self.client.post(
            "/catalog", json=entry, headers={"Authorization": f"Bearer {self.holder['apiKey']}"}
        )
        assert published.status_code == 201, published.text

    def _agency(self, name: str) -> dict[str, Any]:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        agency: dict[str, Any] = self.client.post(
            "/issuers", json={"name": name}, headers=admin
        ).json()
        self.client.post("/accreditations", headers=admin, json={
            "issuer": agency["id"], "types": ["ResidencePermitCredential"],
            "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2099-01-01T00:00:00Z",
        }).raise_for_status()  # fmt: skip
        return agency

    def act(self) -> None:
        asked = self.client.post(
            "/sharing/requests",
            json={"resource": self.resource, "subject": self.citizen.did,
                  "purpose": "School enrolment"},
            headers={"Authorization": f"Bearer {self.requester['apiKey']}"},
        )  # fmt: skip
        assert asked.status_code == 201, asked.text
        now = datetime.now(UTC).replace(microsecond=0)
        consent = self.citizen.consent(self.client, asked.json()["id"], now)  # type: ignore[arg-type]
        assert consent.status_code == 200, consent.text


def record(seconds: float, interval: float) -> Scrapes:
    from tests.scale.test_replicas import Redis

    folder = Path(tempfile.mkdtemp(prefix="identity-dashboard-"))
    redis = Redis(folder)
    redis.start()
    scrapes = Scrapes([], [])
    env = {"IDENTITY_STORAGE_URL": redis.url, "IDENTITY_LOG_FORMAT": "json",
           "IDENTITY_PUBLIC_VERIFY_PER_MINUTE": "30", "IDENTITY_REDIS_TIMEOUT_S": "1",
           "IDENTITY_MASTER_SECRET": "cd" * 32}  # fmt: skip
    try:
        with server(workers=2, env=env) as url:
            stop = threading.Event()
            threads = [threading.Thread(target=drive, args=(url, stop, i), daemon=True)
                       for i in range(2)]  # fmt: skip
            for t in threads:
                t.start()
            start = time.monotonic()
            outage = (seconds / 3, seconds / 3 + 15)
            down = False
            while (now := time.monotonic() - start) < seconds:
                if not down and outage[0] <= now < outage[1]:
                    redis.kill()
                    down = True
                elif down and now >= outage[1]:
                    redis.start()
                    down = False
                try:
                    text = httpx.get(url + "/metrics", timeout=5,
                                     headers={"Authorization": f"Bearer {ADMIN}"}).text  # fmt: skip
                except httpx.HTTPError:
                    text = None
                if text is not None:
                    by_name: dict[str, Vector] = defaultdict(dict)
                    for (name, labels), value in samples(text).items():
                        by_name[name][labels] = value
                    scrapes.times.append(now)
                    scrapes.values.append(by_name)
                time.sleep(max(0.0, interval - (time.monotonic() - start - now)))
            stop.set()
            for t in threads:
                t.join(timeout=15)
    finally:
        if redis.proc is not None and redis.proc.poll() is None:
            redis.kill()
    return scrapes


# -- drawing ----------------------------------------------------------------------------

BACKGROUND, PANEL, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
PALETTE = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9",
           "#705da0", "#37872d", "#fade2a", "#c4162a", "#1f60c4", "#8f3bb8", "#ff9830"]  # fmt: skip


def draw(dashboard: dict[str, Any], scrapes: Scrapes, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    unit_w, unit_h = 0.78, 0.36
    fig = plt.figure(figsize=(24 * unit_w, rows * unit_h), facecolor=BACKGROUND)
    minutes = [t / 60 for t in scrapes.times]
    for panel in panels:
        g = panel["gridPos"]
        left, width = g["x"] / 24, g["w"] / 24
        bottom, height = 1 - (g["y"] + g["h"]) / rows, g["h"] / rows
        if panel["type"] == "row":
            fig.text(left + 0.004, bottom + height / 2, panel["title"], color=TEXT,
                     fontsize=13, fontweight="bold", va="center")  # fmt: skip
            continue
        ax = fig.add_axes((left + 0.03, bottom + 0.1 * height, width - 0.038, height * 0.66))
        ax.set_facecolor(PANEL)
        fig.patches.append(plt.Rectangle((left + 0.002, bottom + 0.004), width - 0.004,
                                         height - 0.008, transform=fig.transFigure,
                                         color=PANEL, zorder=-1))  # fmt: skip
        fig.text(left + 0.008, bottom + height * 0.9, panel["title"], color=TEXT, fontsize=10)
        series: dict[str, list[float]] = {}
        for target in panel["targets"]:
            for i in range(len(scrapes.times)):
                vector = Evaluator(scrapes, i).run(target["expr"])
                for labels, value in vector.items():
                    name = legend(target["legendFormat"], labels)
                    series.setdefault(name, [math.nan] * len(scrapes.times))[i] = value
        unit = panel["fieldConfig"]["defaults"]["unit"]
        if panel["type"] == "stat":
            ax.axis("off")
            last = next((v for s in series.values() for v in reversed(s) if not math.isnan(v)), 0)
            for values in series.values():
                ax.fill_between(minutes, [0 if math.isnan(v) else v for v in values],
                                color=PALETTE[0], alpha=0.15)  # fmt: skip
            ax.text(0.5, 0.5, f"{last:,.0f}", color=PALETTE[0], fontsize=34, ha="center",
                    va="center", fontweight="bold", transform=ax.transAxes)  # fmt: skip
            continue
        for n, (name, values) in enumerate(sorted(series.items())):
            ax.plot(minutes, values, color=PALETTE[n % len(PALETTE)], linewidth=1.3, label=name)
        ax.tick_params(colors=TEXT, labelsize=7)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.grid(color=GRID, linewidth=0.6)
        ax.set_xlabel("minutes", color=TEXT, fontsize=7, labelpad=1)
        ax.yaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda v, _, unit=unit: fmt(v, unit))
        )
        if series:
            ax.legend(loc="upper left", fontsize=6, ncol=1 + (len(series) > 4) + (len(series) > 10),
                      facecolor=PANEL, edgecolor=PANEL, labelcolor=TEXT,
                      framealpha=0.8)  # fmt: skip
    fig.text(0.995, 0.003, "rendered by scripts/render_dashboard.py from a real run's scrapes "
             "(not a Grafana screenshot)", color="#6e7180", fontsize=7, ha="right")  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80, facecolor=BACKGROUND)


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if 0 < value < 1 else f"{value:.0f} s"
    if unit in ("reqps", "ops"):
        return f"{value:.1f}/s" if value < 10 else f"{value:.0f}/s"
    return f"{value:,.0f}" if abs(value) >= 10 or value == 0 else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--dashboard", default=str(REPO / "deploy/grafana/identity-dashboard.json"))
    parser.add_argument("--out", default=str(REPO / "docs/images/dashboard.png"))
    args = parser.parse_args()
    dashboard = json.loads(Path(args.dashboard).read_text())
    scrapes = record(args.seconds, args.interval)
    print(f"{len(scrapes.times)} scrapes over {args.seconds:.0f} s")
    draw(dashboard, scrapes, Path(args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
