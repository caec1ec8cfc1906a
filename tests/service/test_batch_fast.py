"""``service.batch_verify.parse_batch`` is ``parse_json`` with the same ``max_depth``:
the same value, or the same error, for arrays of every depth around the limit."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from identity.canonical import parse_json
from identity.errors import ParsingError
from service.batch_verify import parse_batch

_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=4)
_values = st.recursive(
    _scalars | st.sampled_from(["[", "{{", "]"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)


def _outcome(parse: Any, data: bytes, max_depth: int) -> tuple[str, Any]:
    try:
        return "value", parse(data, max_depth=max_depth)
    except ParsingError as exc:
        return "error", exc.detail


def _nested(depth: int) -> Any:
    value: Any = 1
    for n in range(depth):
        value = [value] if n % 2 else {"a": value}
    return value


@settings(max_examples=400, deadline=None)
@given(st.lists(_values, max_size=5) | _values, st.integers(0, 7))
def test_parse_batch_is_parse_json(value: Any, max_depth: int) -> None:
    data = json.dumps(value).encode()
    assert _outcome(parse_batch, data, max_depth) == _outcome(parse_json, data, max_depth)


def test_deep_items_and_bodies_parse_json_refuses() -> None:
    for depth in (3, 4, 5, 63, 64, 65, 300, 2000):
        for body in ([_nested(depth)], [1, _nested(depth), {}], _nested(depth)):
            data = json.dumps(body).encode() if depth < 900 else _deep_text(depth)
            for limit in (4, 5, 65):
                assert _outcome(parse_batch, data, limit) == _outcome(parse_json, data, limit)
    dup = b'[{"a": 1, "a": 2}]'
    assert _outcome(parse_batch, dup, 4) == _outcome(parse_json, dup, 4)


def _deep_text(depth: int) -> bytes:
    return b"[" + b"[" * depth + b"1" + b"]" * depth + b"]"


def test_a_body_nested_past_orjsons_writer_limit_is_a_parsing_error() -> None:
    """orjson reads 300 levels but cannot write them back (its duplicate count did):
    the reference decides, a ParsingError, never a TypeError (a 500)."""
    for depth in (255, 300, 1000):
        data = _deep_text(depth)
        assert _outcome(parse_json, data, 64)[0] == "error"
