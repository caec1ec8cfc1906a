"""What an agency's counter sees of its own credential offer (issue #18, the web pages).

``GET /oid4vci/offers/{id}/status`` (service/routers/oid4vci.py) answers this view so the
counter page (``/counter``) can follow an offer while the citizen's wallet redeems it.
It never carries a secret: no pre-authorized code, PIN, access token or transaction id,
and no claim values (the agency already knows them; a screen need not show them twice).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from identity.errors import NotFoundError
from identity.oid4vci.offer import LOCKED, REDEEMED, Offer
from identity.oid4vci.store import Oid4vciStore

#: the steps an offer goes through, as the counter shows them
PROGRESS = ("offered", "redeemed", "awaiting_approval", "approved", "issued", "locked", "expired")


def progress(offer: Offer, now: int) -> str:
    """One word for where the offer is: ``issued`` once every configuration was issued;
    ``awaiting_approval`` / ``approved`` while a deferred request waits on the agency;
    ``redeemed`` once a wallet holds the access token; ``locked`` after too many wrong
    PINs; ``expired`` when the code ran out unused; else ``offered``."""
    if offer.state == LOCKED:
        return "locked"
    every = set(offer.configuration_ids) <= set(offer.issued)
    if every and len(offer.credential_ids) >= len(offer.configuration_ids):
        return "issued"
    if offer.deferred and offer.transaction_id is not None:
        return "approved" if offer.approved else "awaiting_approval"
    if offer.state == REDEEMED:
        return "redeemed"
    if now >= offer.expires_at:
        return "expired"
    return "offered"


def _time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def offer_status(store: Oid4vciStore, issuer_id: str, offer_id: str, now: int) -> dict[str, Any]:
    """The status of ``offer_id`` for the agency ``issuer_id``; another agency's offer or
    an unknown id is the same 404 (no existence leak)."""
    offer = store.get_offer(offer_id)
    if offer is None or offer.issuer_id != issuer_id:
        raise NotFoundError("no such credential offer of this agency")
    return {
        "offerId": offer.id,
        "type": offer.type_name,
        "progress": progress(offer, now),
        "state": offer.state,
        "configurations": list(offer.configuration_ids),
        "issued": [c for c in offer.configuration_ids if c in offer.issued],
        "credentialIds": list(offer.credential_ids),
        "deferred": offer.deferred,
        "approved": offer.approved,
        "triesLeft": offer.tries_left if offer.pin_hash is not None else None,
        "createdAt": _time(offer.created_at),
        "expiresAt": _time(offer.expires_at),
    }
