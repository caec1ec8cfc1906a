"""RDF quads of ordinary JSON-LD without pyld's general expansion: the rdfc fast path.

:func:`identity.canonical.rdf.rdfc` (the reference) runs pyld's whole pipeline: safe-mode
expansion (JSON-LD 1.1 API §5.1), node-map generation (§7.2) and Deserialize JSON-LD to
RDF (§8.1), then RDFC-1.0. For an eddsa-rdfc-2022 credential most of that time is the
general machinery, not the canonicalization.

:class:`QuadTables` walks the document against the term tables of
:class:`identity.canonical.terms.TermTables` -- the same walk, the same acceptance rules
(anything outside the modelled subset is "not sure") -- and, while it walks, writes the
RDF quads pyld's toRdf would write, in pyld's own quad form. What it writes is made by
pyld's own code wherever a choice could differ: scalar values become RDF terms through
``JsonLdProcessor._object_to_rdf`` (§8.6 Object to RDF Conversion: canonical doubles,
booleans, integers, ``@json``), and the quads are canonicalized by the same
``URDNA2015`` class, so the result is the reference's canonical N-Quads, byte for byte.
The walk adds only what it models itself: which subject each value belongs to, fresh
blank nodes for embedded nodes, and the IRIs that term definitions and ``@vocab`` give.

It answers ``None`` ("not sure": the caller takes the reference path) for everything
outside that subset, and also when one quad would be written twice (pyld's node map would
merge it; a dataset is a set) or a default language or direction is in play. Proof of
equality: ``tests/proofs/test_rdfc_fast_path.py`` (every vector, the service's credential
shapes, hypothesis-generated credentials, each compared with the reference's output).
"""

from __future__ import annotations

from typing import Any, cast

from pyld import jsonld as pyld_jsonld
from pyld.identifier_issuer import IdentifierIssuer
from pyld.nquads import serialize_nquad

from identity.canonical.rdf import DEFAULT_MAX_WORK, ContextSource, canonicalize, rdfc
from identity.canonical.terms import (
    _ID,
    _IRI,
    _SKIP,
    _VALUE,
    IRI,
    LITERAL,
    VOCAB,
    ContextUrls,
    Term,
    TermTables,
    _absolute,
    _Context,
    _Unsure,
)

Json = dict[str, Any]
Quad = dict[str, dict[str, str]]

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_OBJECT_OPTIONS = {"rdfDirection": None, "processingMode": "json-ld-1.1"}
_SCALAR_TYPES = (None, "@none", "@id", "@vocab")


class _Quads:
    """The quads of one document: pyld's form, blank nodes labelled ``_:f<n>``."""

    __slots__ = ("blank", "count", "processor", "quads", "seen")

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        self.quads: list[Quad] = []
        self.seen: set[tuple[str, str, str, str, str, str]] = set()
        self.blank: dict[str, str] = {}
        self.count = 0

    def new_blank(self) -> str:
        """A fresh label, never one a document chose (pyld relabels those too)."""
        self.count += 1
        return f"_:f{self.count}"

    def label(self, document_label: str) -> str:
        """The label for a document's own blank node identifier."""
        label = self.blank.get(document_label)
        if label is None:
            label = self.blank[document_label] = self.new_blank()
        return label

    def add(self, subject: str, predicate: str, obj: dict[str, str]) -> None:
        key = (
            subject,
            predicate,
            obj["type"],
            obj["value"],
            obj.get("datatype", ""),
            obj.get("language", ""),
        )
        if key in self.seen:
            raise _Unsure  # pyld's node map would merge it: leave it to the reference
        self.seen.add(key)
        self.quads.append(
            {
                "subject": _node_term(subject),
                "predicate": {"type": "IRI", "value": predicate},
                "object": dict(obj),
            }
        )


def _node_term(value: str) -> dict[str, str]:
    return {"type": "blank node" if value.startswith("_:") else "IRI", "value": value}


