"""Prometheus metrics: the families, built per app, correct with several workers.

Each app builds its own :class:`Metrics` at creation (nothing at import). Two modes:

* **single process** (tests, ``uvicorn`` with one worker and no multiprocess directory):
  the families live in the app's own ``CollectorRegistry``;
* **multiprocess** (``PROMETHEUS_MULTIPROC_DIR`` set; ``identity serve`` sets it for its
  workers, see :mod:`service.observability.multiprocess`): every worker writes its values
  to files in that directory and a scrape, answered by any worker, sums them all with
  ``MultiProcessCollector``.

Labels are bounded by construction: route *templates* (never the raw path), a fixed set of
methods, status codes, cryptosuite names from an allow-list (and, for credentials that
carry no Data Integrity proof, the format: ``vc+jwt``, ``vc+cose``, ``jwt``, ``dc+sd-jwt``),
check names and act kinds from the code. No label ever holds a DID, a credential id or
anything a client chose.

Gauges that describe shared state (the log's tree size and lag, the store's reachability)
are read at scrape time from the worker's :class:`~service.observability.watch.Watch`,
which samples the shared store, so any worker answering a scrape reports the same truth.
"""

from __future__ import annotations

import functools
import os
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from identity.errors import IdentityError, UnavailableError
from service.observability import mmap_values
from service.observability.context import PID
from service.observability.context import Pid as _Pid
from service.observability.watch import Watch

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "multiprocess_dir"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SUITES = frozenset({"eddsa-jcs-2022", "eddsa-rdfc-2022", "Ed25519Signature2020"})
SD_JWT = "dc+sd-jwt"
ENVELOPE_FORMATS = {
    "application/vc+jwt": "vc+jwt",
    "application/vc+cose": "vc+cose",
    "application/jwt": "jwt",  # VC DM 1.1 §6.3.1, verified (never issued)
}
"""Envelope media types (docs/jose-cose.md) -> their ``cryptosuite`` label."""
FORMATS = frozenset({*ENVELOPE_FORMATS.values(), SD_JWT})
"""The ``cryptosuite`` label of a credential secured without a Data Integrity proof."""
CHECKS = frozenset(
    {"wellFormed", "proof", "issuer", "validityPeriod", "status", "issuerTrust", "anchor"}
    | {"signature", "disclosures", "keyBinding", "validity"}  # SD-JWT VC (docs/sd-jwt.md)
)
STATUS_KINDS = {
    "credential.revoked": "revoked",
    "credential.suspended": "suspended",
    "credential.reinstated": "reinstated",
}
SHARING_KINDS = frozenset(
    {
        "sharing.requested",
        "sharing.approved",
        "sharing.exempted",
        "consent.granted",
        "consent.refused",
        "consent.withdrawn",
        "data.accessed",
    }
)
LOG_KIND = re.compile(r"[a-z]{1,32}\.[a-z_]{1,32}")
OTHER = "other"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)


def multiprocess_value_class(pid: _Pid = PID) -> Any:
    """``prometheus_client``'s multiprocess value class, with a :class:`_Pid` as its process
    identifier (the same files, names and values; no system call per update) and the fused
    update ``add`` (:mod:`service.observability.mmap_values`)."""
    return mmap_values.multiprocess_value_class(pid)


