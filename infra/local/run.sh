#!/usr/bin/env bash
# Local stack for `make run`: TorchServe + the gateway on 127.0.0.1, SQLite and local files.
# Ctrl-C (or the gateway exiting) stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VAR=${VAR:-var}
export ALPHAMALE_PUBLIC_BASE_URL=${ALPHAMALE_PUBLIC_BASE_URL:-http://$HOST:$PORT}

stop() { "$PY" -m model_server.tools.serve stop --var "$VAR" >/dev/null 2>&1 || true; }
trap stop EXIT
"$PY" -m model_server.tools.serve start --store model_store --var "$VAR"
echo
echo "  AlphaMale is up:  http://$HOST:$PORT/   (API docs: http://$HOST:$PORT/docs)"
echo "  Ctrl-C stops the gateway and TorchServe."
echo
"$PY" -m uvicorn gateway.main:serve_app --factory --host "$HOST" --port "$PORT" --no-proxy-headers --no-access-log
