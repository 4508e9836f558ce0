"""sparsett-bench: SparseTT and the five tracking benchmarks under their official protocols."""

__version__ = "0.1.0"
