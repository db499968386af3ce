output "gateway_url" { value = "https://${aws_lb.gateway.dns_name}" }
output "bucket" { value = aws_s3_bucket.objects.bucket }
output "model_server_internal_url" { value = "http://${aws_lb.model_server.dns_name}:8080" }
