"""JCS of one JSON object and its variants (the same object without ``proof``, with
another ``@context``) without serializing any member twice.

RFC 8785 §3.2.3 writes an object as ``{`` + its members sorted by the UTF-16 code units
of their names, each ``name:value`` in canonical form, joined by ``,`` + ``}``: the
bytes of a run of consecutive members do not depend on the members around it, so runs
can be kept and reassembled. tests/core/test_fast_json.py proves
:meth:`CanonicalObject.of` and :meth:`CanonicalObject.whole` equal to ``rfc8785``.
"""

from __future__ import annotations

from typing import Any

from identity.canonical.ijson import jcs


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _sorted(keys: set[str]) -> list[str]:
    """Member names in JCS order (UTF-16 code units; code points when all are ASCII)."""
    if all(k.isascii() for k in keys):
        return sorted(keys)
    return sorted(keys, key=_utf16)


class CanonicalObject:
    """Canonical runs of ``source``'s members, each serialized at most once.

    The first :meth:`of` call fixes the *boundaries*: the member names of ``source``
    or of the variant that are absent from the variant or whose value is not the
    source's very object (compared by identity). Runs of members between boundaries are
    serialized once (one C call each) and reused by every later :meth:`of` and
    :meth:`whole`; boundary members are serialized on their own. One instance serves one
    request: the source must not change while it is used (verification never mutates
    what it checks).
    """

    __slots__ = ("_boundaries", "_runs", "_source")

    def __init__(self, source: dict[str, Any]) -> None:
        self._source = source
        self._boundaries: frozenset[str] | None = None
        self._runs: dict[tuple[str, ...], bytes] = {}

    def of(self, obj: dict[str, Any]) -> bytes:
        """RFC 8785 bytes of ``obj`` (an object whose members may be the source's)."""
        if not all(type(k) is str for k in obj):
            return jcs(obj)  # names that are not strings: the reference's error
        source = self._source
        if self._boundaries is None:
            self._boundaries = frozenset(
                k for k in source.keys() | obj.keys() if k not in obj or obj[k] is not source.get(k)
            )
        parts: list[bytes] = []
        run: list[str] = []
        for key in _sorted(source.keys() | obj.keys()):
            if key in self._boundaries or obj.get(key, _MISSING) is not source.get(key, _MISSING):
                if run:
                    parts.append(self._run(tuple(run)))
                    run = []
                if key in obj:
                    parts.append(jcs(key) + b":" + jcs(obj[key]))
            else:
                run.append(key)
        if run:
            parts.append(self._run(tuple(run)))
        return b"{" + b",".join(parts) + b"}"

    def whole(self) -> bytes:
        """RFC 8785 bytes of the source itself."""
        return self.of(self._source)

    def _run(self, keys: tuple[str, ...]) -> bytes:
        """``"k1":v1,"k2":v2…`` of the source's members ``keys`` (in JCS order)."""
        cached = self._runs.get(keys)
        if cached is None:
            source = self._source
            cached = self._runs[keys] = jcs({k: source[k] for k in keys})[1:-1]
        return cached


_MISSING = object()
