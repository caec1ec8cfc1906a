"""The shards of the log over HTTP (docs/log-shards.md).

``GET /log/shards`` lists them; ``/log/{shard}/checkpoint``, ``/log/{shard}/tile/…``,
``/log/{shard}/entries/{index}`` and ``/log/{shard}/proofs/…`` are the read API of
``/log/…`` (the same handlers, service/routers/log.py) for one shard: the shard's URL
prefix is its origin's path (``identity.example/log/2026`` is served at
``/log/2026/``). An unknown shard is a 404 problem of type ``…/problems/unknown-log-shard``.
Included after the unsharded log's routes, so ``/log/checkpoint`` etc. keep their meaning.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from identity.errors import NotFoundError
from identity.log.reader import LogReader
from service.log_shards import ShardSet
from service.routers.log import log_router


def get_shards(request: Request) -> ShardSet:
    """The app's :class:`ShardSet` (``app.state.log_shards``, built at start-up)."""
    shards: ShardSet = request.app.state.log_shards
    return shards


def shard_reader(shard: str, request: Request) -> LogReader:
    """The reader of the shard named in the path; :class:`UnknownShardError` if none."""
    return get_shards(request).get(shard).reader


def _listing(shards: ShardSet) -> list[dict[str, Any]]:
    out = []
    for record in shards.records():
        served = shards.get(record.name)
        try:
            signed = served.reader.checkpoint().checkpoint
            size: int | None = signed.size
            root: str | None = signed.root.hex()
        except NotFoundError:
            size = root = None
        out.append(
            {
                "name": record.name,
                "origin": record.origin,
                "frozen": served.record.frozen,
                "treeSize": size,
                "root": root,
                "vkey": served.verifier.vkey,
                "prefix": f"/log/{record.name}/",
                "servedFrom": served.source,
            }
        )
    return out


def shards_router() -> APIRouter:
    """The shard list and, under ``/log/{shard}``, every read route of the log."""
    router = APIRouter(tags=["log"])

    @router.get("/log/shards")
    def list_shards(request: Request) -> JSONResponse:
        """Every shard, oldest first: origin, frozen or not, size, root, verifier key."""
        body = {"shards": _listing(get_shards(request))}
        return JSONResponse(body, headers={"Cache-Control": "public, max-age=5"})

    for route in log_router(shard_reader).routes:
        assert isinstance(route, APIRoute)
        router.add_api_route(
            "/log/{shard}" + route.path.removeprefix("/log"),
            route.endpoint,
            methods=sorted(route.methods or ()),
            name="shard_" + route.name,
            tags=["log"],
        )
    return router