class QuadTables(TermTables):
    """:class:`TermTables` whose walk also writes the document's RDF quads."""

    def quads(self, document: Any) -> list[Quad] | None:
        """pyld's toRdf quads of ``document`` (default graph), or None for "not sure".

        Only for a document the walk accepts, so never for one the reference refuses."""
        walked = self.walk(document)
        return None if walked is None else walked[0]

    def walk(self, document: Any) -> tuple[list[Quad], int] | None:
        """:meth:`quads` and an upper bound on the number of blank nodes in them."""
        if not isinstance(document, dict):
            return None
        out = _Quads(pyld_jsonld.JsonLdProcessor())
        try:
            raw = document.get("@context")
            urls = (raw,) if isinstance(raw, str) else raw
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                return None
            self._emit_node(self._top_context(tuple(urls)), document, out)
        except (_Unsure, TypeError, ValueError, AttributeError, KeyError, RecursionError):
            return None
        return out.quads, out.count

    # -- the walk of TermTables._node / _value / _object, writing quads -------------------

    def _emit_node(self, context: _Context, element: Json, out: _Quads) -> str:
        """A node object's quads; returns its subject (IRI or blank node label)."""
        type_key = None
        for key in element:
            if key in context.type_aliases:
                if type_key is not None:
                    raise _Unsure
                type_key = key
        outer = context
        if type_key is not None:
            context = self._typed(context, element[type_key])
        subject = None
        plans = []
        for key, value in element.items():
            plan = context.plans.get(key) or self._plan(context, key)
            if plan[0] is _ID:
                if subject is not None or not isinstance(value, str):
                    raise _Unsure
                self._iri(context, value)
                subject = out.label(value) if value.startswith("_:") else value
            elif plan[0] is _SKIP and key not in ("@context", type_key):
                raise _Unsure  # an @json literal: not modelled
            plans.append((plan, key, value))
        if subject is None:
            subject = out.new_blank()
        if type_key is not None:
            types = element[type_key]
            for name in (types,) if isinstance(types, str) else types:
                out.add(subject, RDF_TYPE, {"type": "IRI", "value": _vocab(outer, name)})
        for plan, key, value in plans:
            if plan[0] is _VALUE:
                predicate = self._key(context, key)
                if predicate.startswith("_:"):
                    raise _Unsure
                for obj in self._emit_value(plan[1], plan[2], key, value, out):
                    out.add(subject, predicate, obj)
        return subject

    def _emit_value(
        self, context: _Context, term: Term | None, prop: str, value: Any, out: _Quads
    ) -> list[dict[str, str]]:
        """The RDF objects of one property value (a list gives several)."""
        if term is not None and (term.containers - {"@set"} or term.type == "@json"):
            raise _Unsure  # @graph containers, @json literals: not modelled
        if isinstance(value, list):
            objects = []
            for member in value:
                objects.extend(self._emit_value(context, term, prop, member, out))
            return objects
        if value is None:
            return []
        if isinstance(value, dict):
            return [self._emit_object(context, term, prop, value, out)]
        if isinstance(value, str):
            strings = LITERAL if term is None else term.strings
            if strings is IRI:
                self._iri(context, value)
                label = out.label(value) if value.startswith("_:") else value
                return [_node_term(label)]
            if strings is VOCAB:
                self._vocab_iri(context, value)
                return [_node_term(_vocab(context, value))]
            if strings is not LITERAL:
                raise _Unsure
        elif term is not None and not term.scalars_ok:
            raise _Unsure
        coerced = None if term is None else term.type
        item: Json = {"@value": value}
        if coerced not in _SCALAR_TYPES:
            item["@type"] = coerced
        elif isinstance(value, str):
            _no_default_language(context, prop)
        return [self._literal(item, out)]

    def _emit_object(
        self, context: _Context, term: Term | None, prop: str, element: Json, out: _Quads
    ) -> dict[str, str]:
        """TermTables._object, writing: a value object's literal, or a node's subject."""
        if "@context" in element:
            raise _Unsure
        is_value = "@value" in element
        if context.previous is not None and not (
            (is_value and len(element) <= 2)
            or (len(element) == 1 and next(iter(element)) in context.id_aliases)
        ):
            context = context.previous
        if term is not None and term.has_context:
            if term.context is None:
                raise _Unsure
            context = context.derived.get(("property", prop)) or self._derive(
                context, "property", prop, term.context
            )
        if not is_value:
            return _node_term(self._emit_node(context, element, out))
        self._value_object(context, term, element)
        value: Json = {"@value": element["@value"]}
        if "@type" in element:
            if element["@type"] == "@json":
                raise _Unsure
            value["@type"] = _vocab(context, element["@type"])
        if "@language" in element:
            value["@language"] = element["@language"].lower()
        if "@direction" in element:
            value["@direction"] = element["@direction"]
        return self._literal(value, out)

    @staticmethod
    def _literal(item: Json, out: _Quads) -> dict[str, str]:
        """JSON-LD 1.1 API §8.6 by pyld's own code."""
        obj: dict[str, str] | None = out.processor._object_to_rdf(
            item, IdentifierIssuer("_:unused"), [], _OBJECT_OPTIONS
        )
        if obj is None or obj["type"] != "literal":
            raise _Unsure
        return obj


