# The identity service on its embedded default (SQLite in the /data volume).
# Dependencies come from requirements.lock, pinned with hashes (refresh: scripts/lock).

# The pages' third-party scripts (jsQR, with its licence) from npm, pinned by hash.
FROM python:3.11-slim AS web-assets
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
WORKDIR /src
COPY scripts/vendor-assets ./scripts/vendor-assets
RUN scripts/vendor-assets /vendor

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    IDENTITY_DATA_DIR=/data \
    IDENTITY_HOLD_ON_REFUSAL=120

WORKDIR /app
# Exactly the locked set: every file checked against its hash, nothing resolved here.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY identity ./identity
COPY service ./service
COPY --from=web-assets /vendor ./service/web/static/vendor
RUN pip install --no-deps --no-build-isolation . \
 && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent identity \
 && mkdir -p /data && chown identity /data

USER identity
VOLUME ["/data"]
EXPOSE 8000
# `identity health` prints "unhealthy: <why>" -- also a refused start's reason, which the
# service keeps answering with for IDENTITY_HOLD_ON_REFUSAL seconds before it exits.
HEALTHCHECK --interval=5s --timeout=6s --start-period=20s --retries=3 CMD ["identity", "health"]
CMD ["sh", "-c", "exec identity serve --host 0.0.0.0 --port \"${PORT}\""]
