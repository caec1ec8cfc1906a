"""C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths, tile extents, entry bundles.

Tiles have height 8: the tile at tile level ``L`` and index ``N`` holds up to 256 hashes
from tree level ``8·L``, stored-hash indices ``256·N …``. In the stored-hash layout of
:mod:`identity.log.tree` a tile is therefore a slice of one stored level, read as is.

Paths are ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]``; ``N`` is written in
3-digit groups, all but the last prefixed with ``x`` (``1234067 → x001/x234/067``);
``W`` in 1..255 marks a partial tile. An entry bundle is each entry as a big-endian
uint16 length followed by its bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from identity.errors import MalformedValueError, NotFoundError
from identity.log.hashing import HASH_SIZE

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY_SIZE = 0xFFFF
ENTRIES = -1
"""The ``level`` of an entry bundle (``tile/entries/…``)."""

_PATH = re.compile(
    r"tile/(entries|0|[1-9][0-9]?)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?"
)


def encode_index(n: int) -> str:
    """tlog-tiles §Full tiles: ``N`` in zero-padded 3-digit groups, ``x``-prefixed but last."""
    if n < 0:
        raise MalformedValueError("a tile index is never negative")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


@dataclass(frozen=True, slots=True)
class Tile:
    """A tile reference: ``level`` (or :data:`ENTRIES`), ``index``, ``width`` (1..256)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not ENTRIES <= self.level < 64 or self.index < 0 or not 0 < self.width <= TILE_WIDTH:
            raise MalformedValueError("tile level, index or width out of range")

    @property
    def is_full(self) -> bool:
        """True for a full-width (256) tile: immutable, so cacheable forever (tlog-tiles)."""
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """The tlog-tiles path: ``tile/<L>/<N>`` or ``tile/entries/<N>``, ``.p/<W>`` if partial."""
        level = "entries" if self.level == ENTRIES else str(self.level)
        partial = "" if self.is_full else f".p/{self.width}"
        return f"tile/{level}/{encode_index(self.index)}{partial}"

    @property
    def tree_level(self) -> int:
        """The tree level the tile's hashes come from (0 for an entry bundle)."""
        return 0 if self.level == ENTRIES else TILE_HEIGHT * self.level

    @property
    def first(self) -> int:
        """Stored-hash (or entry) index of the tile's first element."""
        return self.index * TILE_WIDTH

    @classmethod
    def parse(cls, path: str) -> Tile:
        """Parse a tile path strictly (canonical index groups, no ``x000`` lead group)."""
        match = _PATH.fullmatch(path)
        if match is None:
            raise MalformedValueError("not a tlog-tiles path", path=path)
        level_text, index_text, width_text = match.groups()
        if index_text.startswith("x000"):
            raise MalformedValueError("non-canonical tile index", path=path)
        level = ENTRIES if level_text == "entries" else int(level_text)
        index = int(index_text.replace("x", "").replace("/", ""))
        width = TILE_WIDTH if width_text is None else int(width_text)
        if width_text is not None and width >= TILE_WIDTH:
            raise MalformedValueError("a partial tile width is 1..255", path=path)
        return cls(level, index, width)

    def check_within(self, tree_size: int) -> None:
        """Raise :class:`NotFoundError` unless the tile lies inside a tree of ``tree_size``."""
        available = tree_size >> self.tree_level
        if self.first + self.width > available:
            raise NotFoundError("tile is outside the tree", path=self.path, tree_size=tree_size)


def tiles_for(tree_size: int, level: int) -> list[Tile]:
    """The full tiles then the partial tile (if any) of ``level`` in a tree of ``tree_size``."""
    tree_level = 0 if level == ENTRIES else TILE_HEIGHT * level
    count = tree_size >> tree_level
    out = [Tile(level, n) for n in range(count // TILE_WIDTH)]
    if count % TILE_WIDTH:
        out.append(Tile(level, count // TILE_WIDTH, count % TILE_WIDTH))
    return out


def tile_levels(tree_size: int) -> list[int]:
    """Tile levels that hold at least one hash in a tree of ``tree_size``."""
    levels = []
    level = 0
    while tree_size >> (TILE_HEIGHT * level):
        levels.append(level)
        level += 1
    return levels


def split_hashes(data: bytes, width: int) -> list[bytes]:
    """The hashes of a hash tile; its length must be exactly ``width`` hashes."""
    if len(data) != width * HASH_SIZE:
        raise MalformedValueError("tile has the wrong length", expected=width * HASH_SIZE)
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """tlog-tiles §Log entries: each entry as uint16 big-endian length ‖ bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise MalformedValueError("a tiled log entry is at most 65535 bytes")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes, count: int) -> list[bytes]:
    """Split an entry bundle that must hold exactly ``count`` entries and nothing more."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise MalformedValueError("entry bundle ends inside a length prefix")
        size = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + size > len(data):
            raise MalformedValueError("entry bundle ends inside an entry")
        entries.append(data[at + 2 : at + 2 + size])
        at += 2 + size
    if len(entries) != count:
        raise MalformedValueError("entry bundle has the wrong number of entries", got=len(entries))
    return entries
