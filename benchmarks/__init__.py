"""The asv benchmark suite of celu_numba (see common.py and the README, "Benchmarks")."""
