"""JCS of one JSON object member by member, so that the object and its variants (the
same object without ``proof``, with another ``@context``) are canonicalized without
serializing any member twice.

RFC 8785 §3.2.3 writes an object as ``{`` + its members sorted by the UTF-16 code units
of their names, each ``name:value`` in canonical form, joined by ``,`` + ``}``: a
member's bytes do not depend on its neighbours, so they can be kept and reassembled.
tests/core/test_fast_json.py proves :meth:`CanonicalObject.of` equal to ``rfc8785``.
"""

from __future__ import annotations

from typing import Any

from identity.canonical.ijson import jcs


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


class CanonicalObject:
    """The members of ``source`` in JCS form, each computed at most once.

    :meth:`of` canonicalizes ``source`` or any object that shares member *values* (the
    same Python objects, compared by identity) with it; members whose value is not the
    source's are serialized afresh. One instance serves one request: the source must
    not change while it is used (verification never mutates what it checks).
    """

    __slots__ = ("_members", "_source")

    def __init__(self, source: dict[str, Any]) -> None:
        self._source = source
        self._members: dict[str, bytes] = {}

    def member(self, key: str, value: Any) -> bytes:
        """``"key":value`` in JCS form, from the cache when ``value`` is the source's."""
        if self._source.get(key, _MISSING) is value:
            cached = self._members.get(key)
            if cached is None:
                cached = self._members[key] = jcs(key) + b":" + jcs(value)
            return cached
        return jcs(key) + b":" + jcs(value)

    def of(self, obj: dict[str, Any]) -> bytes:
        """RFC 8785 bytes of ``obj`` (an object whose members may be the source's)."""
        keys = list(obj)
        if all(type(k) is str for k in keys):
            if all(k.isascii() for k in keys):
                keys.sort()  # code points: UTF-16 order when no key leaves the BMP
            else:
                keys.sort(key=_utf16)
            return b"{" + b",".join(self.member(k, obj[k]) for k in keys) + b"}"
        return jcs(obj)  # names that are not strings: the reference's error

    def whole(self) -> bytes:
        """RFC 8785 bytes of the source itself."""
        return self.of(self._source)


_MISSING = object()
