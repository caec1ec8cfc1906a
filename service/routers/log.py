"""Read-only HTTP API of the transparency log (C2SP tlog-tiles read path + RFC 9162 proofs).

``log_router(get_log)`` builds the router; ``get_log`` is a FastAPI dependency returning
a :class:`~identity.log.reader.LogReader`. Errors are raised as ``identity.errors``
classes and turned into problem documents centrally.
"""

import base64
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from identity.errors import MalformedValueError, RangeError
from identity.log.hashing import parse_hex_hash
from identity.log.reader import LogReader

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=5"
_UINT = re.compile(r"0|[1-9][0-9]{0,19}")


def _uint(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not _UINT.fullmatch(value):
        raise MalformedValueError(f"{name} must be a non-negative decimal integer", field=name)
    number = int(value)
    if number >= 2**63:
        raise RangeError(f"{name} is too large", field=name)
    return number


def _index(value: str, name: str) -> int:
    number = _uint(value, name)
    assert number is not None
    return number


def log_router(get_log: Callable[..., LogReader]) -> APIRouter:
    """The ``/log`` router over the :class:`LogReader` that ``get_log`` gives each request (a
    dependency, so the tests and each shard can bring their own)."""
    router = APIRouter(prefix="/log", tags=["log"])
    Log = Annotated[LogReader, Depends(get_log)]

    @router.get("/checkpoint")
    def checkpoint(log: Log) -> Response:
        """Public: the latest signed checkpoint, as a C2SP signed note (origin, tree size, base64
        root hash, then signatures). Short-lived cache."""
        note = log.checkpoint().note
        headers = {"Cache-Control": SHORT_LIVED}
        return Response(note, media_type="text/plain; charset=utf-8", headers=headers)

    @router.get("/entries/{index}")
    def entry(index: str, log: Log) -> dict[str, Any]:
        """Public: the integrated entry at ``index``, base64, with its leaf hash (hex, RFC 9162
        §2.1.1); 404 beyond the latest checkpoint."""
        number = _index(index, "index")
        data = log.entry(number)
        proof = log.inclusion_proof(number)
        return {
            "index": number,
            "leaf_hash": proof.leaf_hash.hex(),
            "entry": base64.b64encode(data).decode(),
        }

    @router.get("/proofs/inclusion")
    def inclusion(
        log: Log,
        leaf_hash: str | None = None,
        index: str | None = None,
        tree_size: str | None = None,
    ) -> dict[str, Any]:
        """Public: an RFC 9162 §2.1.3 inclusion proof for one leaf, named by ``leaf_hash`` (hex)
        or ``index`` (exactly one), in the tree of ``tree_size`` leaves (default: the latest
        checkpoint's), with that tree's root; all hashes hex."""
        size = _uint(tree_size, "tree_size")
        if (leaf_hash is None) == (index is None):
            raise MalformedValueError("give exactly one of leaf_hash and index")
        if leaf_hash is not None:
            number = log.leaf_index(parse_hex_hash(leaf_hash, "leaf_hash"), size)
        else:
            number = _index(str(index), "index")
        proof = log.inclusion_proof(number, size)
        return {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "leaf_hash": proof.leaf_hash.hex(),
            "root": log.root(proof.tree_size).hex(),
            "path": [h.hex() for h in proof.path],
        }

    @router.get("/proofs/consistency")
    def consistency(log: Log, first: str, second: str | None = None) -> dict[str, Any]:
        """Public: an RFC 9162 §2.1.4 consistency proof from the tree of ``first`` leaves to that
        of ``second`` (default: the latest checkpoint's size), with both roots; hashes hex.
        ``first`` must be at least 1 and at most ``second``."""
        size1, size2 = _index(first, "first"), _uint(second, "second")
        if size2 is not None and size1 > size2:
            raise RangeError("first must not exceed second", first=size1, second=size2)
        path = log.consistency_proof(size1, size2)
        size2 = log.checkpoint().checkpoint.size if size2 is None else size2
        return {
            "first": size1,
            "second": size2,
            "first_root": log.root(size1).hex(),
            "second_root": log.root(size2).hex(),
            "path": [h.hex() for h in path],
        }

    @router.get("/tile/{path:path}")
    def tile(path: str, log: Log) -> Response:
        """Public: a C2SP tlog-tiles hash tile, partial tile or entry bundle
        (``tile/<L>/<N>[.p/<W>]``, ``tile/entries/…``) of the latest checkpoint's tree. Full
        tiles never change and are cached for a year; partial ones briefly."""
        data = log.tile("tile/" + path)
        headers = {"Cache-Control": IMMUTABLE if data.immutable else SHORT_LIVED}
        return Response(data.data, media_type="application/octet-stream", headers=headers)

    return router
