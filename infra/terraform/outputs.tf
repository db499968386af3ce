output "gateway_url" { value = "https://${aws_lb.gateway.dns_name}" }
output "bucket" { value = aws_s3_bucket.objects.bucket }
output "model_server_internal_url" { value = "http://${aws_lb.model_server.dns_name}:8080" }
# deploy.yml waits on these after an apply
output "ecs_cluster" { value = aws_ecs_cluster.main.name }
output "gateway_service" { value = aws_ecs_service.gateway.name }
output "model_server_asg" { value = aws_autoscaling_group.model_server.name }
# the scrape target: one A record per gateway task, port 8000, path /metrics (inside the VPC)
output "gateway_metrics_dns_name" {
  value = "${aws_service_discovery_service.gateway.name}.${aws_service_discovery_private_dns_namespace.main.name}"
}
