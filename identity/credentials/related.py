"""Integrity of related resources (VC DM 2.0 §5.3) for the contexts this service uses.

A ``relatedResource`` entry names a resource by ``id`` and pins its bytes with
``digestSRI`` and/or ``digestMultibase``. §5.3 says a mismatch MUST raise an error. The
service never dereferences resources at run time, so the resources it can check are
exactly the JSON-LD contexts it processes documents with -- its ``ContextLoader``'s
bundled and operator contexts -- and it checks them against those bytes (for the v2
context, the digest VC DM 2.0 publishes for the file the bundled copy is equal to; see
``identity/contexts/README.md``). Any other resource is reported as not dereferenced.

Note for conformance runs: the W3C VC 2.0 test suite's "valid" relatedResource digests for
``https://www.w3.org/ns/credentials/v2`` are those of a 2024 draft of that context, not of
the Recommendation's file, so its one positive relatedResource test fails here by design:
the check follows the specification, not the suite (see docs/jsonld-checks.md).
"""

from __future__ import annotations

from typing import Any, Protocol

from identity.errors import MalformedValueError

Json = dict[str, Any]


class RelatedResourceSource(Protocol):
    """What the check needs of ``identity.jsonld.ContextLoader``."""

    @property
    def urls(self) -> frozenset[str]:
        """The context URLs served (and therefore checkable)."""
        ...

    def check_related_resource(self, resource: Json) -> None:
        """Raise RelatedResourceError when the entry's digests do not match."""
        ...


def check_related_resources(document: Json, contexts: RelatedResourceSource) -> Json | None:
    """Check every ``relatedResource`` entry whose ``id`` is a context the service uses;
    raise :class:`~identity.errors.RelatedResourceError` on the first mismatch
    (``MalformedValueError`` for a digest that cannot be read). ``None`` when the
    document has no ``relatedResource``; otherwise which ids were checked and which
    were not dereferenced."""
    raw = document.get("relatedResource")
    if raw is None:
        return None
    checked: list[str] = []
    unchecked: list[str] = []
    served = contexts.urls
    for item in raw if isinstance(raw, list) else [raw]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise MalformedValueError("relatedResource entries need an id", field="relatedResource")
        if item["id"] in served:
            contexts.check_related_resource(item)
            checked.append(item["id"])
        else:
            unchecked.append(item["id"])
    return {"checked": checked, "notDereferenced": unchecked}
