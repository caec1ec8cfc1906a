"""Verifiable credentials: model, issuance, verification."""
