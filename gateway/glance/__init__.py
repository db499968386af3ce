"""A glance at the service for operators (behind the admin token): rates, latency, refusals."""
