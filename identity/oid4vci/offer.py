"""The credential offer (OID4VCI §4.1) and its pre-authorized code state machine.

An :class:`Offer` is stored whole; every change is a new value with ``version + 1``
written by compare-and-set (:meth:`~identity.oid4vci.store.Oid4vciStore.replace_offer`),
so two wallets racing one code cannot both redeem it and a PIN guess is never lost.

States: ``offered`` (the code may be redeemed) -> ``redeemed`` (an access token was
issued: the code is single-use) or ``locked`` (``tries_left`` reached 0 after wrong
Transaction Codes). A code also stops working at ``expires_at``.

Secrets are never stored: the pre-authorized code and access tokens as SHA-256, the
Transaction Code as HMAC-SHA-256 under a per-offer random salt.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from typing import Any

from identity.encoding import b64url
from identity.keys import RandomBytes
from identity.oid4vci.errors import InvalidGrant, InvalidRequest

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFERED, REDEEMED, LOCKED = "offered", "redeemed", "locked"


def secret_token(random: RandomBytes, size: int = 32) -> str:
    """A URL-safe random secret of ``size`` bytes (256 bits by default)."""
    return b64url(random(size))


def digest(secret: str) -> str:
    """SHA-256 (hex) of a high-entropy secret: how codes and tokens are looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def pin_digest(salt: str, pin: str) -> str:
    """HMAC-SHA-256 of a Transaction Code under the offer's salt (hex)."""
    return hmac.new(bytes.fromhex(salt), pin.encode(), hashlib.sha256).hexdigest()


def new_pin(random: RandomBytes, length: int) -> str:
    """A numeric Transaction Code of ``length`` digits (rejection-sampled: unbiased)."""
    digits: list[str] = []
    while len(digits) < length:
        byte = random(1)[0]
        if byte < 250:
            digits.append(str(byte % 10))
    return "".join(digits)


@dataclass(frozen=True, slots=True)
class Offer:
    """One credential offer to one citizen, with what it will issue and its grant state.

    ``claims`` are the credentialSubject claims (already validated against the type);
    ``issued`` the configuration ids already answered; ``pending`` the deferred request
    (configuration id and holder binding) waiting for ``approved``. Stored offers older
    than a field get its default."""

    id: str
    issuer_id: str
    type_name: str
    configuration_ids: tuple[str, ...]
    claims: dict[str, Any]
    subject: str | None
    valid_until: str | None
    code_hash: str
    pin_salt: str | None
    pin_hash: str | None
    tx_code_length: int
    tries_left: int
    expires_at: int
    created_at: int
    state: str = OFFERED
    deferred: bool = False
    approved: bool = False
    transaction_id: str | None = None
    pending: dict[str, Any] | None = None
    issued: tuple[str, ...] = ()
    credential_ids: tuple[str, ...] = ()
    version: int = 0
    #: the grants of the Credential Offer (OID4VCI §4.1.1): the pre-authorized code,
    #: the authorization code (``issuer_state`` = the offer id; needs ``subject``)
    pre_authorized: bool = True
    authorization_code: bool = False
    #: after an authorization code was redeemed: ``did`` (who signed in), ``client_id``,
    #: ``configuration_ids`` (those authorized), ``credential_identifiers`` (§6.2)
    authorized: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The offer as a JSON object (what every backend stores)."""
        out = {name: getattr(self, name) for name in self.__slots__}
        for name in ("configuration_ids", "issued", "credential_ids"):
            out[name] = list(out[name])
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Offer:
        """The inverse of :meth:`to_json`."""
        values = dict(data)
        for name in ("configuration_ids", "issued", "credential_ids"):
            values[name] = tuple(values[name])
        return cls(**values)

    def next(self, **changes: Any) -> Offer:
        """A changed copy with the version advanced (the value to compare-and-set)."""
        return replace(self, version=self.version + 1, **changes)


@dataclass(frozen=True, slots=True)
class Redemption:
    """The outcome of presenting the pre-authorized code: the offer's next value (to be
    stored in every case) and the error to raise once it is (None: granted)."""

    next: Offer
    error: InvalidGrant | InvalidRequest | None


def redeem(offer: Offer, tx_code: str | None, now: int) -> Redemption:
    """Token Request with the pre-authorized code (OID4VCI §6.1): the next state.

    A wrong Transaction Code costs one try; the last wrong one locks the offer. Codes are
    single-use and expire (§4.1.1 ``pre-authorized_code``)."""
    if offer.state == REDEEMED:
        return Redemption(offer, InvalidGrant("the pre-authorized code was already used"))
    if offer.state == LOCKED:
        return Redemption(offer, InvalidGrant("too many wrong transaction codes"))
    if now >= offer.expires_at:
        return Redemption(offer, InvalidGrant("the pre-authorized code has expired"))
    if offer.pin_hash is None or offer.pin_salt is None:
        if tx_code is not None:
            return Redemption(offer, InvalidRequest("this offer has no transaction code"))
        return Redemption(offer.next(state=REDEEMED), None)
    if tx_code is None:
        return Redemption(offer, InvalidRequest("tx_code is required for this offer"))
    if hmac.compare_digest(pin_digest(offer.pin_salt, tx_code), offer.pin_hash):
        return Redemption(offer.next(state=REDEEMED), None)
    left = offer.tries_left - 1
    locked = left <= 0
    return Redemption(
        offer.next(tries_left=max(left, 0), state=LOCKED if locked else OFFERED),
        InvalidGrant(
            "too many wrong transaction codes" if locked else "wrong transaction code",
            tries_left=max(left, 0),
        ),
    )
