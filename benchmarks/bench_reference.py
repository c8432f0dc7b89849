"""The memory limit: the least work that moves the bytes a function moves.

Parallel numba prange loops over the same threads as celu (common.copy, negate:
copy's traffic with ordinary stores, read2_write1, read1_write3) and one NumPy ufunc
call (np.expm1, for call overhead).  A function's time over its reference
(benchmarks/ratios.py prints them) says how far it is from the memory bandwidth of the
machine.
"""

from . import common


class TimeMemoryLimit:
    params = (common.REFERENCES, common.DTYPES, common.SIZES)
    param_names = ("reference", "dtype", "n")
    timeout = common.TIMEOUT

    def setup(self, kind, dtype, n):
        self.fn, self.args = common.reference_case(kind, n, dtype)
        self.fn(*self.args)  # compile (cached on disk), start threads, touch pages

    def time_reference(self, kind, dtype, n):
        self.fn(*self.args)
