"""Benchmarks (`make bench`): figures for docs/perf.md, never assertions in the test suite."""
