# The shape past one machine (the seed ran it on AWS): the gateway on ECS Fargate behind an
# application load balancer; TorchServe as an autoscaling fleet (CPU or GPU instances) behind an
# internal load balancer in the private subnets; PostgreSQL on RDS and the photos in S3. The
# model servers are reachable only through that internal load balancer, and it only from the
# gateway's security group. Capacity planning: README "Running in production".

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
  # State in S3, configured at init (deploy.yml: bucket, key, region, use_lockfile); a local
  # look: `terraform init -backend=false`.
  backend "s3" {}
}

provider "aws" {
  region = var.region
}

locals {
  name = "alphamale-${var.environment}"
  tags = { project = "alphamale", environment = var.environment }
}

# --- network boundaries -------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name   = "${local.name}-alb"
  vpc_id = var.vpc_id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "HTTP, answered with a redirect to HTTPS"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags
}

resource "aws_security_group" "gateway" {
  name   = "${local.name}-gateway"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 8000
    to_port         = 8000
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags
}

# Prometheus (or whatever scrapes /metrics) reaches each gateway task on its private address,
# found through the service's private DNS name (below); the public listener never routes /metrics.
resource "aws_security_group_rule" "gateway_metrics_scrape" {
  for_each                 = toset(var.metrics_scraper_security_group_ids)
  description              = "Metrics scraper (GET /metrics on the task's private address)"
  type                     = "ingress"
  security_group_id        = aws_security_group.gateway.id
  from_port                = 8000
  to_port                  = 8000
  protocol                 = "tcp"
  source_security_group_id = each.value
}

resource "aws_security_group" "model_lb" {
  name        = "${local.name}-model-lb"
  description = "Internal load balancer of the model servers: from the gateway only"
  vpc_id      = var.vpc_id
  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.gateway.id]
  }
  egress {
    from_port   = 8080
    to_port     = 8080
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"] # narrowed by the model servers' own group
  }
  tags = local.tags
}

resource "aws_security_group" "model_server" {
  name        = "${local.name}-model-server"
  description = "TorchServe inference from the internal load balancer only; management never open"
  vpc_id      = var.vpc_id
  ingress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.model_lb.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = local.tags
}

resource "aws_security_group" "database" {
  name   = "${local.name}-db"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.gateway.id]
  }
  tags = local.tags
}

# --- storage ------------------------------------------------------------------------------

resource "aws_s3_bucket" "objects" {
  bucket = "${local.name}-objects"
  tags   = local.tags
}

resource "aws_s3_bucket_public_access_block" "objects" {
  bucket                  = aws_s3_bucket.objects.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "objects" {
  bucket = aws_s3_bucket.objects.id
  rule {
    apply_server_side_encryption_by_default { sse_algorithm = "AES256" }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "objects" {
  bucket = aws_s3_bucket.objects.id
  rule {
    id     = "uploads-retention"
    status = "Enabled"
    filter { prefix = "uploads/" }
    # a backstop a week behind the scheduled purge (below), which removes rows and photos
    # together (legacy results' after var.legacy_retention_days, the others' after this)
    expiration { days = var.retention_days + 7 }
  }
}

resource "aws_db_subnet_group" "main" {
  name       = local.name
  subnet_ids = var.private_subnet_ids
  tags       = local.tags
}

resource "aws_db_instance" "main" {
  identifier                  = local.name
  engine                      = "postgres"
  engine_version              = "16"
  instance_class              = var.db_instance_class
  allocated_storage           = 20
  db_name                     = "alphamale"
  username                    = "alphamale"
  manage_master_user_password = true
  db_subnet_group_name        = aws_db_subnet_group.main.name
  vpc_security_group_ids      = [aws_security_group.database.id]
  storage_encrypted           = true
  backup_retention_period     = 7
  deletion_protection         = var.environment == "production"
  skip_final_snapshot         = var.environment != "production"
  tags                        = local.tags
}

# --- model servers: an autoscaling TorchServe fleet behind an internal load balancer ----------
# Each box runs the TorchServe image (all three archives baked in). A new model version is a new
# image rolled out by instance refresh; the admin API's swaps act on one box (single-box stacks).

resource "aws_launch_template" "model_server" {
  name_prefix            = "${local.name}-model-server-"
  image_id               = var.model_server_ami # Docker (and the NVIDIA runtime for GPU types)
  instance_type          = var.model_server_instance_type
  vpc_security_group_ids = [aws_security_group.model_server.id]
  iam_instance_profile { name = var.model_server_instance_profile } # ECR pull (read-only)
  user_data = base64encode(templatefile("${path.module}/model_server_user_data.sh", {
    image    = var.model_server_image
    registry = split("/", var.model_server_image)[0]
    region   = var.region
    gpu      = var.model_server_gpu
    # the guard's key (the gateway sends the same one); read by the box at boot
    inference_key_secret_arn = var.model_inference_key_secret_arn
  }))
  metadata_options { http_tokens = "required" }
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 60
      encrypted   = true
    }
  }
  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${local.name}-model-server" })
  }
}

