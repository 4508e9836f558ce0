"""Trackers and the machinery that runs them over benchmarks."""
