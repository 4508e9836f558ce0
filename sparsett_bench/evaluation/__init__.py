"""Evaluation: results I/O, one protocol per benchmark, vectorised metrics, reports.

Nothing in this package imports torch: ``report`` stays fast and light.
"""