def multiprocess_dir() -> str | None:
    """The shared metrics directory of a multi-worker server, if one is set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def suite_label(name: object) -> str:
    """A cryptosuite name, a format (:data:`FORMATS`) or an envelope media type as a
    label: one of :data:`SUITES`, :data:`FORMATS`, ``none`` or ``other``."""
    if name is None:
        return "none"
    if not isinstance(name, str):
        return OTHER
    if name in SUITES or name in FORMATS:
        return name
    return ENVELOPE_FORMATS.get(name, OTHER)


def envelope_format(credential: dict[str, Any]) -> str | None:
    """The label of an enveloped credential (a ``data:`` URL ``id``, VC DM 2.0 §4.13):
    its media type through :data:`ENVELOPE_FORMATS`, ``other`` for an unknown one;
    ``None`` when ``credential`` is no envelope."""
    data = credential.get("id")
    if not isinstance(data, str) or not data.startswith("data:"):
        return None
    media_type = re.split(r"[;,]", data[5:], maxsplit=1)[0].strip().lower()
    return ENVELOPE_FORMATS.get(media_type, OTHER)


def proof_suite(credential: object) -> str:
    """The cryptosuite label of a submitted credential's first proof, or its envelope's
    format (input, so bounded)."""
    if isinstance(credential, dict) and "proof" not in credential:
        enveloped = envelope_format(credential)
        if enveloped is not None:
            return enveloped
    proof = credential.get("proof") if isinstance(credential, dict) else None
    if isinstance(proof, list):
        proof = proof[0] if proof else None
    if not isinstance(proof, dict):
        return "none"
    return suite_label(proof.get("cryptosuite") or proof.get("type"))


class Metrics:
    """Every family the service exports, and the small methods that move them."""

    def __init__(self, watch: Watch | None = None) -> None:
        self.multiprocess = multiprocess_dir() is not None
        if self.multiprocess and not getattr(values.ValueClass, "_identity_cached_pid", False):
            # prometheus_client picks its value class at import; the directory may have
            # been set after that (``identity serve`` with one worker runs in-process).
            # No value of the class it picked exists yet (this is the first Metrics).
            values.ValueClass = multiprocess_value_class()
        self.registry = CollectorRegistry()
        self.watch = watch
        reg = None if self.multiprocess else self.registry
        self.http_requests = Counter(
            "identity_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=reg,
        )
        self.http_duration = Histogram(
            "identity_http_request_duration_seconds",
            "Time from request to the end of the response, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.issued = Counter(
            "identity_credentials_issued",
            "Credential issuance attempts by cryptosuite and outcome (issued, refused, failed).",
            ["cryptosuite", "outcome"],
            registry=reg,
        )
        self.verified = Counter(
            "identity_credentials_verified",
            "Credential verifications by cryptosuite and outcome "
            "(verified, not_verified, malformed).",
            ["cryptosuite", "outcome"],
            registry=reg,
        )
        self.failed_checks = Counter(
            "identity_verification_failed_checks",
            "Failed verification checks, by check name.",
            ["check"],
            registry=reg,
        )
        self.status_changes = Counter(
            "identity_status_changes",
            "Credential status changes (revoked, suspended, reinstated).",
            ["change"],
            registry=reg,
        )
        self.sharing_acts = Counter(
            "identity_sharing_acts",
            "Directory-chain acts recorded, by kind (the log entry kind).",
            ["kind"],
            registry=reg,
        )
        self.log_entries = Counter(
            "identity_log_entries",
            "Acts anchored in the log (entries sequenced by this service), by entry kind.",
            ["kind"],
            registry=reg,
        )
        self.log_batches = Histogram(
            "identity_log_batch_size",
            "Entries per sequencer batch (one store transaction each).",
            buckets=BATCH_BUCKETS,
            registry=reg,
        )
        self.log_integration_errors = Counter(
            "identity_log_integration_errors",
            "Failed log integration attempts (the integrator retries while the store is down).",
            registry=reg,
        )
        self.store_errors = Counter(
            "identity_store_errors",
            "Store failures: requests answered 503 (source=request), failed probes (probe).",
            ["source"],
            registry=reg,
        )
        self.store_unavailable = Gauge(
            "identity_store_unavailable_seconds",
            "Seconds this replica has found its store unavailable since it started "
            "(monotonic; the largest over the replica's workers).",
            registry=reg,
            multiprocess_mode="max",
        )
        self.rate_limited = Counter(
            "identity_rate_limit_refusals",
            "Requests refused by the anonymous rate limit (429), by route template.",
            ["route"],
            registry=reg,
        )
        self._http: dict[tuple[str, str, int], Callable[[float], None]] = {}
        self._children: dict[tuple[Any, ...], Any] = {}
        self._verified_children: dict[str, Any] = {}  # suite -> (suite, "verified") child
        if not self.multiprocess:
            self.registry.register(_ScrapeTime(self))

    # -- HTTP (called by the request middleware for every request) ----------------------

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and observe its latency."""
        key = (route, method, status)
        record = self._http.get(key)
        if record is None:  # once per (route, method, status): the label children, bound
            method_label = method if method in METHODS else OTHER
            record = self._http[key] = _http_recorder(
                self.http_requests.labels(route, method_label, str(status)),
                self.http_duration.labels(route, method_label),
            )
        record(seconds)
        if status == 429:
            self.rate_limited.labels(route).inc()

    def _child(self, family: Any, *labels: str) -> Any:
        """``family.labels(*labels)``, remembered (labels() takes a lock each call)."""
        cache_key = (id(family), *labels)
        child = self._children.get(cache_key)
        if child is None:
            child = self._children[cache_key] = family.labels(*labels)
        return child

    # -- acts -------------------------------------------------------------------------

    @contextmanager
    def issuing(self, cryptosuite: str | None) -> Iterator[None]:
        """Count the issuance in the block: issued, refused (a domain error) or failed."""
        suite = suite_label(cryptosuite)
        try:
            yield
        except UnavailableError:
            self._child(self.issued, suite, "failed").inc()
            raise
        except IdentityError:
            self._child(self.issued, suite, "refused").inc()
            raise
        except Exception:
            self._child(self.issued, suite, "failed").inc()
            raise
        self._child(self.issued, suite, "issued").inc()

    def verification(
        self, credential: object, failed: Iterable[str] = (), cryptosuite: str | None = None
    ) -> None:
        """Count one verification of ``credential``; ``failed`` names its failed checks.
        ``cryptosuite`` (a format such as ``dc+sd-jwt``) labels it instead of the
        credential's own proof or envelope."""
        suite = suite_label(cryptosuite) if cryptosuite is not None else proof_suite(credential)
        if not failed:  # the usual case: one counter, its child bound once per suite
            count = self._verified_children.get(suite)
            if count is None:
                count = self._verified_children[suite] = _counter_increment(
                    self.verified.labels(suite, "verified")
                )
            count()
            return
        names = list(failed)
        outcome = (
            "verified" if not names else "malformed" if "wellFormed" in names else "not_verified"
        )
        self._child(self.verified, suite, outcome).inc()
        for name in names:
            self._child(self.failed_checks, name if name in CHECKS else OTHER).inc()

    def act_anchored(self, kind: str) -> None:
        """An act took effect (its log entry is sequenced): count it by kind, and as a
        status change or a directory-chain (sharing) act where it is one."""
        self.log_entries.labels(kind if LOG_KIND.fullmatch(kind) else OTHER).inc()
        change = STATUS_KINDS.get(kind)
        if change is not None:
            self.status_changes.labels(change).inc()
        elif kind in SHARING_KINDS:
            self.sharing_acts.labels(kind).inc()

    # -- the log (a LogObserver of identity.log.sequencer) -----------------------------

    def batch_sequenced(self, size: int) -> None:
        """One sequencer batch committed."""
        self.log_batches.observe(size)

    def integration_failed(self, error: BaseException) -> None:
        """One failed integration attempt."""
        self.log_integration_errors.inc()

    # -- the store ----------------------------------------------------------------------

    def store_error(self, source: str) -> None:
        """A store failure seen by a request (``request``) or by the watch (``probe``)."""
        self.store_errors.labels(source).inc()

    def unavailable_for(self, seconds: float) -> None:
        """The replica's store has now been unavailable for ``seconds`` in all."""
        self.store_unavailable.set(seconds)

    # -- exposition -------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The text exposition of every family (all workers' values in multiprocess mode)."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(_ScrapeTime(self))
        return generate_latest(registry)

    def process_exited(self) -> None:
        """Forget this worker's live gauges (multiprocess bookkeeping at shutdown)."""
        path = multiprocess_dir()
        if self.multiprocess and path is not None:
            multiprocess.mark_process_dead(os.getpid(), path)  # type: ignore[no-untyped-call]


