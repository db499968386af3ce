output "gateway_url" { value = "https://${aws_lb.gateway.dns_name}" }
output "bucket" { value = aws_s3_bucket.objects.bucket }
output "model_server_private_ip" { value = aws_instance.model_server.private_ip }
