"""The fast paths of JCS and strict parsing are the reference, case for case.

``jcs`` (orjson behind exact guards) against ``jcs_reference`` (``rfc8785``), and
``parse_json`` (orjson behind exact guards) against ``parse_json_reference`` (``json``
with strict hooks): the same bytes, the same value, or the same error, over arbitrary
I-JSON from hypothesis, the published JCS vectors, non-BMP keys, escapes, numbers,
duplicate members and deep nesting.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from identity.canonical import (
    MAX_SAFE_INTEGER,
    jcs,
    jcs_reference,
    parse_json,
    parse_json_reference,
)
from identity.errors import ParsingError
from tests.conftest import vectors_dir

JCS_CASES = ["arrays", "french", "structures", "unicode", "values", "weird"]

# Characters that matter: controls (escaped), quotes and backslashes, DEL and U+2028
# (literal in JCS), the private-use and specials area U+E000-U+FFFF (sorts after a
# surrogate pair in UTF-16, before it in code points), and characters beyond the BMP.
_TRICKY = '\x00\x01\x08\t\n\x0c\r\x1f"\\/\x7f\u2028\u2029é\ue000\uffef\ufffd😀' + (
    "\U0001f600\U00010000\U0010ffff:"
)
chars = st.one_of(st.sampled_from(_TRICKY), st.characters(exclude_categories=("Cs",)))
texts = st.text(chars, max_size=12)
integers = st.one_of(
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.integers(-(10**16), 10**16),
    st.sampled_from([MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 1, -(2**53), 2**63, 2**64 + 1, 0]),
)
floats = st.floats(allow_nan=True, allow_infinity=True)
scalars = st.one_of(st.none(), st.booleans(), integers, floats, texts)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)),
    max_leaves=30,
)
finite_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), integers, st.floats(allow_nan=False, allow_infinity=False), texts
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)),
    max_leaves=30,
)


def outcome(fn: Any, value: Any) -> tuple[str, Any]:
    """What a function did: its result with every number's type kept, or its error."""
    try:
        return ("value", typed(fn(value)))
    except ParsingError as exc:
        return ("error", exc.detail)


