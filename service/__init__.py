"""The HTTP service (FastAPI) and the operator's command line."""
