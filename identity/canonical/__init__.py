"""Canonical forms: the only caller of ``rfc8785`` (JCS, RFC 8785) and of pyld (RDFC-1.0).

:func:`rdfc` is RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD, with contexts only
from an offline :class:`ContextSource` and safe-mode data-loss detection.

Also the strict JSON reader used at every trust boundary: I-JSON (RFC 7493) -- no
duplicate member names, no non-finite numbers, integers within ±(2**53 - 1) -- plus a
nesting-depth limit so a hostile body cannot exhaust the stack.

The package holds two modules; import from ``identity.canonical`` itself:

- :mod:`identity.canonical.ijson` -- strict I-JSON parsing and JCS (``rfc8785``), each
  with a C fast path proved equal to its reference;
- :mod:`identity.canonical.rdf` -- RDFC-1.0 of JSON-LD (pyld), the reference;
- :mod:`identity.canonical.quads` -- its fast path (``Rdfc``), proved equal to it.
"""

from __future__ import annotations

from identity.canonical.ijson import (
    DEFAULT_MAX_DEPTH,
    MAX_SAFE_INTEGER,
    check_depth,
    jcs,
    jcs_reference,
    json_copy,
    parse_json,
    parse_json_reference,
)
from identity.canonical.members import CanonicalObject
from identity.canonical.rdf import (
    DEFAULT_MAX_WORK,
    MAX_PERMUTED_NODES,
    ContextSource,
    rdfc,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_WORK",
    "MAX_PERMUTED_NODES",
    "MAX_SAFE_INTEGER",
    "CanonicalObject",
    "ContextSource",
    "check_depth",
    "jcs",
    "jcs_reference",
    "json_copy",
    "parse_json",
    "parse_json_reference",
    "rdfc",
]
