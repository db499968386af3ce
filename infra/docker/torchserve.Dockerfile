# TorchServe with the AlphaMale handlers. The build stage fills a venv from the hashed locks and
# builds the archives (make models' step); the runtime adds Java and copies the venv, the
# archives and the serving code (no pip, wheel cache or archive staging in the image).
# PYTHON_VERSION follows .python-version (images.yml passes it); bookworm fixes the apt release
# (and has Java 17, which TorchServe 0.12 runs on).
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
WORKDIR /srv
COPY requirements/lock/model.txt requirements/lock/model-nodeps.txt requirements/lock/
# facenet-pytorch pins an old torch: its own lock, installed without its dependencies.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements/lock/model.txt \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps \
       -r requirements/lock/model-nodeps.txt
COPY core core
COPY model_server model_server
RUN /opt/venv/bin/python -m model_server.tools.archive build-all --store /srv/model_store

FROM python:${PYTHON_VERSION}-slim-bookworm
ENV PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
# Unpinned on purpose: the bookworm base fixes the release and its security updates should land.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv
COPY --from=build /opt/venv /opt/venv
COPY core core
COPY model_server model_server
COPY --from=build /srv/model_store /srv/model_store
RUN groupadd --system --gid 10002 torchserve \
    && useradd --system --uid 10002 --gid 10002 --no-create-home torchserve \
    && mkdir -p /srv/var && chown 10002:10002 /srv/var
USER 10002:10002
EXPOSE 8080 8081
# Healthy once every worker is READY (the same check as docker-compose.yml's).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=30 \
  CMD ["python", "-m", "model_server.tools.serve", "status", "--var", "/srv/var"]
# Token authorization on: TorchServe listens on loopback with its own keys (key_file.json, mode
# 0600) and its guards listen on every interface, letting through only callers with the
# deployment's keys: ALPHAMALE_MODEL_INFERENCE_KEY (required) on 8080 and, only when
# ALPHAMALE_MODEL_MANAGEMENT_KEY is set, the management API on 8081 (model_server/tools/guard.py).
CMD ["python", "-m", "model_server.tools.serve", "start", "--store", "/srv/model_store", "--var", \
     "/srv/var", "--bind", "0.0.0.0", "--token-auth", "--foreground"]
