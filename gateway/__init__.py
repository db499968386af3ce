"""AlphaMale gateway: the public FastAPI service. Never imports torch or model_server."""
