# The gateway: FastAPI, no torch (~300 MB image). The build stage fills a venv from the hashed
# lock; the runtime copies the venv alone (no pip, wheel cache or build leftovers in the image).
# PYTHON_VERSION follows .python-version (images.yml passes it); bookworm fixes the apt release.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements/lock/gateway.txt requirements/lock/gateway.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements/lock/gateway.txt

FROM python:${PYTHON_VERSION}-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Fonts for the result card and story images: DejaVu (Latin, Greek) and Nanum (Korean).
# Unpinned on purpose: the bookworm base fixes the release and its security updates should land.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-nanum \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
COPY db db
COPY core core
COPY gateway gateway
RUN groupadd --system --gid 10001 alphamale \
    && useradd --system --uid 10001 --gid 10001 --no-create-home alphamale \
    && mkdir -p /app/var && chown 10001:10001 /app/var
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Proxy headers are the app's (ALPHAMALE_TRUSTED_PROXIES), the access log too (no query strings,
# no addresses): uvicorn's own are off.
CMD ["uvicorn", "gateway.main:serve_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--no-proxy-headers", "--no-access-log", "--workers", "2"]
