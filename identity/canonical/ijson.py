r"""Strict JSON at every trust boundary, and its canonical form (JCS, RFC 8785).

The strict JSON reader: I-JSON (RFC 7493) -- no duplicate member names, no non-finite
numbers, integers within ±(2**53 - 1) -- plus a nesting-depth limit so a hostile body
cannot exhaust the stack. :func:`jcs_reference` is the only caller of ``rfc8785``.

Both have a fast path in C (orjson) guarded by exact checks, and a slow reference path
that decides every case the guards do not clear (tests/core/test_fast_json.py proves
the two equal with hypothesis over arbitrary I-JSON and the published JCS vectors):

- :func:`jcs`: RFC 8785 output *is* orjson's sorted-keys compact output for JSON that
  has no floating-point numbers (ES6 number formatting, RFC 8785 §3.2.2.3), no integers
  beyond ±(2**53-1) (refused by the reference), and no characters outside the Basic
  Multilingual Plane (object keys sort by UTF-16 code units, §3.2.3, which differs
  from code-point order only for those). Strings are escaped alike (§3.2.2.2: ``\"``,
  ``\\``, ``\b\t\n\f\r``, other controls as lowercase ``\u00xx``, all else
  literal). orjson writes NaN and infinities as ``null``, so any ``null`` in its output
  sends the value to the reference as well. Anything orjson refuses (subclasses, lone
  surrogates, deep nesting) goes to the reference too.
- :func:`parse_json`: orjson parses; the value is returned only when the body has no
  ``\u003a`` (an escaped colon), no run of 16 or more digits (so every integer is
  within ±(2**53-1)), no number token with an exponent of three or more digits (so
  every number is finite),
  no duplicate member (counted exactly: see :func:`_no_duplicates`) and few enough
  brackets that it cannot nest deeper than the limit (else the depth is checked). Every
  other body -- and every body orjson refuses -- is decided by the reference parser, so
  errors and their messages are the reference's.

(Named for I-JSON, RFC 7493; unrelated to the ``ijson`` streaming-parser package.)
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

import orjson
import rfc8785

from identity.errors import ParsingError

MAX_SAFE_INTEGER = 2**53 - 1
DEFAULT_MAX_DEPTH = 64


_JCS_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
_JCS_OPTIONS |= orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _classes(mapping: dict[bytes, bytes]) -> bytes:
    """A ``bytes.translate`` table sending each byte of a key to its class byte and
    every other byte to ``x``: one C pass, then plain substring searches."""
    table = bytearray(b"x" * 256)
    for members, cls in mapping.items():
        for byte in members:
            table[byte] = cls[0]
    return bytes(table)


_DIGITS = b"0123456789"
# orjson's output in classes: a number in value position follows ``:``, ``[`` or ``,``
# (all ``,``); a float has a ``.`` or an exponent (``e``); ``!`` is the lead byte of a
# 4-byte UTF-8 sequence (a character outside the BMP).
_JCS_CLASSES = _classes(
    {
        b":[,": b",",
        _DIGITS: b"0",
        b".": b".",
        b"eE": b"e",
        b"-+": b"-",
        bytes(range(0xF0, 0xF5)): b"!",
    }
)
# A float (a digit run then ``.``/``e``) or an integer of 16+ digits (maybe beyond
# ±(2**53-1)) after a value-position mark. A match inside a string only sends the value
# to the reference: conservative, never wrong.
_JCS_NUMBER = re.compile(rb",-?0(?:0*[.e]|0{15})")


def jcs(value: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme bytes of ``value`` (a JSON value: dict,
    list, str, int, float, bool, None).

    Raises :class:`ParsingError` for values JCS cannot represent (integers beyond
    I-JSON's range, NaN, infinities). Fast (orjson) where that is provably the same
    bytes, else :func:`jcs_reference`.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        try:
            return orjson.dumps(value)  # strings escape as in JCS (§3.2.2.2)
        except TypeError:  # a lone surrogate
            return jcs_reference(value)
    if kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return str(value).encode()
    if kind is dict or kind is list:
        try:
            out = orjson.dumps(value, option=_JCS_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return jcs_reference(value)
        # NaN and the infinities come out as null: a null sends the value to the reference.
        classes = out.translate(_JCS_CLASSES)
        if b"!" not in classes and b"null" not in out and _JCS_NUMBER.search(classes) is None:
            return out
    return jcs_reference(value)


def jcs_reference(value: Any) -> bytes:
    """RFC 8785 bytes by ``rfc8785`` (pure Python): the reference :func:`jcs` is
    proved against, and its path for every value the fast path does not clear."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ParsingError(f"value cannot be canonicalized with JCS: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise ParsingError(f"{name} is not valid I-JSON (RFC 7493 §2.2)")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ParsingError(f"duplicate member name {key!r} (RFC 7493 §2.3)", member=key)
        obj[key] = value
    return obj


_MAX_SAFE_DIGITS = len(str(MAX_SAFE_INTEGER))


def _checked_int(text: str) -> int:
    """An integer token within ±(2**53-1), range-checked on the text *before* ``int()``:
    a token of thousands of digits must not reach Python's int-conversion limit."""
    digits = text.removeprefix("-")
    if len(digits) > _MAX_SAFE_DIGITS or abs(value := int(text)) > MAX_SAFE_INTEGER:
        raise ParsingError("integer outside ±(2**53-1) is not valid I-JSON (RFC 7493 §2.2)")
    return value


