#!/bin/bash
# Runs the TorchServe image on the GPU instance; ports 8080/8081 are open to the gateway only.
set -euo pipefail
docker run -d --restart unless-stopped --gpus all -p 8080:8080 -p 8081:8081 "${image}"
