variable "region" {
  type    = string
  default = "ap-northeast-2"
}
variable "environment" {
  type    = string
  default = "staging"
}
variable "vpc_id" { type = string }
variable "public_subnet_ids" { type = list(string) }
variable "private_subnet_ids" { type = list(string) }
variable "certificate_arn" { type = string }
variable "public_base_url" { type = string }
variable "gateway_image" { type = string }
variable "model_server_image" { type = string }
variable "model_server_ami" { type = string }
variable "model_server_instance_profile" {
  description = "Instance profile of the model-server boxes: pulls model_server_image from ECR"
  type        = string
}
variable "model_server_instance_type" {
  description = "CPU (e.g. c7i.xlarge) or GPU (e.g. g4dn.xlarge); set model_server_gpu to match"
  type        = string
  default     = "c7i.xlarge"
}
variable "model_server_gpu" {
  description = "Run the TorchServe container with the GPUs (GPU instance types only)"
  type        = bool
  default     = false
}
variable "model_server_min" {
  type    = number
  default = 2
}
variable "model_server_max" {
  type    = number
  default = 10
}
variable "model_server_analyses_per_s" {
  description = "One box's measured capacity in analyses per second (make bench on that type)"
  type        = number
  default     = 5
}
variable "model_server_target_utilisation" {
  description = "Share of a box's capacity the fleet scales to hold (headroom for spikes)"
  type        = number
  default     = 0.6
}
variable "db_instance_class" {
  type    = string
  default = "db.t4g.small"
}
variable "gateway_count" {
  type    = number
  default = 2
}
variable "retention_days" {
  description = "Analyses older than this are purged (ALPHAMALE_RETENTION_DAYS); S3 expires photos a week later"
  type        = number
  default     = 30
}
variable "legacy_retention_days" {
  description = "Results of the legacy endpoint (no delete token) are purged after this (ALPHAMALE_LEGACY_RETENTION_DAYS)"
  type        = number
  default     = 1
  validation {
    condition     = var.legacy_retention_days >= 0
    error_message = "legacy_retention_days must be 0 or more."
  }
}
variable "purge_schedule" {
  description = "When the purge runs (EventBridge Scheduler expression; daily, in purge_schedule_timezone)"
  type        = string
  default     = "cron(0 4 * * ? *)"
}
variable "purge_schedule_timezone" {
  type    = string
  default = "Asia/Seoul"
}
variable "task_execution_role_arn" { type = string }
variable "gateway_task_role_arn" { type = string }
variable "database_url_secret_arn" { type = string }
variable "admin_token_secret_arn" { type = string }
variable "signing_key_secret_arn" { type = string }
variable "model_inference_key_secret_arn" {
  description = "Secret (32+ characters) the model servers' guard wants and the gateway sends (ALPHAMALE_MODEL_INFERENCE_KEY)"
  type        = string
}
variable "metrics_scraper_security_group_ids" {
  description = "Security groups (e.g. Prometheus') allowed to GET /metrics on the gateway tasks' port 8000"
  type        = list(string)
  default     = []
}