def _http_recorder(count: Counter, duration: Histogram) -> Callable[[float], None]:
    """One answered request: ``count.inc()`` and ``duration.observe(seconds)``. In
    multiprocess mode the three values they move (the count, the latency sum and its
    bucket) in one ``add3`` (:mod:`service.observability.mmap_values`): the same values
    written, without the library's calls per value (proved equal in
    tests/service/test_observability_pid.py)."""
    total = count._value
    add3 = getattr(type(total), "add3", None)
    if add3 is None:  # single process (MutexValue) or another value class: the library's
        inc, observe = count.inc, duration.observe

        def record(seconds: float) -> None:
            inc()
            observe(seconds)

        return record
    latency_sum = duration._sum
    buckets = tuple(duration._buckets)
    bounds = tuple(duration._upper_bounds)  # the last is +Inf

    def record_multiprocess(seconds: float) -> None:
        # Histogram.observe: the first bucket whose bound is >= seconds (bisect_left)
        add3(total, 1.0, latency_sum, seconds, buckets[bisect_left(bounds, seconds)], 1.0)

    return record_multiprocess


def _counter_increment(child: Counter) -> Callable[[], None]:
    """``child.inc`` (a counter's label child); in multiprocess mode the fused ``add``."""
    value = child._value
    add = getattr(type(value), "add", None)
    if add is None:
        return child.inc
    return functools.partial(add, value, 1.0)


class _ScrapeTime(Collector):
    """Gauges read when scraped, from the watch's last sample of the shared stores."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        watch = self.metrics.watch
        if watch is None:
            return []
        state = watch.state
        now = time.monotonic()
        families = [
            ("identity_log_tree_size", "Entries in the log's newest signed checkpoint.",
             state.tree_size),
            ("identity_log_pending_entries", "Entries sequenced but not yet integrated.",
             state.pending),
            ("identity_log_seconds_since_checkpoint",
             "Seconds since the signed tree last grew (as this replica saw it).",
             now - state.last_advance),
            ("identity_log_stalled", "1 while entries wait longer than the stall limit.",
             float(state.stalled_since is not None)),
            ("identity_store_up", "1 when the last probe of the stores succeeded.",
             float(state.down_since is None)),
        ]  # fmt: skip
        out = []
        for name, documentation, value in families:
            family = GaugeMetricFamily(name, documentation)
            family.add_metric([], value)
            out.append(family)
        return out