def _vocab(context: _Context, value: str) -> str:
    """A vocabulary-relative IRI as pyld expands it (the walk has checked it)."""
    term = context.terms.get(value)
    if value in context.terms:
        if term is None or term.iri is None or not _IRI.match(term.iri):
            raise _Unsure
        return term.iri
    return _absolute(context, value, vocab=True)


def _no_default_language(context: _Context, prop: str) -> None:
    """A plain string whose term or context sets a language or direction: not modelled."""
    raw = context.raw
    definition = raw["mappings"].get(prop)
    if "@language" in raw or "@direction" in raw:
        raise _Unsure
    if definition is not None and ("@language" in definition or "@direction" in definition):
        raise _Unsure


class Rdfc:
    """RDFC-1.0 canonical N-Quads of JSON-LD over one loader's contexts: the fast path
    (:class:`QuadTables`) when it is sure, else the reference :func:`rdfc`. Both end in
    the same :func:`canonicalize`, so the two give the same string (proved in
    ``tests/proofs/test_rdfc_fast_path.py``); refusals always come from the reference.
    ``fast`` / ``full`` count the calls each path answered (for tests and benchmarks)."""

    def __init__(
        self, loader: ContextSource, *, max_work: int = DEFAULT_MAX_WORK, fast: bool = True
    ) -> None:
        self.loader = loader
        self.max_work = max_work
        urls = getattr(loader, "urls", None)
        usable = fast and isinstance(urls, frozenset)  # fast=False: measuring the reference
        self.tables = QuadTables(cast(ContextUrls, loader)) if usable else None
        self.fast = 0
        self.full = 0

    def __call__(self, document: Any) -> str:
        """:func:`rdfc` of ``document``; the same string or the same error."""
        walked = None if self.tables is None else self.tables.walk(document)
        if walked is None:
            self.full += 1
            return rdfc(document, self.loader, max_work=self.max_work)
        self.fast += 1
        quads, blank_nodes = walked
        if blank_nodes > 1:
            return canonicalize({"@default": quads}, max_work=self.max_work)
        return _simple(quads)


def _simple(quads: list[Quad]) -> str:
    """RDFC-1.0 of quads with at most one blank node: §4.4.3 step 5 issues that node's
    (necessarily unique) first-degree hash the first canonical identifier ``_:c14n0``;
    step 7 relabels, serializes (pyld's ``serialize_nquad``, as the reference) and sorts.
    No Hash N-Degree Quads, so no work is spent."""
    lines = []
    for quad in quads:
        for component in (quad["subject"], quad["object"]):
            if component["type"] == "blank node":
                component["value"] = "_:c14n0"
        lines.append(serialize_nquad(quad))
    lines.sort()
    return "".join(lines)


__all__ = ["QuadTables", "Rdfc"]
