"""Pushed Authorization Requests (RFC 9126) for the authorization code flow.

``POST /oid4vci/par`` takes the Authorization Request's parameters (form-encoded, the
same checks as ``GET /oid4vci/authorize``, errors as OAuth JSON, §2.3) and stores it as
a ``pushed`` :class:`~identity.oid4vci.authorization.Authorization`; the answer is
``request_uri`` = ``urn:ietf:params:oauth:request_uri:<id>`` and ``expires_in`` (§2.2).
``GET /oid4vci/authorize?client_id=…&request_uri=…`` opens it once (compare-and-set
``pushed`` -> ``pending``, §4: one-time use), for the same ``client_id`` only.
"""

from __future__ import annotations

from typing import Any

from identity.errors import ConflictError
from identity.oid4vci import errors as oe
from identity.oid4vci.authorization import PENDING, PUSHED, Authorization
from identity.oid4vci.offer import Offer
from service.oid4vci import Oid4vciIssuer
from service.oid4vci_authorize import Refusal, checked_request, client_of, parameters_of

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


def push(vci: Oid4vciIssuer, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Pushed Authorization Request (RFC 9126 §2.1): ``request_uri`` and ``expires_in``."""
    params = parameters_of(pairs)
    if "request_uri" in params:
        raise oe.InvalidRequest("a pushed request carries no request_uri (RFC 9126 §2.1)")
    client_id = client_of(vci, params)
    try:
        auth, _ = checked_request(vci, params, client_id, status=PUSHED)
    except Refusal as refusal:  # answered here, as JSON (§2.3), not redirected
        raise refusal.error from None
    vci.store.add_authorization(auth)
    return {"request_uri": REQUEST_URI_PREFIX + auth.id, "expires_in": auth.expires_at - vci.now()}


def pushed(vci: Oid4vciIssuer, request_uri: str, client_id: str) -> tuple[Authorization, Offer]:
    """The pushed request named by ``request_uri``, opened (now ``pending``); an unknown,
    used, expired or another client's one is a :class:`Refusal` shown, not redirected."""
    refused = Refusal(oe.InvalidRequest("request_uri is unknown, used or expired"), None, None)
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        raise refused
    auth = vci.store.get_authorization(request_uri.removeprefix(REQUEST_URI_PREFIX))
    if auth is None or auth.status != PUSHED or vci.now() >= auth.expires_at:
        raise refused
    if auth.client_id != client_id:
        raise Refusal(oe.InvalidRequest("request_uri was pushed by another client"), None, None)
    offer = vci.store.get_offer(auth.offer_id)
    if offer is None:
        raise refused
    opened = auth.next(status=PENDING)
    try:
        vci.store.replace_authorization(auth, opened)
    except ConflictError:
        raise refused from None
    return opened, offer
