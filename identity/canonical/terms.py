"""JSON-LD validity without a full expansion, from precomputed term definitions.

A credential's JSON-LD validity must not depend on its cryptosuite: eddsa-rdfc-2022 finds
every problem while it canonicalizes, eddsa-jcs-2022 never expands the document at all.
:class:`JsonLdChecker` gives the jcs path the same verdicts -- the same error types, from
the same code -- at a fraction of the cost:

* The **full check** (:func:`identity.canonical.rdf.check_json_ld`) is the rdfc path's
  JSON-LD processing without the canonicalization: safe-mode expansion and toRdf by pyld.
* The **fast check** (:meth:`TermTables.accepts`) walks a document whose ``@context`` lists
  only contexts the loader serves (no inline context, no nested ``@context``) against
  term tables: each active context, as pyld processed it, flattened once into
  :class:`Term` records, and each context derived from it by a type- or property-scoped
  context processed once (JSON-LD 1.1 API §4.1.2 steps 7-8, §4.1.3 step 13). The walk
  follows pyld's expansion algorithm step by step (revert of type-scoped contexts,
  property-scoped then type-scoped contexts, key and value IRI expansion, value objects)
  but only *accepts*: anything outside the subset it models -- a term not defined, an IRI
  that is relative or compact with a defined prefix, a container other than ``@set`` /
  ``@graph``, a reverse property, a malformed value object, a context that fails to
  process -- makes it answer "not sure", and the full check decides and raises.

So the fast check never decides a refusal; it only proves validity, and the proof that it
agrees with the full check (it accepts nothing the full check refuses) is
``tests/proofs/test_jsonld_fast_check.py``, over the vectors, the service's credentials
and generated variants. Tables are built lazily per checker (one per ContextLoader, never
at import), bounded in size, and shared by threads (built under a lock).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from identity.canonical.rdf import (
    RELATIVE_BASE,
    ContextSource,
    check_json_ld,
    context_options,
    new_processor,
)

Json = dict[str, Any]

MAX_TOP_CONTEXTS = 128
"""Distinct top-level ``@context`` lists whose tables are kept (then: full check)."""
MAX_DERIVED = 4096
"""Scoped contexts derived from all top-level ones together."""
MAX_KEYS_PER_CONTEXT = 2048
"""Memoized plans, type lists and IRIs per context (an ``@vocab`` context accepts any key)."""

# An absolute IRI as pyld's toRdf keeps it (no white space anywhere), or a blank node.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")
_NODE_KEYWORDS = frozenset({"@id", "@type"})
_VALUE_KEYS = frozenset({"@value", "@language", "@direction", "@type", "@index"})
_ALLOWED_CONTAINERS = frozenset({"@set", "@graph"})
_SKIP, _ID, _VALUE = "skip", "id", "value"


class ContextUrls(Protocol):
    """A :class:`ContextSource` that also says which URLs it serves."""

    @property
    def urls(self) -> frozenset[str]:
        """Every context URL :meth:`load` answers."""
        ...

    def load(self, url: str) -> dict[str, Any]:
        """A fresh copy of the context document at ``url``."""
        ...


class _Unsure(Exception):
    """The fast check cannot decide; the full check will."""


# How a string value of a term expands (JSON-LD 1.1 API §5.3.2 Value Expansion).
LITERAL, IRI, VOCAB, UNSURE = "literal", "iri", "vocab", "unsure"


@dataclass(frozen=True, slots=True)
class Term:
    """One term definition, flattened from pyld's processed context, with what the walk
    needs precomputed: how a string value expands and whether another scalar is kept."""

    iri: str | None
    type: str | None
    containers: frozenset[str]
    has_context: bool
    context: Any
    prefix: bool
    reverse: bool
    strings: str
    scalars_ok: bool


class _Context:
    """A processed active context with its term table and the contexts derived from it."""

    __slots__ = (
        "derived",
        "id_aliases",
        "iri_ok",
        "plans",
        "prefixes",
        "previous",
        "raw",
        "terms",
        "type_aliases",
        "typed",
        "vocab",
        "vocab_ok",
    )

    def __init__(self, raw: Json, previous: _Context | None) -> None:
        self.raw = raw
        self.previous = previous
        self.vocab: str | None = raw.get("@vocab")
        self.terms: dict[str, Term | None] = {
            name: None if d is None else _term(d) for name, d in raw["mappings"].items()
        }
        named = [(n, t) for n, t in self.terms.items() if t is not None]
        self.type_aliases = frozenset(["@type", *(n for n, t in named if t.iri == "@type")])
        self.id_aliases = frozenset(["@id", *(n for n, t in named if t.iri == "@id")])
        self.prefixes = frozenset(n for n, t in named if t.prefix)
        self.plans: dict[str, tuple[Any, ...]] = {}
        self.typed: dict[tuple[str, ...], _Context] = {}
        self.vocab_ok: set[str] = set()
        self.iri_ok: set[str] = set()
        self.derived: dict[tuple[str, str], _Context] = {}


def _term(definition: Json) -> Term:
    container = definition.get("@container") or ()
    containers = frozenset([container] if isinstance(container, str) else container)
    coerced = definition.get("@type")
    literal = coerced in (None, "@none") or (isinstance(coerced, str) and bool(_IRI.match(coerced)))
    if "@graph" in containers:
        strings = IRI if coerced == "@id" else UNSURE
    else:
        strings = {"@id": IRI, "@vocab": VOCAB}.get(coerced or "", LITERAL if literal else UNSURE)
    return Term(
        iri=definition.get("@id"),
        type=coerced,
        containers=containers,
        has_context="@context" in definition,
        context=definition.get("@context"),
        prefix=bool(definition.get("_prefix")),
        reverse=bool(definition.get("reverse")),
        strings=strings,
        scalars_ok="@graph" not in containers and (literal or coerced in ("@id", "@vocab")),
    )


class TermTables:
    """Term tables for documents over the contexts of one loader (see the module doc)."""

    def __init__(self, loader: ContextUrls) -> None:
        self._loader = loader
        self._served = loader.urls
        self._lock = threading.Lock()
        self._top: dict[tuple[str, ...], _Context] = {}
        self._count = 0
        self._initial: _Context | None = None
        self._raw: dict[int, _Context] = {}

    def accepts(self, document: Any) -> bool:
        """True when ``document`` is valid JSON-LD for certain; False means "not sure"."""
        if not isinstance(document, dict):
            return False
        try:
            self._document(document)
        except (_Unsure, TypeError, ValueError, AttributeError, RecursionError):
            return False  # anything unexpected: let the full check decide
        return True

    # -- contexts -----------------------------------------------------------------------

    def _process(self, build: Callable[[Any, Json], Json], previous: _Context | None) -> _Context:
        """Run pyld's context processing (the caller holds the lock); any failure is
        "not sure"."""
        processor = new_processor()
        try:
            raw = build(processor, context_options(self._loader))
        except Exception as exc:  # the full check reports it properly
            raise _Unsure from exc
        known = self._raw.get(id(raw))
        if known is not None and known.raw is raw:
            return known
        context = _Context(raw, previous)
        self._raw[id(raw)] = context
        return context

    def _top_context(self, urls: tuple[str, ...]) -> _Context:
        context = self._top.get(urls)
        if context is not None:
            return context
        if not urls or not all(url in self._served for url in urls):
            raise _Unsure
        with self._lock:
            context = self._top.get(urls)
            if context is None:
                if len(self._top) >= MAX_TOP_CONTEXTS:
                    raise _Unsure
                if self._initial is None:
                    self._initial = self._process(lambda p, o: p._get_initial_context(o), None)
                initial = self._initial.raw
                context = self._process(
                    lambda p, o: p._process_context(initial, list(urls), o), None
                )
                self._top[urls] = context
        return context

    def _derive(self, context: _Context, kind: str, name: str, local: Any) -> _Context:
        """The context a type-scoped (``kind="type"``, not propagated) or property-scoped
        (``kind="property"``, overriding protection) context makes of ``context``."""
        key = (kind, name)
        derived = context.derived.get(key)
        if derived is not None:
            return derived
        with self._lock:
            derived = context.derived.get(key)
            if derived is None:
                if self._count >= MAX_DERIVED:
                    raise _Unsure
                raw = context.raw
                if kind == "type":
                    derived = self._process(
                        lambda p, o: p._process_context(raw, local, o, propagate=False),
                        context,
                    )
                else:
                    derived = self._process(
                        lambda p, o: p._process_context(
                            raw, local, o, propagate=True, override_protected=True
                        ),
                        None,
                    )
                previous = derived.raw.get("previousContext")
                if previous is not None:
                    derived.previous = self._raw.get(id(previous))
                    if derived.previous is None or derived.previous.raw is not previous:
                        raise _Unsure
                context.derived[key] = derived
                self._count += 1
        return derived

    # -- the walk (pyld's JsonLdProcessor._expand / _expand_object, accepting only) ------

    def _document(self, document: Json) -> None:
        raw = document.get("@context")
        urls = (raw,) if isinstance(raw, str) else raw
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise _Unsure
        self._node(self._top_context(tuple(urls)), document)

    def _plan(self, context: _Context, key: str) -> tuple[Any, ...]:
        """What a key of a node object means in ``context``, worked out once: skip it
        (``@context``, a type, an ``@json`` literal), an ``@id``, or a property whose
        values expand in a (possibly property-scoped) context with a term definition."""
        plan = context.plans.get(key)
        if plan is not None:
            return plan
        if key == "@context":
            plan = (_SKIP,)
        else:
            expanded = self._key(context, key)
            term = context.terms.get(key)
            if expanded == "@type":
                plan = (_SKIP,)
            elif expanded == "@id":
                plan = (_ID,)
            elif term is None:
                plan = (_VALUE, context, None)
            else:
                if term.reverse or not term.containers <= _ALLOWED_CONTAINERS:
                    raise _Unsure
                if term.type == "@json":
                    plan = (_SKIP,)
                else:
                    values_in = context
                    if term.has_context:
                        if term.context is None:
                            raise _Unsure  # "@context": null (a presentation's credentials)
                        values_in = self._derive(context, "property", key, term.context)
                    plan = (_VALUE, values_in, values_in.terms.get(key))
        if len(context.plans) < MAX_KEYS_PER_CONTEXT:
            context.plans[key] = plan
        return plan

    def _object(self, context: _Context, term: Term | None, prop: str, element: Json) -> None:
        """An object that is the value of ``prop`` (a node or a value object)."""
        if "@context" in element:
            raise _Unsure
        scoped = None
        if term is not None and term.has_context:
            scoped = term.context
            if scoped is None:
                raise _Unsure
        # Revert a type-scoped context unless the element is a value object of at most
        # two members or a subject reference (JSON-LD 1.1 API §5.1.2 step 7).
        is_value = "@value" in element
        if context.previous is not None and not (
            (is_value and len(element) <= 2)
            or (len(element) == 1 and next(iter(element)) in context.id_aliases)
        ):
            context = context.previous
        if scoped is not None:
            context = context.derived.get(("property", prop)) or self._derive(
                context, "property", prop, scoped
            )
        if is_value:
            self._value_object(context, term, element)
        else:
            self._node(context, element)

    def _node(self, context: _Context, element: Json) -> None:
        """A node object: type-scoped contexts, then every key and value."""
        type_key = None
        for key in element:
            if key in context.type_aliases:
                if type_key is not None:
                    raise _Unsure
                type_key = key
        if type_key is not None:
            context = self._typed(context, element[type_key])
        plans = context.plans
        seen_id = False
        for key, value in element.items():
            plan = plans.get(key) or self._plan(context, key)
            kind = plan[0]
            if kind is _VALUE:
                self._value(plan[1], plan[2], key, value)
            elif kind is _ID:
                if seen_id or not isinstance(value, str):
                    raise _Unsure  # colliding keywords, or not a string
                seen_id = True
                self._iri(context, value)

    def _typed(self, context: _Context, types: Any) -> _Context:
        """``context`` with the type-scoped contexts of ``types``, in lexical order
        (JSON-LD 1.1 API §5.1.2 step 11), the types checked as vocabulary IRIs."""
        listed = (types,) if isinstance(types, str) else types
        if not isinstance(listed, list | tuple) or not listed:
            raise _Unsure
        if not all(isinstance(t, str) for t in listed):
            raise _Unsure
        key = tuple(listed)
        typed = context.typed.get(key)
        if typed is not None:
            return typed
        typed = context
        for name in sorted(listed):
            self._vocab_iri(context, name)
            term = context.terms.get(name)
            if term is not None and term.has_context:
                if term.context is None or term.context is False:
                    raise _Unsure
                typed = self._derive(typed, "type", name, term.context)
        if len(context.typed) < MAX_KEYS_PER_CONTEXT:
            context.typed[key] = typed
        return typed

    def _value(self, context: _Context, term: Term | None, prop: str, value: Any) -> None:
        """A property's value: ``term`` is the property's definition in ``context``."""
        if isinstance(value, str):
            strings = LITERAL if term is None else term.strings
            if strings is LITERAL:
                return
            if strings is IRI:
                self._iri(context, value)
            elif strings is VOCAB:
                self._vocab_iri(context, value)
            else:
                raise _Unsure
        elif isinstance(value, dict):
            self._object(context, term, prop, value)
        elif isinstance(value, list):
            if term is not None and "@list" in term.containers:
                raise _Unsure
            for item in value:
                self._value(context, term, prop, item)
        elif value is not None and term is not None and not term.scalars_ok:
            raise _Unsure

    def _value_object(self, context: _Context, term: Term | None, element: Json) -> None:
        if not element.keys() <= _VALUE_KEYS or (term is not None and term.containers):
            raise _Unsure
        value = element["@value"]
        if value is None or isinstance(value, dict | list):
            raise _Unsure
        if "@type" in element:
            datatype = element["@type"]
            if "@language" in element or "@direction" in element or not isinstance(datatype, str):
                raise _Unsure
            if datatype != "@json":
                self._vocab_iri(context, datatype)
                named = context.terms.get(datatype)
                if named is not None and named.has_context:
                    raise _Unsure
        if ("@language" in element or "@direction" in element) and not isinstance(value, str):
            raise _Unsure
        if "@language" in element and not isinstance(element["@language"], str):
            raise _Unsure
        if "@direction" in element and element["@direction"] not in ("ltr", "rtl"):
            raise _Unsure
        if "@index" in element and not isinstance(element["@index"], str):
            raise _Unsure

    # -- IRI expansion (pyld's _expand_iri), accepting only absolute results ------------

    @staticmethod
    def _key(context: _Context, key: str) -> str:
        """A key expanded with vocab=True: ``@id``, ``@type`` or an absolute IRI."""
        if key in _NODE_KEYWORDS:
            return key
        if key.startswith("@"):
            raise _Unsure
        if key in context.terms:
            term = context.terms[key]
            if term is None or term.iri is None or term.reverse:
                raise _Unsure
            if term.iri in _NODE_KEYWORDS:
                return term.iri
            if not _IRI.match(term.iri) or term.iri.startswith(("_:", RELATIVE_BASE)):
                raise _Unsure
            return term.iri
        return _absolute(context, key, vocab=True)

    @staticmethod
    def _iri(context: _Context, value: str) -> None:
        """A document-relative IRI (``@id``, ``@type: @id``): absolute or a blank node."""
        if value in context.iri_ok:
            return
        if _IRI.match(value):
            prefix = value[: value.index(":")]
            if prefix in context.prefixes and not value.startswith("//", len(prefix) + 1):
                raise _Unsure  # a compact IRI: expands to something else
            if value.startswith(RELATIVE_BASE):
                raise _Unsure
            if len(context.iri_ok) < MAX_KEYS_PER_CONTEXT:
                context.iri_ok.add(value)
            return
        if value.startswith("_:") and len(value) > 2:
            return
        raise _Unsure

    def _vocab_iri(self, context: _Context, value: str) -> None:
        """A vocabulary-relative IRI (``@type`` values, ``@type: @vocab``)."""
        if value in context.vocab_ok:
            return
        self._check_vocab_iri(context, value)
        if len(context.vocab_ok) < MAX_KEYS_PER_CONTEXT:
            context.vocab_ok.add(value)

    @staticmethod
    def _check_vocab_iri(context: _Context, value: str) -> None:
        if value in context.terms:
            term = context.terms[value]
            if term is None or term.iri is None or term.iri.startswith("@"):
                raise _Unsure
            if not _IRI.match(term.iri) or term.iri.startswith(("_:", RELATIVE_BASE)):
                raise _Unsure
            return
        _absolute(context, value, vocab=True)


def _aliases(context: _Context, key: str, keyword: str) -> bool:
    """Whether ``key`` expands to ``keyword`` (itself, or a term aliasing it)."""
    if key == keyword:
        return True
    term = context.terms.get(key)
    return term is not None and term.iri == keyword


def _absolute(context: _Context, value: str, *, vocab: bool) -> str:
    """``value`` expanded when it is not a term: an absolute IRI as it stands, or
    ``@vocab`` + value; a compact IRI with a defined prefix or anything relative is
    "not sure"."""
    if _KEYWORD_LIKE.match(value) or value.startswith("@"):
        raise _Unsure
    prefix, colon, suffix = value.partition(":")
    if colon and prefix:
        if prefix == "_":
            raise _Unsure
        term = context.terms.get(prefix)
        if term is not None and term.prefix and not suffix.startswith("//"):
            raise _Unsure
        if _IRI.match(value) and not value.startswith(RELATIVE_BASE):
            return value
        raise _Unsure
    if vocab and context.vocab is not None:
        expanded = context.vocab + value
        if _IRI.match(expanded) and not expanded.startswith(("_:", RELATIVE_BASE)):
            return expanded
    raise _Unsure


class JsonLdChecker:
    """JSON-LD validity for a cryptosuite that does not expand (eddsa-jcs-2022).

    :meth:`check` raises exactly what the rdfc path raises for the document's JSON-LD
    (DataLossError, InvalidJsonLdError, ProtectedTermRedefinitionError,
    ContextNotAllowedError, ParsingError), or returns. ``fast_only`` counts are kept for
    the tests and benchmarks (``fast`` / ``full`` calls).
    """

    def __init__(self, loader: ContextUrls) -> None:
        self.loader = loader
        self.tables = TermTables(loader)
        self.fast = 0
        self.full = 0

    def check(self, document: Json) -> None:
        """Return when ``document`` is valid JSON-LD over the loader's contexts; raise the
        rdfc path's error otherwise."""
        if self.tables.accepts(document):
            self.fast += 1
            return
        self.full += 1
        check_json_ld(document, self.loader)


__all__ = ["ContextSource", "JsonLdChecker", "Term", "TermTables"]
