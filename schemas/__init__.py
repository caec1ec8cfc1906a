"""Wire shapes (pydantic v2) of the REST API, for validation of envelopes and OpenAPI."""
