"""Strict JSON at every trust boundary, and its canonical form (JCS, RFC 8785).

The strict JSON reader: I-JSON (RFC 7493) -- no duplicate member names, no non-finite
numbers, integers within ±(2**53 - 1) -- plus a nesting-depth limit so a hostile body
cannot exhaust the stack. :func:`jcs` is the only caller of ``rfc8785``.

(Named for I-JSON, RFC 7493; unrelated to the ``ijson`` streaming-parser package.)
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

from identity.errors import ParsingError

MAX_SAFE_INTEGER = 2**53 - 1
DEFAULT_MAX_DEPTH = 64


def jcs(value: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme bytes of ``value``.

    Raises :class:`ParsingError` for values JCS cannot represent (integers beyond
    I-JSON's range, NaN, infinities).
    """
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


def parse_json(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse I-JSON strictly; every failure is a :class:`ParsingError`."""
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
