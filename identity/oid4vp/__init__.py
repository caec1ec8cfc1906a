"""OpenID for Verifiable Presentations 1.0 (verifier side): DCQL, request objects,
response checks and the state of each presentation request. No I/O here."""
