"""Benchmarks (`make bench`): latency and memory of the model server and the gateway."""
