"""celu_numba's functions inside the user's own @njit loops (celu_numba._overloads), on
one thread: the scalar math inlines into the loop and vectorizes, so a fused loop should
be within ~1.2x of the ufunc (and a fused dense layer + CELU saves the ufunc's extra
pass over the layer's output).

* ``TimeFusedLoop``: ``for i: out[i] = celu(x[i], ALPHA)`` in njit against the ufunc
  ``celu(x, ALPHA, out=out)``, 10M elements.
* ``TimeDenseCelu``: ``celu(x @ W + b)`` as matmul followed by the ufunc, against one njit
  loop that computes each output row and applies celu to it while it is in cache.
"""

import numpy as np
from numba import njit

import celu_numba

from . import common


@njit
def _fused_celu(x, alpha, out):
    for i in range(x.size):
        out[i] = celu_numba.celu(x[i], alpha)


@njit
def _fused_dense_celu(x, w, b, alpha, out):
    """out = celu(x @ w + b, alpha), row by row: the row's accumulator stays in cache."""
    n, k = x.shape
    m = w.shape[1]
    for r in range(n):
        row = out[r]
        for j in range(m):
            row[j] = b[j]
        for p in range(k):
            xv = x[r, p]
            wp = w[p]
            for j in range(m):
                row[j] += xv * wp[j]
        for j in range(m):
            row[j] = celu_numba.celu(row[j], alpha)


def dense_then_ufunc(x, w, b, alpha, out):
    np.matmul(x, w, out=out)
    out += b
    celu_numba.celu(out, alpha, out=out)


class TimeFusedLoop:
    """celu over 10M elements on one thread: the user's njit loop against the ufunc."""

    params = (("ufunc", "njit_loop"), common.DTYPES)
    param_names = ("how", "dtype")
    timeout = common.TIMEOUT

    def setup(self, how, dtype):
        self.old_threads = common.set_threads(1)
        (self.x,) = common.make_inputs("celu", common.LARGE, dtype)
        self.out = np.empty_like(self.x)
        # float32 x with a float64 scalar alpha: float32, as from Python (weak alpha)
        self.run = (
            (lambda: celu_numba.celu(self.x, common.ALPHA, out=self.out))
            if how == "ufunc"
            else (lambda: _fused_celu(self.x, common.ALPHA, self.out))
        )
        self.run()  # compile / load

    def teardown(self, how, dtype):
        common.set_threads(self.old_threads)

    def time_celu(self, how, dtype):
        self.run()


class TimeDenseCelu:
    """celu(x @ W + b): matmul then the ufunc, against one fused njit loop (one thread)."""

    params = (("matmul_then_ufunc", "fused_njit"), ((4096, 64, 256), (65536, 16, 64)))
    param_names = ("how", "n_k_m")
    timeout = common.TIMEOUT

    def setup(self, how, shape):
        self.old_threads = common.set_threads(1)
        n, k, m = shape
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, k))
        self.w = rng.standard_normal((k, m)) / np.sqrt(k)
        self.b = rng.standard_normal(m)
        self.out = np.empty((n, m))
        function = dense_then_ufunc if how == "matmul_then_ufunc" else _fused_dense_celu
        self.run = lambda: function(self.x, self.w, self.b, common.ALPHA, self.out)
        self.run()

    def teardown(self, how, shape):
        common.set_threads(self.old_threads)

    def time_dense_celu(self, how, shape):
        self.run()
