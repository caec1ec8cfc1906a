"""OpenID for Verifiable Credential Issuance 1.0 (final), the issuer side, pure logic.

* :mod:`.errors` -- the error responses of the token endpoint (RFC 6749 §5.2, OID4VCI
  §6.3), credential endpoint (§8.3.1.2), deferred (§9.3) and notification (§11.3).
* :mod:`.offer` -- the credential offer (§4.1), its pre-authorized code and Transaction
  Code (PIN) state machine with a bounded number of tries.
* :mod:`.proof` -- the ``openid4vci-proof+jwt`` key proof (Appendix F.1).
* :mod:`.store` -- the storage contract for offers, access tokens and ``c_nonce`` values.

Nothing here does I/O; time and randomness are parameters.
"""
