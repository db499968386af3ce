"""Tools around the runtime: build archives (archive), run TorchServe (serve)."""
