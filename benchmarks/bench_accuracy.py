"""Accuracy over commits: the worst error, in ULP, of each function on a fixed grid.

``track_`` benchmarks: asv records the returned number (not a time), so the dashboard
shows a graph of the worst ULP error per commit.  The reference is mpmath
(benchmarks/_reference.py); without mpmath (a dev dependency) these are skipped.
The grid is small (250 points per function and dtype, ~1 s): it is a trend line, not
the accuracy test suite (tests/test_accuracy.py).
"""

import numpy as np

from . import _reference, common


class TrackAccuracy:
    """Worst ULP error against mpmath on ``_reference.grid`` (x of both signs, 5 alphas)."""

    params = (common.FUNCTION_NAMES, common.DTYPES)
    param_names = ("function", "dtype")
    unit = "ULP"
    timeout = common.TIMEOUT

    def setup(self, name, dtype):
        if _reference.mpmath is None:
            raise NotImplementedError("mpmath is not installed")
        x, alpha = _reference.grid(dtype)
        self.alpha = alpha
        if name in ("celu_backward", "celu_backward_from_output"):
            g = np.random.default_rng(3).uniform(-2.0, 2.0, x.size).astype(dtype)
            if name == "celu_backward_from_output":  # y = celu(x), rounded to dtype
                x = np.array([float(_reference.celu(float(v), float(a))) for v, a in zip(x, alpha)]).astype(dtype)
            self.inputs = (g, x)
        else:
            self.inputs = (x,)
        common.call(name, self.inputs, alpha)  # compile or load before the (untimed) track

    def track_worst_ulp(self, name, dtype):
        computed = common.call(name, self.inputs, self.alpha)
        if name == "celu_and_grads":
            parts = zip(computed, ("celu", "celu_grad", "celu_grad_alpha"))
        else:
            parts = [(computed, name)]
        worst = 0.0
        for values, ref_name in parts:
            reference = _reference.REFERENCES[ref_name]
            for i in range(values.size):
                exact = reference(*[float(v[i]) for v in self.inputs], float(self.alpha[i]))
                worst = max(worst, _reference.ulp_error(values[i], exact, dtype))
        return worst
