# The gateway: FastAPI, no torch (~300 MB image).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# Fonts for the result card and story images: DejaVu (Latin, Greek) and Nanum (Korean).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-nanum \
    && rm -rf /var/lib/apt/lists/*
COPY requirements/gateway.txt requirements/gateway.txt
RUN pip install -r requirements/gateway.txt
COPY db db
COPY core core
COPY gateway gateway
RUN useradd --system --uid 10001 alphamale && mkdir -p /app/var && chown alphamale /app/var
USER alphamale
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["uvicorn", "gateway.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", \
     "--proxy-headers", "--workers", "2"]
