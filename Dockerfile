# The identity service on its embedded default (SQLite in the /data volume).

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
    IDENTITY_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY identity ./identity
COPY service ./service
COPY --from=web-assets /vendor ./service/web/static/vendor
RUN pip install . \
 && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent identity \
 && mkdir -p /data && chown identity /data

USER identity
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=2)"
CMD ["sh", "-c", "exec identity serve --host 0.0.0.0 --port \"${PORT}\""]
