"""Benchmarks: ``python -m tests.benchmarks`` prints each figure, its baseline and the ratio."""
