"""Where splitting a call over threads starts to pay (celu_numba._threads.PARALLEL_MIN_SIZE).

celu float64 with out= at sizes around the threshold, on one thread and on all of
numba's threads: below the threshold both run serially (the same time); at and above
it the parallel run should be faster from the first size on, or the threshold is too low.
"""

import numpy as np

from . import common


class TimeThreshold:
    params = (tuple(1 << k for k in range(12, 19)), ("1", "all"))
    param_names = ("n", "threads")
    timeout = common.TIMEOUT

    def setup(self, n, threads):
        common.check_parallel_enabled()
        self.old_threads = common.set_threads(threads)
        self.x = common.random_x(n, "float64")
        self.out = np.zeros_like(self.x)
        self.f = common.function("celu")
        self.f(self.x, common.ALPHA, out=self.out)

    def teardown(self, n, threads):
        common.set_threads(self.old_threads)

    def time_celu(self, n, threads):
        self.f(self.x, common.ALPHA, out=self.out)
