"""Benchmarks: ``make bench`` prints ``name=value`` lines and writes bench/report.md."""
