"""``prometheus_client``'s multiprocess value class, with one fused update for hot paths.

:func:`multiprocess_value_class` is ``prometheus_client.values.MultiProcessValue`` (0.2x)
written out here: the same ``{type}_{pid}.db`` files (``MmapedDict``), the same keys, the
same one lock per process, the same reset of every value after a fork, so
``MultiProcessCollector`` reads them as it reads the library's (the service reads only
``PROMETHEUS_MULTIPROC_DIR``: the library's deprecated lower-case name is not copied).
Adapted from ``prometheus_client/values.py`` (Copyright 2015 The Prometheus Authors,
Apache License 2.0, https://github.com/prometheus/client_python). Two differences:

* the process identifier is a :class:`~service.observability.context.Pid` (read once and
  again only after a fork) instead of ``os.getpid`` (a system call per update);
* ``add`` (one value) and ``add3`` (three, under *one* lock acquisition) write straight
  into the file's mmap. A request counted through the library's ``Counter.inc`` and
  ``Histogram.observe`` makes about 25 Python calls (three values, each through
  ``_raise_if_not_observable``, the lock, the fork check, ``write_value`` and
  ``_pack_two_doubles``) and walks the bucket bounds one by one; ``add3`` makes one,
  and the caller finds the bucket with ``bisect``. The bytes written are the library's
  (``struct`` ``dd``: the value, a zero timestamp, assigned as a slice as the library does
  to stay atomic for readers), and the value object's own ``_value`` moves with them, so
  the library's later updates and reads carry on from it (proved equal in
  ``tests/service/test_observability_pid.py``).
"""

from __future__ import annotations

import os
import struct
from threading import Lock
from typing import Any

from prometheus_client import values as _library
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from service.observability.context import Pid

_pack = struct.Struct(b"dd").pack


def multiprocess_value_class(process_identifier: Pid) -> Any:
    """A value class for ``prometheus_client.values.ValueClass`` in multiprocess mode
    (``PROMETHEUS_MULTIPROC_DIR`` set), as ``MultiProcessValue(process_identifier)``
    builds, with the class methods ``add`` and ``add3``."""
    files: dict[str, MmapedDict] = {}
    instances: list[Any] = []
    pid = {"value": process_identifier()}
    lock = Lock()  # one per process, as the library's: it guards every file of the class

    def cleanup() -> None:
        for f in files.values():
            f.close()  # type: ignore[no-untyped-call]
        files.clear()
        instances.clear()

    _library._multi_process_cleanups.append(cleanup)

    def check_for_pid_change() -> None:
        actual = process_identifier.value
        if pid["value"] != actual:  # a fork: every value reopens this process's files
            pid["value"] = actual
            for f in files.values():
                f.close()  # type: ignore[no-untyped-call]
            files.clear()
            for value in instances:
                value._reset()

    class MmapedValue:
        """A float in this process's mmaped file (``prometheus_client``'s, see the module)."""

        _multiprocess = True
        _identity_cached_pid = True
        # Slots, and the mmap and position held by the value itself: an update touches
        # this object, the mmap and its page, not a MmapedDict, its positions dict and
        # the key's text (memory a request otherwise finds cold, docs/observability.md).
        __slots__ = ("_file", "_key", "_m", "_params", "_pos", "_timestamp", "_value")

        def __init__(
            self,
            typ: str,
            metric_name: str,
            name: str,
            labelnames: Any,
            labelvalues: Any,
            help_text: str,
            multiprocess_mode: str = "",
            **kwargs: Any,
        ) -> None:
            self._params = (typ, metric_name, name, labelnames, labelvalues, help_text,
                            multiprocess_mode)  # fmt: skip
            with lock:
                check_for_pid_change()
                self._reset()
                instances.append(self)

        def _reset(self) -> None:
            typ, metric_name, name, labelnames, labelvalues, help_text, mode = self._params
            prefix = typ + "_" + mode if typ == "gauge" else typ
            if prefix not in files:
                filename = os.path.join(os.environ[ENV], f"{prefix}_{pid['value']}.db")
                files[prefix] = MmapedDict(filename)  # type: ignore[no-untyped-call]
            self._file = files[prefix]
            self._key = mmap_key(metric_name, name, labelnames, labelvalues, help_text)
            self._value, self._timestamp = self._file.read_value(self._key)  # type: ignore[no-untyped-call]
            # The file's mapping now; a later growth of the file (another key) maps it
            # again, and this mapping of the same shared file stays valid for this key.
            self._m = self._file._m
            self._pos = self._file._positions[self._key]

        def inc(self, amount: float) -> None:
            with lock:
                check_for_pid_change()
                self._value += amount
                self._timestamp = 0.0
                self._file.write_value(self._key, self._value, self._timestamp)  # type: ignore[no-untyped-call]

        def set(self, value: float, timestamp: float | None = None) -> None:
            with lock:
                check_for_pid_change()
                self._value = value
                self._timestamp = timestamp or 0.0
                self._file.write_value(self._key, self._value, self._timestamp)  # type: ignore[no-untyped-call]

        def set_exemplar(self, exemplar: Any) -> None:
            return  # as the library: no exemplars in multiprocess mode

        def get(self) -> float:
            with lock:
                check_for_pid_change()
                return float(self._value)

        def get_exemplar(self) -> None:
            return None

        @staticmethod
        def add(value: Any, amount: float) -> None:
            """``value.inc(amount)``, written straight into the mmap (the value's key is in
            its file since construction: ``read_value`` put it there)."""
            with lock:
                if pid["value"] != process_identifier.value:
                    check_for_pid_change()
                value._value += amount
                value._timestamp = 0.0
                pos = value._pos
                value._m[pos : pos + 16] = _pack(value._value, 0.0)

        @staticmethod
        def add3(first: Any, a1: float, second: Any, a2: float, third: Any, a3: float) -> None:
            """:meth:`add` for three values under one lock acquisition (a request: its
            count, its latency sum, its latency bucket)."""
            with lock:
                if pid["value"] != process_identifier.value:
                    check_for_pid_change()
                first._value += a1  # unrolled: three values, no loop, no tuples
                first._timestamp = 0.0
                pos = first._pos
                first._m[pos : pos + 16] = _pack(first._value, 0.0)
                second._value += a2
                second._timestamp = 0.0
                pos = second._pos
                second._m[pos : pos + 16] = _pack(second._value, 0.0)
                third._value += a3
                third._timestamp = 0.0
                pos = third._pos
                third._m[pos : pos + 16] = _pack(third._value, 0.0)

    return MmapedValue


ENV = "PROMETHEUS_MULTIPROC_DIR"
