"""``python -m model_server.training``: see :mod:`model_server.training.cli`."""

import os

# One OpenBLAS thread (set before numpy loads): the type model's fits are many small SVDs,
# which two threads made slower here (one permutation shuffle 10-12 s); the null runs its
# shuffles in two processes instead (about 2.4 s a shuffle). Torch sets its own threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from model_server.training.cli import cli

if __name__ == "__main__":
    raise SystemExit(cli())
