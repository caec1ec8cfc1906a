"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD: the only caller of pyld.

:func:`rdfc` canonicalizes with contexts only from an offline :class:`ContextSource`
and safe-mode data-loss detection.

pyld expands the document (JSON-LD 1.1 API §4.1) with contexts from a ContextSource
only, converts it to RDF (§4.6) and canonicalizes with URDNA2015, which is RDFC-1.0.
Expansion runs in "safe mode" (VC-DI §4.x "DATA_LOSS_DETECTION"): whatever JSON-LD
would silently drop -- an undefined term, a relative IRI, a relative @type -- raises
DataLossError instead of changing what is signed.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections import OrderedDict
from typing import Any, Protocol

from pyld import ContextResolver
from pyld import jsonld as pyld_jsonld
from pyld.canon import URDNA2015

from identity.errors import (
    CanonicalizationLimitError,
    ContextNotAllowedError,
    DataLossError,
    IdentityError,
    InvalidJsonLdError,
    ParsingError,
    ProtectedTermRedefinitionError,
)

DEFAULT_MAX_WORK = 10_000
"""RDFC-1.0 §4.4 asks implementations to bound the work of Hash N-Degree Quads: one unit
per call and per permutation tried. Ordinary credentials spend 0 (every blank node has a
unique first-degree hash); crafted "poison" graphs hit the limit in milliseconds."""

MAX_PERMUTED_NODES = 8  # 8! = 40,320 permutations: over any sane budget already

# Relative IRIs are resolved against this base so that they can be *seen*: pyld would
# otherwise resolve them against http://example.org/base/ or drop them. ".invalid" is
# reserved (RFC 6761 §6.4), so no real IRI starts with it.
_RELATIVE_BASE = RELATIVE_BASE = "https://relative-iri.invalid/"
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTEXT_CACHE_SIZE = 256


class ContextSource(Protocol):
    """Where JSON-LD contexts come from (``identity.jsonld.ContextLoader``)."""

    def load(self, url: str) -> dict[str, Any]:
        """A fresh copy of the context document at ``url``; raise ContextNotAllowedError."""
        ...


def context_options(loader: ContextSource) -> dict[str, Any]:
    """pyld options that load contexts only from ``loader`` (this thread's caches)."""
    resolver = _context_resolver(loader)
    return {
        "base": _RELATIVE_BASE,
        "documentLoader": resolver.document_loader,
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
        "contextResolver": resolver,
        "isFrame": False,
        "keepFreeFloatingNodes": False,
        "extractAllScripts": False,
    }


def new_processor() -> Any:
    """The safe-mode JSON-LD processor the rdfc path expands with."""
    return _SafeProcessor()


