# The shape past one machine (the seed ran it on AWS): the gateway on ECS Fargate behind an
# application load balancer, TorchServe on a GPU EC2 instance in a private subnet, PostgreSQL on
# RDS and the photos in S3. The model server's ports are reachable only from the gateway.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
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

resource "aws_security_group" "model_server" {
  name        = "${local.name}-model-server"
  description = "TorchServe inference and management: from the gateway only, never public"
  vpc_id      = var.vpc_id
  ingress {
    from_port       = 8080
    to_port         = 8081
    protocol        = "tcp"
    security_groups = [aws_security_group.gateway.id]
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
    # a backstop behind `python -m gateway.purge`, which removes rows and photos together
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

# --- model server: TorchServe on a GPU instance ------------------------------------------------

resource "aws_instance" "model_server" {
  ami                    = var.model_server_ami # Deep Learning AMI with Docker and the NVIDIA runtime
  instance_type          = var.model_server_instance_type
  subnet_id              = var.private_subnet_ids[0]
  vpc_security_group_ids = [aws_security_group.model_server.id]
  user_data = templatefile("${path.module}/model_server_user_data.sh", {
    image = var.model_server_image
  })
  metadata_options { http_tokens = "required" }
  root_block_device {
    volume_size = 100
    encrypted   = true
  }
  tags = merge(local.tags, { Name = "${local.name}-model-server" })
}

# --- gateway: ECS Fargate behind an ALB ----------------------------------------------------------

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
      { name = "ALPHAMALE_MODEL_INFERENCE_URL", value = "http://${aws_instance.model_server.private_ip}:8080" },
      { name = "ALPHAMALE_MODEL_MANAGEMENT_URL", value = "http://${aws_instance.model_server.private_ip}:8081" },
      { name = "ALPHAMALE_PUBLIC_BASE_URL", value = var.public_base_url },
      { name = "ALPHAMALE_RETENTION_DAYS", value = tostring(var.retention_days) },
    ]
    secrets = [
      { name = "ALPHAMALE_DATABASE_URL", valueFrom = var.database_url_secret_arn },
      { name = "ALPHAMALE_ADMIN_TOKEN", valueFrom = var.admin_token_secret_arn },
      { name = "ALPHAMALE_SIGNING_KEY", valueFrom = var.signing_key_secret_arn },
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
  network_configuration {
    subnets         = var.private_subnet_ids
    security_groups = [aws_security_group.gateway.id]
  }
  load_balancer {
    target_group_arn = aws_lb_target_group.gateway.arn
    container_name   = "gateway"
    container_port   = 8000
  }
}
