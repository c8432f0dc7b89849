"""Memory: what a call allocates, with and without out=.

* ``peakmem_call``: the peak resident memory of the process (asv's peakmem) after one
  call at 1e7 elements; it includes the inputs, numba and NumPy, so read it across
  commits or between modes, not as an absolute.
* ``track_allocated``: the bytes NumPy allocates during one call (tracemalloc sees
  NumPy's array data), in units of one input array: 1 per output when allocating,
  0 with out=; anything more is a temporary.  The NumPy expression is the peer.
"""

import tracemalloc

import numpy as np

from . import common

MODES = ("allocate", "out")


class _Case:
    def setup(self, name, dtype, mode, n):
        common.check_parallel_enabled()
        if name == "numpy_celu":
            self.inputs = (common.random_x(n, dtype),)
            self.out = np.zeros(n, dtype) if mode == "out" else None
            self.call = lambda: common.numpy_celu(*self.inputs, common.ALPHA, out=self.out)
            return
        f = common.function(name)
        f(*common.make_inputs(name, 1000, dtype), common.ALPHA)  # compile/load on small data
        self.inputs = common.make_inputs(name, n, dtype)
        self.out = common.make_outputs(name, n, dtype) if mode == "out" else None
        if self.out is None:
            self.call = lambda: f(*self.inputs, common.ALPHA)
        else:
            self.call = lambda: f(*self.inputs, common.ALPHA, out=self.out)


class PeakMem(_Case):
    params = (common.FUNCTION_NAMES + ("numpy_celu",), ("float64",), MODES, (common.LARGE,))
    param_names = ("function", "dtype", "mode", "n")
    timeout = common.TIMEOUT

    def peakmem_call(self, name, dtype, mode, n):
        self.call()


class TrackAllocated(_Case):
    params = (common.FUNCTION_NAMES + ("numpy_celu",), ("float64",), MODES, (1_000_000,))
    param_names = ("function", "dtype", "mode", "n")
    unit = "input arrays"
    timeout = common.TIMEOUT

    def track_allocated(self, name, dtype, mode, n):
        self.call()  # warm-up outside tracing
        tracemalloc.start()
        try:
            self.call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak / self.inputs[0].nbytes
