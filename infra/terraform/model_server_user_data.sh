#!/bin/bash
# Runs the TorchServe image (archives baked in) on a model-server box. TorchServe's token
# authorization is on (the image's command): TorchServe listens on loopback inside the container
# and its guard on 8080 lets through only the inference key the gateway holds (Secrets Manager,
# the same secret as the gateway's ALPHAMALE_MODEL_INFERENCE_KEY). Only 8080 is published, and the
# security groups open it to the internal load balancer alone. No management key is given, so the
# management API is served nowhere: it stays on the container's loopback (new models ship as new
# images).
set -euo pipefail
# The image lives in ECR: log in with the box's instance profile (AWS CLI on the AMI).
aws ecr get-login-password --region "${region}" | docker login --username AWS --password-stdin "${registry}"
# The key, read with the instance profile (secretsmanager:GetSecretValue on this secret only);
# handed to docker by name, so it appears on no command line.
ALPHAMALE_MODEL_INFERENCE_KEY=$(aws secretsmanager get-secret-value --region "${region}" \
  --secret-id "${inference_key_secret_arn}" --query SecretString --output text)
export ALPHAMALE_MODEL_INFERENCE_KEY
%{ if gpu ~}
docker run -d --restart unless-stopped --gpus all -p 8080:8080 -e ALPHAMALE_MODEL_INFERENCE_KEY "${image}"
%{ else ~}
docker run -d --restart unless-stopped -p 8080:8080 -e ALPHAMALE_MODEL_INFERENCE_KEY "${image}"
%{ endif ~}