def typed(value: Any) -> Any:
    """``value`` with each number tagged by its type (1 and 1.0 are equal in Python)."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", value.hex() if math.isfinite(value) else repr(value))
    return (type(value).__name__, value)


# --- JCS -------------------------------------------------------------------------------


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
@example({"\ue000": 1, "😀": 2})
@example({"a": float("nan")})
@example({"a": [float("inf"), None]})
@example({"a": 1.0, "b": -0.0, "c": 1e21, "d": 5e-324})
@example({"n": 2**53})
@example({"s": "x:1.5,"})
@example([1e16, 10**16, 10**15])
def test_fast_jcs_is_rfc8785(value: Any) -> None:
    assert outcome(jcs, value) == outcome(jcs_reference, value)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(texts, st.integers(0, 3), min_size=2, max_size=8))
def test_keys_sort_by_utf16_code_units(value: dict[str, int]) -> None:
    assert jcs(value) == jcs_reference(value)
    keys = list(json.loads(jcs(value)))
    assert keys == sorted(keys, key=lambda k: k.encode("utf-16-be"))


@pytest.mark.parametrize("name", JCS_CASES)
def test_fast_jcs_matches_the_published_vectors(name: str) -> None:
    base = vectors_dir() / "jcs"
    value = parse_json((base / "input" / f"{name}.json").read_bytes())
    expected = (base / "output" / f"{name}.json").read_bytes()
    assert jcs(value) == expected == jcs_reference(value)


def test_fast_jcs_takes_the_fast_path_for_a_plain_credential() -> None:
    """Not only equal: the ordinary document is not sent to the reference."""
    import identity.canonical.ijson as ijson

    document = {"@context": ["x"], "id": "urn:uuid:1", "n": 12, "b": True, "é": "ü"}
    calls = []
    original = ijson.jcs_reference
    ijson.jcs_reference = lambda v: calls.append(v) or original(v)  # type: ignore[assignment]
    try:
        assert jcs(document) == original(document)
        assert jcs({"f": 1.5}) == original({"f": 1.5})
    finally:
        ijson.jcs_reference = original  # type: ignore[assignment]
    assert calls == [{"f": 1.5}]


@pytest.mark.parametrize(
    "value",
    [
        (1, 2),
        {1: "a"},
        {"a": "\ud800"},
        type("S", (str,), {})("x"),
        {"d": __import__("datetime").datetime(2026, 1, 1)},
        [1] if False else __import__("functools").reduce(lambda a, _: [a], range(300), 1),
    ],
)
def test_values_orjson_would_write_differently_go_to_the_reference(value: Any) -> None:
    try:
        expected: Any = jcs_reference(value)
    except Exception as exc:  # the reference refuses: so must the fast path, alike
        with pytest.raises(type(exc)):
            jcs(value)
    else:
        assert jcs(value) == expected


# --- strict parsing --------------------------------------------------------------------


def raw_forms(value: Any) -> st.SearchStrategy[bytes]:
    """Ways a client may write ``value``: compact, spaced, ASCII-escaped."""
    return st.sampled_from(
        [
            json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"),
            json.dumps(value, ensure_ascii=True).encode(),
            json.dumps(value, ensure_ascii=False, indent=1, separators=(" ,", " : ")).encode(),
        ]
    )


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(finite_values.flatmap(raw_forms))
def test_fast_parse_is_the_strict_parser(raw: bytes) -> None:
    assert outcome(parse_json, raw) == outcome(parse_json_reference, raw)


def members(draw: Any, value: Any) -> str:
    """A hand-made serialization that may repeat a member and escape characters."""
    if isinstance(value, dict):
        items = list(value.items())
        if items and draw(st.booleans()):
            items.insert(draw(st.integers(0, len(items))), draw(st.sampled_from(items)))
        inner = ",".join(f"{key_text(draw, k)}:{members(draw, v)}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(members(draw, v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


def key_text(draw: Any, key: str) -> str:
    """``key`` as written plainly, with its colons escaped, or with every character
    escaped (``"a"`` and ``"\\u0061"`` are one name: a repeat the count must catch)."""
    mode = draw(st.sampled_from(["plain", "colons", "all"]))
    if mode == "colons":
        return "".join(
            ['"', *(f"\\u{ord(c):04x}" if c == ":" else c for c in json.dumps(key)[1:-1]), '"']
        )
    if mode == "all":
        units = key.encode("utf-16-be", "surrogatepass")
        codes = (int.from_bytes(units[i : i + 2], "big") for i in range(0, len(units), 2))
        return '"' + "".join(f"\\u{u:04x}" for u in codes) + '"'
    return json.dumps(key, ensure_ascii=False)


@st.composite
def with_duplicates(draw: Any) -> bytes:
    value = draw(finite_values)
    return members(draw, value).encode("utf-8", "surrogatepass")


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(with_duplicates())
@example(b'{"a":1,"a":2}')
@example(b'{"a:b":1,"a\\u003ab":2}')
@example(b'{"a":"x:y","a":"z"}')
@example(b'{"a":{"b":1},"c":{"b":2,"b":3}}')
def test_duplicates_are_found_exactly(raw: bytes) -> None:
    assert outcome(parse_json, raw) == outcome(parse_json_reference, raw)


JSONISH = st.text(
    st.sampled_from(list('{}[],:" \\u0123456789.eE+-truefalsnl\x00é😀\n\t')), max_size=40
)


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSONISH.map(lambda t: t.encode()), st.binary(max_size=30)))
@example(b"1e400")
@example(b"[1E308, 1e-400]")
@example(b'{"n": 9007199254740992}')
@example(b'{"n": 900719925474099}')
@example(b'{"n": -0}')
@example(b"NaN")
@example(b"\xef\xbb\xbf{}")
@example(b'"\\ud800"')
@example(b'{"a":1,}')
@example(b"[" * 65 + b"]" * 65)
@example(b"[" * 64 + b"]" * 64)
@example(b"[" * 2000 + b"]" * 2000)
def test_fast_parse_refuses_what_the_strict_parser_refuses(raw: bytes) -> None:
    assert outcome(parse_json, raw) == outcome(parse_json_reference, raw)


@pytest.mark.parametrize("depth", [3, 4, 5])
def test_the_depth_limit_is_the_reference_limit(depth: int) -> None:
    raw = ("[" * 4 + "]" * 4 + "," + '{"a":' * 1 + "[]}").encode()
    raw = b"[" + raw + b"]"
    assert outcome(lambda r: parse_json(r, max_depth=depth), raw) == outcome(
        lambda r: parse_json_reference(r, max_depth=depth), raw
    )


def test_str_input_is_parsed_like_bytes() -> None:
    assert parse_json('{"a": [1, "é"]}') == parse_json(b'{"a": [1, "\xc3\xa9"]}')


# --- base58btc -------------------------------------------------------------------------


@settings(max_examples=500)
@given(st.binary(max_size=80), st.integers(0, 4))
def test_fast_base58_decode_is_the_base58_package(data: bytes, zeros: int) -> None:
    import base58

    from identity.encoding import b58_decode

    data = b"\0" * zeros + data
    text = base58.b58encode(data).decode()
    assert b58_decode(text) == base58.b58decode(text) == data


@pytest.mark.parametrize("text", ["0", "O", "I", "l", "é", "abc0", "1\n"])
def test_fast_base58_refuses_what_is_not_base58(text: str) -> None:
    from identity.encoding import b58_decode
    from identity.errors import MalformedValueError

    with pytest.raises(MalformedValueError):
        b58_decode(text)


# --- member by member ------------------------------------------------------------------


@settings(max_examples=800, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(texts, json_values, max_size=6), st.data())
def test_canonical_object_is_rfc8785_for_the_source_and_its_variants(
    source: dict[str, Any], data: Any
) -> None:
    from identity.canonical import CanonicalObject

    canonical = CanonicalObject(source)
    variant = {k: v for k, v in source.items() if data.draw(st.booleans())}
    variant.update(data.draw(st.dictionaries(texts, json_values, max_size=2)))
    other = {k: v for k, v in source.items() if data.draw(st.booleans())}
    for obj in (variant, source, variant, other):
        assert outcome(canonical.of, obj) == outcome(jcs_reference, obj)
    assert outcome(lambda _: canonical.whole(), source) == outcome(jcs_reference, source)


@settings(max_examples=500)
@given(scalars)
def test_scalars_are_rfc8785(value: Any) -> None:
    assert outcome(jcs, value) == outcome(jcs_reference, value)


@settings(max_examples=300)
@given(json_values)
def test_json_copy_is_a_deep_copy(value: Any) -> None:
    import copy

    from identity.canonical import json_copy

    copied = json_copy(value)
    assert outcome(lambda v: v, copied) == outcome(lambda v: v, copy.deepcopy(value))
    if isinstance(value, dict | list) and value:
        assert copied is not value


@settings(max_examples=500)
@given(st.binary(max_size=80), st.integers(0, 4))
def test_fast_base58_encode_is_the_base58_package(data: bytes, zeros: int) -> None:
    import base58

    from identity.encoding import b58_encode

    data = b"\0" * zeros + data
    assert b58_encode(data) == base58.b58encode(data).decode()


def test_an_ascii_escaped_body_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that escapes every non-ASCII character (Python's ``json.dumps``) is parsed
    by orjson, not the reference; an escaped colon still goes to the reference."""
    import identity.canonical.ijson as ijson

    body = json.dumps({"name": "李雷", "note": "😀", "a": ["é", 1]}).encode()
    assert b"\\u" in body
    monkeypatch.setattr(ijson, "parse_json_reference", lambda *a, **k: pytest.fail("slow"))
    assert parse_json(body) == {"name": "李雷", "note": "😀", "a": ["é", 1]}
    with pytest.raises(BaseException, match="slow"):
        parse_json(b'{"a\\u003a":1}')


