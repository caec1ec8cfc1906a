"""One resolver over every DID method this service understands."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from identity.dids import DidResolver, Resolution, VerificationMethod, parse_did
from identity.errors import InvalidDidError


class MethodResolver:
    """Dispatches on the DID method name (``did:<method>:…``)."""

    def __init__(self, methods: Mapping[str, DidResolver]) -> None:
        self.methods = dict(methods)

    def _for(self, did: str) -> DidResolver:
        method, _ = parse_did(did)
        resolver = self.methods.get(method)
        if resolver is None:
            raise InvalidDidError(
                f"DID method {method!r} is not supported",
                method=method,
                supported=sorted(self.methods),
            )
        return resolver

    def resolve(self, did: str) -> Resolution:
        """Resolve with the resolver of ``did``'s method; an unsupported method is
        :class:`InvalidDidError` listing the supported ones (``supported``)."""
        return self._for(did).resolve(did)

    def verification_method(self, url: str, at: datetime | None = None) -> VerificationMethod:
        """Dereference ``url`` with the resolver of its DID's method, passing ``at`` on; a
        non-string URL or an unsupported method is :class:`InvalidDidError`."""
        if not isinstance(url, str):
            raise InvalidDidError("verificationMethod must be a DID URL string")
        did = url.split("#", 1)[0]
        return self._for(did).verification_method(url, at)