def check_json_ld(document: Any, loader: ContextSource) -> None:
    """The JSON-LD processing of :func:`rdfc` -- safe-mode expansion and toRdf -- without
    the canonicalization: return when ``document`` is valid JSON-LD over ``loader``'s
    contexts, else raise what :func:`rdfc` raises for it."""
    if not isinstance(document, dict):
        raise ParsingError("a JSON-LD document must be a JSON object")
    try:
        _SafeProcessor().to_rdf(document, context_options(loader))
    except IdentityError:
        raise
    except (
        pyld_jsonld.JsonLdError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as exc:
        raise _translated(exc) from exc


def rdfc(document: Any, loader: ContextSource, *, max_work: int = DEFAULT_MAX_WORK) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, one quad per line, each ending
    in ``"\\n"`` (so the string ends with a newline unless it is empty).

    Raises DataLossError, ContextNotAllowedError, ProtectedTermRedefinitionError,
    InvalidJsonLdError or CanonicalizationLimitError -- never a pyld exception.
    """
    if not isinstance(document, dict):
        raise ParsingError("a JSON-LD document must be a JSON object")
    resolver = _context_resolver(loader)
    options = {
        "base": _RELATIVE_BASE,
        "documentLoader": resolver.document_loader,
        "processingMode": "json-ld-1.1",
        "produceGeneralizedRdf": False,
        "contextResolver": resolver,
    }
    try:
        dataset = _SafeProcessor().to_rdf(document, options)
        canonical = canonicalize(dataset, max_work=max_work)
    except IdentityError:
        raise
    except (
        pyld_jsonld.JsonLdError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as exc:
        raise _translated(exc) from exc
    return canonical


def canonicalize(dataset: dict[str, list[Any]], *, max_work: int = DEFAULT_MAX_WORK) -> str:
    """RDFC-1.0 (pyld's URDNA2015, with the work limit) of a dataset in pyld's form
    (``{"@default": [quad, ...], ...}``): canonical N-Quads, sorted, one per line.
    The quads are relabelled in place. Raises CanonicalizationLimitError."""
    result: str = _BoundedUrdna2015(max_work).main(dataset, {"format": "application/n-quads"})
    return result


class _SafeProcessor(pyld_jsonld.JsonLdProcessor):  # type: ignore[misc]
    """Expansion that refuses to lose data (the checks of jsonld.js "safe mode")."""

    def __init__(self) -> None:
        super().__init__(on_property_dropped=_property_dropped)

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        _require_absolute_iris(expanded)
        return expanded

    def _process_context(self, active_ctx: Any, local_ctx: Any, options: Any, **kw: Any) -> Any:
        # Performance only. For a type-scoped context (propagate=False) pyld clones the
        # active context without an id, so its processed-context cache never hits and the
        # scoped context is re-processed on every request. The clone is a pure function
        # of the active context, so give it an id derived from that context's id.
        first = local_ctx[0] if isinstance(local_ctx, list) and local_ctx else local_ctx
        if (
            kw.get("propagate", True) is False
            and not active_ctx.get("previousContext")
            and "_uuid" in active_ctx
            and isinstance(first, dict)
            and "@propagate" not in first
        ):
            clone = self._clone_active_context(active_ctx)
            clone["previousContext"] = active_ctx
            clone["_uuid"] = active_ctx["_uuid"] + "/non-propagated"
            active_ctx = clone
        return super()._process_context(active_ctx, local_ctx, options, **kw)


def _property_dropped(expanded: str | None) -> None:
    name = (expanded or "").removeprefix(_RELATIVE_BASE)
    raise DataLossError(
        f"term {name!r} is not defined by the document's @context"
        if name
        else "a property is not defined by the document's @context (or is mapped to null)",
        term=name,
    )


def _require_absolute_iris(expanded: Any) -> None:
    """Every @id, @type and property of the expanded form must be an absolute IRI (or a
    blank node where RDF allows one); a relative one would be dropped by toRdf (§8.3)."""
    stack = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "@value" in item:
            datatype = item.get("@type")
            if datatype is not None and datatype != "@json":
                _check_iri(datatype, "@type of a value", blank=False)
            continue
        for key, value in item.items():
            if key == "@id":
                _check_iri(value, "@id", blank=True)
            elif key == "@type":
                for type_ in value if isinstance(value, list) else [value]:
                    _check_iri(type_, "@type", blank=True)
            elif key in ("@index", "@language", "@direction"):
                continue
            else:
                if not key.startswith("@"):
                    _check_iri(key, "property", blank=False)
                stack.append(value)


def _check_iri(value: Any, role: str, *, blank: bool) -> None:
    if isinstance(value, str):
        if blank and value.startswith("_:"):
            return
        if _ABSOLUTE_IRI.match(value) and not value.startswith(_RELATIVE_BASE):
            return
        value = value.removeprefix(_RELATIVE_BASE)
    raise DataLossError(
        f"{role} {value!r} is not an absolute IRI and would be dropped", iri=str(value)
    )


class _BoundedUrdna2015(URDNA2015):  # type: ignore[misc]
    """pyld's URDNA2015 (= RDFC-1.0) with a work budget against blank-node poisoning."""

    def __init__(self, max_work: int) -> None:
        super().__init__()
        self._budget = max_work

    def _spend(self, units: int) -> None:
        self._budget -= units
        if self._budget < 0:
            raise CanonicalizationLimitError(
                "blank nodes too alike: canonicalization would exceed its work limit"
            )

    def modify_first_degree_component(self, id_: str, component: Any, key: str) -> Any:
        """RDFC-1.0 §4.6.3 step 3.1.1 as pyld writes it, with a flat copy where pyld
        deep-copies: a component is a flat dict of strings, so the two are equal."""
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._spend(1)
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        for nodes in related.values():
            if len(nodes) > MAX_PERMUTED_NODES:
                self._spend(self._budget + 1)
            self._spend(math.factorial(len(nodes)))
        return related


class _LruCache:
    """The ``get`` / ``[]=`` mapping pyld's ContextResolver shares between operations."""

    def __init__(self, maxsize: int) -> None:
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._maxsize = maxsize

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self._data:
            return default
        self._data.move_to_end(key)
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._maxsize:
            self._data.popitem(last=False)


# Context caches, per loader (an operator's contexts never leak into another loader) and
# per thread (pyld's caches are not thread-safe).
_local = threading.local()
_SCOPED_LIMIT = 4096


class _ContextCache:
    """pyld's shared resolved-context cache, plus the scoped contexts inside loaded
    context documents, found by identity: pyld would key each by its JCS text, and
    re-serializing the large VC scoped contexts on every request costs a quarter of it."""

    def __init__(self) -> None:
        self.resolved = _LruCache(_CONTEXT_CACHE_SIZE)
        self.scoped: dict[int, list[Any]] = {}

    def register_scoped(self, document: Any) -> None:
        if len(self.scoped) > _SCOPED_LIMIT:
            self.scoped.clear()
        stack = [document]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                scoped = item.get("@context")
                if isinstance(scoped, dict) and item is not document:
                    self.scoped[id(scoped)] = [scoped, None]  # the object, its resolution
                stack.extend(item.values())


class _Resolver(ContextResolver):  # type: ignore[misc]
    def __init__(self, cache: _ContextCache, load: Any) -> None:
        super().__init__(cache.resolved, load)
        self._scoped = cache.scoped

    def resolve(self, active_ctx: Any, context: Any, base: Any, cycles: Any = None) -> Any:
        entry = self._scoped.get(id(context))
        if entry is None or entry[0] is not context:
            return super().resolve(active_ctx, context, base, cycles)
        if entry[1] is None:
            entry[1] = super().resolve(active_ctx, context, base, cycles)
        return entry[1]


def _context_resolver(loader: ContextSource) -> _Resolver:
    caches: weakref.WeakKeyDictionary[ContextSource, _ContextCache] | None
    caches = getattr(_local, "caches", None)
    if caches is None:
        caches = _local.caches = weakref.WeakKeyDictionary()
    cache = caches.get(loader)
    if cache is None:
        cache = caches[loader] = _ContextCache()

    def load(url: str, options: Any = None) -> dict[str, Any]:
        document = loader.load(url)
        cache.register_scoped(document)
        # tag "static": pyld keeps the resolved context in the shared cache.
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
            "tag": "static",
        }

    return _Resolver(cache, load)


def _translated(exc: BaseException) -> IdentityError:
    """The one place pyld's exceptions become identity errors."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for cause in chain:
        if isinstance(cause, IdentityError):
            return type(cause)(cause.detail, **cause.data)
    if any(isinstance(c, RecursionError) for c in chain):
        return ParsingError("JSON-LD document nests too deeply")
    codes = [c for c in chain if isinstance(c, pyld_jsonld.JsonLdError) and c.code]
    innermost = codes[-1] if codes else None
    code = innermost.code if innermost is not None else None
    message = str(innermost.args[0]) if innermost is not None else str(chain[-1])
    if code == "protected term redefinition":
        return ProtectedTermRedefinitionError(f"JSON-LD: {message}", code=code)
    if code in ("loading remote context failed", "loading document failed"):
        return ContextNotAllowedError(f"JSON-LD context could not be loaded: {message}", code=code)
    return InvalidJsonLdError(f"invalid JSON-LD: {message}", code=code or "invalid JSON-LD")
