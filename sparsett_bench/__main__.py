"""``python -m sparsett_bench`` (used by ``torchrun -m sparsett_bench ...``)."""

from sparsett_bench.cli import app

app()
