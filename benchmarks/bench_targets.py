"""Where celu runs: one CPU thread, all of numba's threads, or the GPU (celu_numba.cuda)."""

import numpy as np

from . import common


class TimeCpuThreads:
    """celu on one thread (numba.set_num_threads(1)) and on all of numba's threads."""

    params = (("serial", "parallel"), common.DTYPES, (100_000, common.LARGE))
    param_names = ("target", "dtype", "n")
    timeout = common.TIMEOUT

    def setup(self, target, dtype, n):
        common.check_parallel_enabled()
        self.old_threads = common.set_threads(1 if target == "serial" else "all")
        self.f = common.function("celu")
        (self.x,) = common.make_inputs("celu", n, dtype)
        self.out = np.zeros_like(self.x)
        self.f(self.x, common.ALPHA, out=self.out)

    def teardown(self, target, dtype, n):
        common.set_threads(self.old_threads)

    def time_celu(self, target, dtype, n):
        self.f(self.x, common.ALPHA, out=self.out)


class TimeCuda:
    """The same call on device arrays (numba.cuda), synchronized; skipped without a GPU."""

    params = (("celu", "celu_backward", "celu_and_grads"), common.DTYPES, (100_000, common.LARGE))
    param_names = ("function", "dtype", "n")
    timeout = common.TIMEOUT

    def setup(self, name, dtype, n):
        common.cuda_or_skip()
        from numba import cuda

        self.sync = cuda.synchronize
        self.f = common.function(name)
        self.inputs = tuple(cuda.to_device(v) for v in common.make_inputs(name, n, dtype))
        self.out = tuple(cuda.to_device(v) for v in common.make_outputs(name, n, dtype))
        self.f(*self.inputs, common.ALPHA, out=self.out)
        self.sync()

    def time_call(self, name, dtype, n):
        self.f(*self.inputs, common.ALPHA, out=self.out)
        self.sync()