resource "aws_lb" "model_server" {
  name               = "${local.name}-models"
  internal           = true
  load_balancer_type = "application"
  subnets            = var.private_subnet_ids
  security_groups    = [aws_security_group.model_lb.id]
  tags               = local.tags
}

resource "aws_lb_target_group" "model_inference" {
  name                 = "${local.name}-inference"
  port                 = 8080
  protocol             = "HTTP"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  health_check {
    path    = "/ping"
    matcher = "200"
  }
}

resource "aws_lb_listener" "model_inference" {
  load_balancer_arn = aws_lb.model_server.arn
  port              = 8080
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.model_inference.arn
  }
}

resource "aws_autoscaling_group" "model_server" {
  name                      = "${local.name}-model-server"
  min_size                  = var.model_server_min
  max_size                  = var.model_server_max
  desired_capacity          = var.model_server_min
  vpc_zone_identifier       = var.private_subnet_ids
  target_group_arns         = [aws_lb_target_group.model_inference.arn]
  health_check_type         = "ELB"
  health_check_grace_period = 300 # TorchServe loads three models before /ping is healthy
  # The version number, not "$Latest": a new image is a new launch template version, which
  # changes the group and so starts the instance refresh below (deploy.yml waits for it).
  launch_template {
    id      = aws_launch_template.model_server.id
    version = aws_launch_template.model_server.latest_version
  }
  instance_refresh {
    strategy = "Rolling"
    preferences { min_healthy_percentage = 50 }
  }
}

# Scale on requests per box: each analysis is three TorchServe requests (face_check, then
# face_regions and face_type). The target is a share of one box's measured capacity.
resource "aws_autoscaling_policy" "model_server_requests" {
  name                   = "${local.name}-model-server-requests"
  autoscaling_group_name = aws_autoscaling_group.model_server.name
  policy_type            = "TargetTrackingScaling"
  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.model_server.arn_suffix}/${aws_lb_target_group.model_inference.arn_suffix}"
    }
    target_value = var.model_server_analyses_per_s * 3 * 60 * var.model_server_target_utilisation
  }
}

# --- gateway: ECS Fargate behind an ALB ----------------------------------------------------------

# The load balancer's nodes live in the public subnets: the gateway trusts X-Forwarded-For from
# those addresses alone (ALPHAMALE_TRUSTED_PROXIES), so each client gets its own quota and a
# client's own X-Forwarded-For is never believed.
data "aws_subnet" "public" {
  for_each = toset(var.public_subnet_ids)
  id       = each.value
}

locals {
  trusted_proxies = sort([for subnet in data.aws_subnet.public : subnet.cidr_block])
}

resource "aws_lb" "gateway" {
  name               = local.name
  load_balancer_type = "application"
  subnets            = var.public_subnet_ids
  security_groups    = [aws_security_group.alb.id]
  tags               = local.tags
}

resource "aws_lb_target_group" "gateway" {
  name        = local.name
  port        = 8000
  protocol    = "HTTP"
  vpc_id      = var.vpc_id
  target_type = "ip"
  health_check {
    path    = "/readyz"
    matcher = "200"
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.gateway.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = var.certificate_arn
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.gateway.arn
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.gateway.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

# Operations endpoints are not public: the listener answers them itself with a 404 (the API's
# not_found problem), ahead of the forward. Scrape /metrics privately (see the security group
# rule gateway_metrics_scrape and the service's private DNS name); the docs and the OpenAPI
# document are read on a local stack (`make run`). A condition takes at most three patterns.
locals {
  ops_not_public = {
    metrics = { priority = 1, paths = ["/metrics", "/metrics/*"] }
    docs    = { priority = 2, paths = ["/docs", "/docs/*", "/openapi.json"] }
    redoc   = { priority = 3, paths = ["/redoc", "/redoc/*"] }
  }
  not_found_body = jsonencode({
    type   = "https://alphamale.example/problems/not_found"
    title  = "Not found"
    status = 404
    detail = "Not found"
    code   = "not_found"
  })
}

resource "aws_lb_listener_rule" "ops_not_public" {
  for_each     = local.ops_not_public
  listener_arn = aws_lb_listener.https.arn
  priority     = each.value.priority
  action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = local.not_found_body
      status_code  = "404"
    }
  }
  condition {
    path_pattern { values = each.value.paths }
  }
}

# Private DNS name of the gateway's tasks (one A record per running task), for the scraper:
# gateway.<namespace> from inside the VPC (the VPC needs DNS support and hostnames on).
resource "aws_service_discovery_private_dns_namespace" "main" {
  name        = "${local.name}.internal"
  description = "AlphaMale private names (metrics scraping)"
  vpc         = var.vpc_id
  tags        = local.tags
}

