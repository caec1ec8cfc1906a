"""The JCS of one JSON object, made at most once per request, and of its variants.

A verify needs two canonical forms of the credential: the JCS of the unsecured document
the proof signs (eddsa-jcs-2022 §3.3.3, the proof's ``@context`` in place of the
document's when it carries one) and the JCS of the whole credential, whose SHA-256 the
log and the records refer to. :class:`CanonicalObject` serializes each once: the
variant when the proof check asks for it, the whole credential on the first
:meth:`CanonicalObject.whole` (every later call returns the same bytes).

An earlier version kept the serialized runs of consecutive members and reassembled both
forms from them (RFC 8785 §3.2.3 writes an object as its sorted members joined by
commas, so a run's bytes do not depend on the members around it). With the C JCS of
:func:`identity.canonical.jcs` that bookkeeping cost more than it saved: measured on a
city credential, 15 µs for the variant and the whole against 5.6 µs for two C
serializations (docs/performance.md, *In-process verify and sign*). tests/core/
test_fast_json.py proves :meth:`CanonicalObject.of` and :meth:`CanonicalObject.whole`
equal to ``rfc8785``.
"""

from __future__ import annotations

from typing import Any

from identity.canonical.ijson import jcs


class CanonicalObject:
    """The canonical forms of ``source`` for one request: :meth:`of` a variant,
    :meth:`whole` the source itself, serialized once. The source must not change while
    the instance is used (verification never mutates what it checks)."""

    __slots__ = ("_source", "_whole")

    def __init__(self, source: dict[str, Any]) -> None:
        self._source = source
        self._whole: bytes | None = None

    def of(self, obj: dict[str, Any]) -> bytes:
        """RFC 8785 bytes of ``obj`` (a variant of the source, or the source itself);
        the reference's error for a value JCS cannot represent."""
        if obj is self._source:
            return self.whole()
        return jcs(obj)

    def whole(self) -> bytes:
        """RFC 8785 bytes of the source itself, serialized on the first call only."""
        whole = self._whole
        if whole is None:
            whole = self._whole = jcs(self._source)
        return whole
