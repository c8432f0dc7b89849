"""Every public function, float32 and float64, at 1e3 (call overhead), 1e5 (in cache)
and 1e7 (memory-bound) elements, contiguous, scalar alpha, preallocated out=."""

import numpy as np

from . import common


class TimeFunctions:
    """``f(*inputs, alpha, out=out)`` through the public object (the way users call it)."""

    params = (common.FUNCTION_NAMES, common.DTYPES, common.SIZES)
    param_names = ("function", "dtype", "n")
    timeout = common.TIMEOUT

    def setup(self, name, dtype, n):
        common.check_parallel_enabled()
        self.f = common.function(name)
        self.inputs = common.make_inputs(name, n, dtype)
        self.out = common.make_outputs(name, n, dtype)
        self.f(*self.inputs, common.ALPHA, out=self.out)  # compile/load, start threads

    def time_call(self, name, dtype, n):
        self.f(*self.inputs, common.ALPHA, out=self.out)


class TimeCallOverhead:
    """What the public object adds to the raw ufunc (alpha default and check, GPU test)."""

    params = (("public", "public_default_alpha", "ufunc"), (1, 1_000))
    param_names = ("entry", "n")
    timeout = common.TIMEOUT

    def setup(self, entry, n):
        self.x = common.random_x(n, "float64")
        self.out = np.zeros_like(self.x)
        f = common.function("celu")
        if entry == "public":
            self.call = lambda: f(self.x, common.ALPHA, out=self.out)
        elif entry == "public_default_alpha":
            self.call = lambda: f(self.x, out=self.out)
        else:
            ufunc = f.ufunc
            self.call = lambda: ufunc(self.x, common.ALPHA, out=self.out)
        self.call()

    def time_call(self, entry, n):
        self.call()
