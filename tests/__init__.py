"""Backroom's test suite: unit, integration (real servers), gui and benchmarks."""
