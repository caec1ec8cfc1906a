"""JOSE primitives over joserfc: JWKs for the service's keys and compact JWS.

``keys`` turns the agency's Ed25519 keys and holder P-256 keys into JWKs and signing
keys; ``jws`` signs and verifies compact JWS with the refusals every caller needs
(``alg: none``, unknown ``crit``, wrong ``typ``, oversized tokens) as domain errors.
"""