# --- exponents of three or more digits: only in number tokens -------------------------

_SEPARATORS = st.sampled_from(["", " ", "\t", "\n", "\r\n "])
_BIG_EXPONENT_NUMBERS = st.builds(
    lambda sign, whole, frac, e, esign, exp: f"{sign}{whole}{frac}{e}{esign}{exp}",
    st.sampled_from(["", "-"]),
    st.sampled_from(["0", "1", "17", "9"]),
    st.sampled_from(["", ".5", ".0001", ".797693134862315"]),
    st.sampled_from(["e", "E"]),
    st.sampled_from(["", "+", "-"]),
    st.integers(0, 10**5).map(lambda n: f"{n:03d}"),
)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(_BIG_EXPONENT_NUMBERS, _SEPARATORS, st.integers(0, 4), st.text(max_size=12))
@example("1e400", "", 0, "")
@example("-1.8e308", " ", 1, "")
@example("1.7976931348623159e308", "", 2, "")
@example("2.4703282292062327e-324", "\n", 3, "")
@example("1e0000000000400", "", 4, "")
def test_big_exponents_in_number_tokens_are_the_reference(
    number: str, space: str, where: int, text: str
) -> None:
    """A number with a 3+ digit exponent anywhere a number may stand (top level, in an
    array, as a member value, after white space) parses or fails as the reference."""
    raw = [
        f"{space}{number}{space}",
        f"[{space}{number}]",
        f"[1,{space}{number}]",
        f'{{"a":{space}{number}, "t": {json.dumps(text)}}}',
        f'{{"t": {json.dumps(text)}, "a": [{{"b":{space}{number}}}]}}',
    ][where].encode()
    assert outcome(parse_json, raw) == outcome(parse_json_reference, raw)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="0123456789abcdefeE+-.:", max_size=24), st.text(max_size=8))
def test_exponent_like_text_in_strings_is_parsed_alike(inner: str, other: str) -> None:
    raw = json.dumps({"id": f"urn:x:{inner}", "n": [other, inner], inner: 1}).encode()
    assert outcome(parse_json, raw) == outcome(parse_json_reference, raw)


def test_hex_identifiers_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """``e`` and three digits inside a string (a hex id) used to send the whole body to
    the reference parser; only a number token's exponent does now."""
    import identity.canonical.ijson as ijson

    body = json.dumps(
        {"id": "http://localhost:9301/status-lists/5a7e402333b4-11/revocation#105621",
         "hex": "0e999", "n": [1.5e10, -2e-5]}
    ).encode()  # fmt: skip
    monkeypatch.setattr(ijson, "parse_json_reference", lambda *a, **k: pytest.fail("slow"))
    assert parse_json(body) == json.loads(body)
    for number in (b"1e400", b'{"a": 1e-400}', b"[0, 1E+308]", b'{"x": "a", "n":\n 2e123}'):
        with pytest.raises(BaseException, match="slow"):
            parse_json(number)
