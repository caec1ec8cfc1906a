"""The pages' two languages: one catalogue per language, chosen from the browser's.

``?lang=`` (a link on every page) sets a ``lang`` cookie; otherwise the cookie, otherwise
the best match in ``Accept-Language`` (RFC 9110 §12.5.4), otherwise English.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh-CN")
DEFAULT = "en"
CATALOGUES = Path(__file__).parent / "i18n"


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every text of the pages in ``language`` (one of :data:`LANGUAGES`)."""
    data: dict[str, str] = json.loads((CATALOGUES / f"{language}.json").read_text("utf-8"))
    return data


def supported(tag: str | None) -> str | None:
    """The supported language a tag asks for (``zh``, ``zh-Hans-CN`` -> ``zh-CN``)."""
    if not tag:
        return None
    primary = tag.strip().lower().split("-")[0]
    return {"en": "en", "zh": "zh-CN"}.get(primary)


def from_accept_language(header: str | None) -> str | None:
    """The supported language with the highest q-value in ``Accept-Language``."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = supported(tag)
        if language and quality > 0 and (best is None or (quality, -position) > best[:2]):
            best = (quality, -position, language)
    return best[2] if best else None


def choose(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: explicit choice, then remembered choice, then the browser's."""
    for value in (query, cookie):
        if value in LANGUAGES:
            return value
    return from_accept_language(accept_language) or DEFAULT
