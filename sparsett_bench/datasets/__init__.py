"""Benchmarks and training sources: one module per dataset, all returning `Sequence` objects."""
