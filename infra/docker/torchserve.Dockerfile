# TorchServe with the AlphaMale handlers; archives are built inside the image (make models).
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless make \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
WORKDIR /srv
COPY requirements/model.txt requirements/model.txt
RUN pip install -r requirements/model.txt && pip install --no-deps facenet-pytorch==2.6.0
COPY core core
COPY model_server model_server
RUN python -m model_server.tools.archive build-all --store /srv/model_store
RUN useradd --system --uid 10002 torchserve && mkdir -p /srv/var && chown torchserve /srv/var
USER torchserve
EXPOSE 8080 8081 8082
# Inside the compose network: bind all interfaces; only the gateway can reach them (no ports
# published). Token auth stays off because the network is private (see config.properties).
CMD ["python", "-m", "model_server.tools.serve", "start", "--store", "/srv/model_store", "--var", \
     "/srv/var", "--bind", "0.0.0.0", "--foreground"]
