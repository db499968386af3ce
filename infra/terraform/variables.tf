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
variable "model_server_instance_type" {
  type    = string
  default = "g4dn.xlarge"
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
  type    = number
  default = 30
}
variable "task_execution_role_arn" { type = string }
variable "gateway_task_role_arn" { type = string }
variable "database_url_secret_arn" { type = string }
variable "admin_token_secret_arn" { type = string }
variable "signing_key_secret_arn" { type = string }