resource "aws_service_discovery_service" "gateway" {
  name = "gateway"
  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.main.id
    routing_policy = "MULTIVALUE"
    dns_records {
      ttl  = 10
      type = "A"
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
  tags = local.tags
}

resource "aws_ecs_cluster" "main" {
  name = local.name
  tags = local.tags
}

resource "aws_ecs_task_definition" "gateway" {
  family                   = "${local.name}-gateway"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = var.task_execution_role_arn
  task_role_arn            = var.gateway_task_role_arn # s3:GetObject/PutObject/DeleteObject on the bucket
  container_definitions = jsonencode([{
    name         = "gateway"
    image        = var.gateway_image
    portMappings = [{ containerPort = 8000 }]
    environment = [
      { name = "ALPHAMALE_STORAGE_BACKEND", value = "s3" },
      { name = "ALPHAMALE_S3_BUCKET", value = aws_s3_bucket.objects.bucket },
      { name = "ALPHAMALE_S3_REGION", value = var.region },
      { name = "ALPHAMALE_MODEL_INFERENCE_URL", value = "http://${aws_lb.model_server.dns_name}:8080" },
      { name = "ALPHAMALE_RATE_LIMIT_STORE", value = "database" }, # shared by every task
      { name = "ALPHAMALE_PUBLIC_BASE_URL", value = var.public_base_url },
      { name = "ALPHAMALE_RETENTION_DAYS", value = tostring(var.retention_days) },
      { name = "ALPHAMALE_LEGACY_RETENTION_DAYS", value = tostring(var.legacy_retention_days) },
      { name = "ALPHAMALE_TRUSTED_PROXIES", value = jsonencode(local.trusted_proxies) },
    ]
    secrets = [
      { name = "ALPHAMALE_DATABASE_URL", valueFrom = var.database_url_secret_arn },
      { name = "ALPHAMALE_ADMIN_TOKEN", valueFrom = var.admin_token_secret_arn },
      { name = "ALPHAMALE_SIGNING_KEY", valueFrom = var.signing_key_secret_arn },
      { name = "ALPHAMALE_MODEL_INFERENCE_KEY", valueFrom = var.model_inference_key_secret_arn },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/ecs/${local.name}"
        awslogs-region        = var.region
        awslogs-stream-prefix = "gateway"
      }
    }
  }])
}

resource "aws_ecs_service" "gateway" {
  name            = "gateway"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.gateway.arn
  desired_count   = var.gateway_count
  launch_type     = "FARGATE"
  # A new image is a new task definition revision, rolled out task by task; a revision whose
  # tasks never turn healthy is rolled back to the previous one.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  network_configuration {
    subnets         = var.private_subnet_ids
    security_groups = [aws_security_group.gateway.id]
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.gateway.arn
    container_name   = "gateway"
    container_port   = 8000
  }
  service_registries {
    registry_arn = aws_service_discovery_service.gateway.arn
  }
}

# --- retention: the purge, daily ---------------------------------------------------------------
# EventBridge Scheduler runs the gateway's task definition (its image, environment and secrets)
# once a day with the command `python -m gateway.cli.purge`, in the service's subnets and security
# group. Its output is in the gateway's log group.

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "purge_scheduler" {
  name = "${local.name}-purge-scheduler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = local.tags
}

# Run the gateway's task definition in this cluster, and hand it its two roles: nothing else.
resource "aws_iam_role_policy" "purge_scheduler" {
  name = "run-purge-task"
  role = aws_iam_role.purge_scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Action    = "ecs:RunTask"
        Resource  = "${aws_ecs_task_definition.gateway.arn_without_revision}:*"
        Condition = { ArnEquals = { "ecs:cluster" = aws_ecs_cluster.main.arn } }
      },
      {
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = [var.task_execution_role_arn, var.gateway_task_role_arn]
        Condition = { StringLike = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" } }
      },
    ]
  })
}

resource "aws_scheduler_schedule" "purge" {
  name                         = "${local.name}-purge"
  description                  = "Retention: python -m gateway.cli.purge (ALPHAMALE_RETENTION_DAYS, ALPHAMALE_LEGACY_RETENTION_DAYS)"
  schedule_expression          = var.purge_schedule
  schedule_expression_timezone = var.purge_schedule_timezone
  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 60
  }
  target {
    # The universal target: `input` is RunTask's own request (the SDK's PascalCase names), so
    # the command override is explicit rather than a convention of the templated ECS target.
    arn      = "arn:aws:scheduler:::aws-sdk:ecs:runTask"
    role_arn = aws_iam_role.purge_scheduler.arn
    input = jsonencode({
      Cluster        = aws_ecs_cluster.main.arn
      TaskDefinition = aws_ecs_task_definition.gateway.arn # the revision the service runs
      LaunchType     = "FARGATE"
      Count          = 1
      NetworkConfiguration = {
        AwsvpcConfiguration = {
          Subnets        = var.private_subnet_ids
          SecurityGroups = [aws_security_group.gateway.id]
          AssignPublicIp = "DISABLED"
        }
      }
      Overrides = {
        ContainerOverrides = [{ Name = "gateway", Command = ["python", "-m", "gateway.cli.purge"] }]
      }
    })
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }
  }
}
