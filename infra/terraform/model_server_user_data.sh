#!/bin/bash
# Runs the TorchServe image (archives baked in) on a model-server box. Only inference (8080) is
# published, and the security groups open it to the internal load balancer alone; the
# management API (8081) stays inside the container.
set -euo pipefail
# The image lives in ECR: log in with the box's instance profile (AWS CLI on the AMI).
aws ecr get-login-password --region "${region}" | docker login --username AWS --password-stdin "${registry}"
%{ if gpu ~}
docker run -d --restart unless-stopped --gpus all -p 8080:8080 "${image}"
%{ else ~}
docker run -d --restart unless-stopped -p 8080:8080 "${image}"
%{ endif ~}