def _checked_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ParsingError("number overflows IEEE 754 double (RFC 7493 §2.2)")
    return value


def check_depth(value: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Raise :class:`ParsingError` when arrays/objects nest deeper than ``max_depth``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise ParsingError(f"JSON nests deeper than {max_depth} levels", max_depth=max_depth)
        stack.extend((child, depth + 1) for child in children)


# A raw body in classes, for the bodies the fast path leaves to the reference: a run of
# 16+ digits (an integer maybe beyond I-JSON; orjson would read it as a float), an
# exponent of 3+ digits (maybe non-finite, which orjson refuses or rounds). ``[`` counts
# the brackets that bound the nesting depth. Escapes stay on the fast path, except an
# escaped colon (below): a lone surrogate is refused by orjson, so the reference decides.
#
# ``,`` marks where a number token can start (RFC 8259 §2: after ``[``, ``:``, ``,`` or
# white space, or at the start of the text). An exponent of 3+ digits is suspect only in
# a number token, so the cheap substring test (``e000``: ``e``, an optional sign, three
# digits) is confirmed by :data:`_BIG_EXPONENT` from a token start: a hex string such
# as ``"5a7e402333b4"`` (common in identifiers) no longer sends a whole body to the
# reference. A match inside a string (``"x:1e400"``) is still conservative.
_PARSE_CLASSES = _classes(
    {_DIGITS: b"0", b"eE": b"e", b"-+": b"-", b".": b".", b"[{": b"[", b":, \t\n\r": b","}
)
_PARSE_NEEDS_REFERENCE = (b"0" * 16,)
_EXPONENTS = (b"e000", b"e-000")
_BIG_EXPONENT = re.compile(rb"(?:^|[,\[])-?0+(?:\.0+)?e-?000")
_ESCAPED_COLONS = (b"\\u003a", b"\\u003A")
"""The only escapes the duplicate count cannot see through (:func:`_no_duplicates`)."""


def _no_duplicates(raw: bytes, value: Any) -> bool:
    r"""True when no object in ``raw`` repeats a member name (``value`` is orjson's
    parse of ``raw``, which keeps the last of duplicates; ``raw`` has no ``\u003a``).

    Every member has exactly one structural colon; every other colon is inside a
    string, where it is the same character raw and decoded: a colon is never written
    escaped except as ``\u003a``, which sends the body to the reference, and no other
    escape decodes to one. orjson's compact re-serialization has one colon per *kept*
    member and writes every colon of the kept strings literally, so the counts are equal
    exactly when no member was dropped (a member repeated under another spelling,
    ``"a"`` and ``"\u0061"``, is the same name once decoded, so it is dropped too).
    """
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:  # nested past orjson's writer limit (255): not sure
        return False
    return raw.count(b":") == written.count(b":")


def parse_json(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse I-JSON strictly; every failure is a :class:`ParsingError`.

    The same value or the same error as :func:`parse_json_reference`, at C speed for
    the bodies the guards clear (see the module docstring)."""
    if isinstance(data, bytes):
        classes = data.translate(_PARSE_CLASSES)
        if (
            not any(mark in classes for mark in _PARSE_NEEDS_REFERENCE)
            and not any(colon in data for colon in _ESCAPED_COLONS)
            and not _big_exponent(classes)
        ):
            try:
                value = orjson.loads(data)
            except orjson.JSONDecodeError:
                return parse_json_reference(data, max_depth=max_depth)
            if _no_duplicates(data, value) and (
                classes.count(b"[") <= max_depth or _depth_ok(value, max_depth)
            ):
                return value
    return parse_json_reference(data, max_depth=max_depth)


def _big_exponent(classes: bytes) -> bool:
    """True when a number token of the body (in classes) may have an exponent of three
    or more digits (maybe non-finite): the reference decides those."""
    if not any(mark in classes for mark in _EXPONENTS):
        return False
    return _BIG_EXPONENT.search(classes) is not None


def _depth_ok(value: Any, max_depth: int) -> bool:
    try:
        check_depth(value, max_depth)
    except ParsingError:
        return False
    return True


def parse_json_reference(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The strict parser :func:`parse_json` is proved against (``json`` with hooks that
    refuse duplicates, big integers and non-finite numbers)."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParsingError("body is not UTF-8") from exc
    try:
        value = json.loads(
            data,
            object_pairs_hook=_unique_object,
            parse_constant=_reject_constant,
            parse_int=_checked_int,
            parse_float=_checked_float,
        )
    except json.JSONDecodeError as exc:
        raise ParsingError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise ParsingError("JSON nests too deeply") from exc
    check_depth(value, max_depth)
    return value


_SCALARS = (str, int, float, bool, type(None))


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts and lists copied, scalars shared).

    The same value as ``copy.deepcopy`` for JSON, several times faster: no memo (JSON
    has no shared references that matter) and no per-type dispatch. Anything that is
    not a plain dict, list or JSON scalar is copied by ``copy.deepcopy``.
    """
    kind = type(value)
    if kind is dict:
        return {k: json_copy(v) for k, v in value.items()}
    if kind is list:
        return [json_copy(v) for v in value]
    if kind in _SCALARS:
        return value
    return copy.deepcopy(value)
