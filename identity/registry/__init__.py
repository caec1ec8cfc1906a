"""Registries of the trust layer: credential types, agency accreditation."""
