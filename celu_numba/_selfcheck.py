"""Accuracy self-check: the six functions on a fixed sample, against mpmath, in ULP.

Used by ``python -m celu_numba``.  The reference is the exact value of each function
at its (floating-point) inputs, computed with mpmath at a working precision raised
where the formula amplifies errors, then compared with the library's result in
units in the last place (ULP) of the result's dtype::

    celu(x, a)                    = x (x >= 0),  a * expm1(x / a) (x < 0)
    celu_grad(x, a)               = 1 (x >= 0),  exp(x / a)
    celu_grad_alpha(x, a)         = 0 (x >= 0),  exp(z) (1 - z) - 1,  z = x / a
    celu_backward(g, x, a)        = g * celu_grad(x, a)
    celu_backward_from_output(g, y, a) = g (y >= 0),  g * (y / a + 1)
    celu_and_grads(x, a)          = the first three, each checked

a == 0 is ReLU, a == inf the identity, a < 0 or NaN gives NaN (see shared/CELU.md).
The goals (GOALS) are those of CELU.md; the backward passes add the rounding of
one product.  ``celu_backward_from_output`` is checked against the exact
g * (y / a + 1) at the float y it is given (how well y itself carries exp(z) is y's
business: near y = -a, y / a + 1 inherits y's rounding, and celu_backward is the
accurate choice there).
mpmath is imported only when the check runs, never with the package.
"""

import math
from dataclasses import dataclass

import numpy as np

#: name -> {dtype name: worst ULP allowed}
GOALS = {
    "celu": {"float32": 1.0, "float64": 2.0},
    "celu_grad": {"float32": 1.0, "float64": 2.0},
    "celu_grad_alpha": {"float32": 1.0, "float64": 4.0},
    "celu_backward": {"float32": 1.0, "float64": 3.0},
    "celu_backward_from_output": {"float32": 1.0, "float64": 3.0},
    "celu_and_grads": {"float32": 1.0, "float64": 4.0},
}

FUNCTIONS = tuple(GOALS)

#: Working precision in bits; raised by the amplification of each formula.
BASE_PREC = 128


@dataclass(frozen=True)
class Result:
    """The worst error of one function on one dtype, and where it happened."""

    name: str
    dtype: str
    worst_ulp: float
    x: float
    alpha: float
    goal: float
    points: int

    @property
    def ok(self) -> bool:
        return self.worst_ulp <= self.goal


def _mpmath():
    try:
        import mpmath
    except ImportError:
        return None
    return mpmath


def mpmath_available() -> bool:
    """True when mpmath, which the self-check needs, can be imported."""
    return _mpmath() is not None


# --- the exact reference


def _special(x, a, positive_value, zero_alpha_value, limit_value):
    """Value of a function at inputs its formula does not cover, or None.

    positive_value: the value for x >= 0 (or a == inf); zero_alpha_value(x): a == 0;
    limit_value: x == -inf.
    """
    if math.isnan(x) or not a >= 0:
        return math.nan
    if a == 0:
        return zero_alpha_value(x)
    if math.isinf(a) or x >= 0:
        return positive_value(x)
    if math.isinf(x):
        return limit_value(a)
    return None


def exact_celu(mp, x, a):
    x, a = float(x), float(a)
    special = _special(x, a, float, lambda x: max(x, 0.0), lambda a: -a)
    if special is not None:
        return mp.mpf(special)
    with mp.workprec(BASE_PREC):  # condition number <= 1 in z: no extra bits
        xm, am = mp.mpf(x), mp.mpf(a)
        return am * mp.expm1(xm / am)


def exact_grad(mp, x, a):
    x, a = float(x), float(a)
    special = _special(x, a, lambda x: 1.0, lambda x: float(x >= 0), lambda a: 0.0)
    if special is not None:
        return mp.mpf(special)
    xm, am = mp.mpf(x), mp.mpf(a)
    extra = max(0, mp.mag(xm) - mp.mag(am))  # exp multiplies the error of z by |z|
    with mp.workprec(BASE_PREC + extra + 8):
        return mp.exp(xm / am)


def exact_grad_alpha(mp, x, a):
    x, a = float(x), float(a)
    special = _special(x, a, lambda x: 0.0, lambda x: -float(x < 0), lambda a: -1.0)
    if special is not None:
        return mp.mpf(special)
    xm, am = mp.mpf(x), mp.mpf(a)
    log2_z = mp.mag(xm) - mp.mag(am)
    extra = 2 * max(0, 2 - log2_z) + max(0, log2_z)  # cancels as -z^2/2 near z = 0
    with mp.workprec(BASE_PREC + extra + 16):
        z = xm / am
        return mp.exp(z) * (1 - z) - 1


def exact_backward(mp, g, x, a):
    g, x, a = float(g), float(x), float(a)
    with mp.workprec(4 * BASE_PREC):
        return mp.mpf(g) * exact_grad(mp, x, a)


def exact_backward_from_output(mp, g, y, a):
    g, y, a = float(g), float(y), float(a)
    if math.isnan(y) or math.isnan(g) or not a >= 0:
        return mp.mpf(math.nan)
    with mp.workprec(4 * BASE_PREC):
        if y >= 0 or math.isinf(a):
            return mp.mpf(g)
        return mp.mpf(g) * (mp.mpf(y) / mp.mpf(a) + 1)


# --- errors in ULP


def ulp_error(mp, computed, exact, dtype):
    """|computed - exact| in ULP of ``dtype`` at ``exact``; NaN/inf must match exactly."""
    c = float(computed)
    if math.isnan(c) or mp.isnan(exact):
        return 0.0 if (math.isnan(c) and mp.isnan(exact)) else math.inf
    if mp.isinf(exact) or math.isinf(c):
        return 0.0 if c == exact else math.inf
    info = np.finfo(dtype)
    digits, min_exp = info.nmant + 1, int(info.minexp)
    if exact == 0:
        exponent = min_exp
    else:
        exponent = max(int(mp.frexp(exact)[1]) - 1, min_exp)  # floor(log2 |exact|)
    with mp.workprec(BASE_PREC):
        diff = abs(mp.mpf(c) - exact)
        return float(mp.ldexp(diff, digits - 1 - exponent))


# --- the sample


def sample(dtype):
    """Deterministic (x, alpha, g) arrays of ``dtype`` covering both branches.

    |x| log-spaced from the smallest subnormal to 1e6 (both signs) for several alphas;
    points aimed at z = x / alpha from -1e-12 down to where exp(z) underflows; the
    special inputs (0, -0, +-inf, NaN; alpha 0 and inf).  g is a random weight.
    """
    dtype = np.dtype(dtype)
    info = np.finfo(dtype)
    rng = np.random.default_rng(2017)
    alphas = np.array([1e-3, 0.1, 1.0, 2.5, 1e3])
    tiny = math.log10(float(info.smallest_subnormal))
    mags = np.logspace(tiny, 6.0, 24)
    xs = np.concatenate([mags, -mags])
    grid_x, grid_a = np.meshgrid(xs, alphas, indexing="ij")

    z_floor = math.log(float(info.smallest_subnormal))  # exp(z) underflows below this
    z = -np.logspace(-12, math.log10(-z_floor), 40)
    tail_a = 10.0 ** rng.uniform(-3, 3, z.size)
    tail_x = z * tail_a

    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0])
    special_a = np.array([0.0, np.inf, 1.0, 1e-3])
    spec_x, spec_a = np.meshgrid(special, special_a, indexing="ij")

    x = np.concatenate([grid_x.ravel(), tail_x, spec_x.ravel()]).astype(dtype)
    a = np.concatenate([grid_a.ravel(), tail_a, spec_a.ravel()]).astype(dtype)
    g = (10.0 ** rng.uniform(-3, 3, x.size) * rng.choice([-1.0, 1.0], x.size)).astype(dtype)
    return x, a, g


# --- the check


def _worst(mp, dtype, computed, exact_fn, inputs, x, a):
    """(worst ULP error, (x, a) where it is, points checked)."""
    worst, where = -1.0, (math.nan, math.nan)
    for i in range(x.size):
        err = ulp_error(mp, computed[i], exact_fn(*(float(v[i]) for v in inputs)), dtype)
        if err > worst:
            worst, where = err, (float(x[i]), float(a[i]))
    return worst, where, x.size


def check(dtypes=("float32", "float64")):
    """Worst ULP error of each function per dtype, as a list of Result.

    Raises ImportError when mpmath is missing.
    """
    mp = _mpmath()
    if mp is None:
        raise ImportError("the self-check needs mpmath (pip install mpmath)")
    import celu_numba as cn

    ref = {
        "celu": lambda x, a: exact_celu(mp, x, a),
        "celu_grad": lambda x, a: exact_grad(mp, x, a),
        "celu_grad_alpha": lambda x, a: exact_grad_alpha(mp, x, a),
    }
    results = []
    for dtype in dtypes:
        dtype = np.dtype(dtype)
        x, a, g = sample(dtype)
        worst = {}
        for name in ("celu", "celu_grad", "celu_grad_alpha"):
            computed = getattr(cn, name)(x, a)
            worst[name] = _worst(mp, dtype, computed, ref[name], (x, a), x, a)
        computed = cn.celu_backward(g, x, a)
        worst["celu_backward"] = _worst(
            mp, dtype, computed, lambda g_, x_, a_: exact_backward(mp, g_, x_, a_), (g, x, a), x, a
        )
        y = cn.celu(x, a)
        computed = cn.celu_backward_from_output(g, y, a)
        worst["celu_backward_from_output"] = _worst(
            mp, dtype, computed, lambda g_, y_, a_: exact_backward_from_output(mp, g_, y_, a_),
            (g, y, a), x, a,
        )
        parts = [
            _worst(mp, dtype, out, ref[part], (x, a), x, a)
            for part, out in zip(("celu", "celu_grad", "celu_grad_alpha"), cn.celu_and_grads(x, a))
        ]
        worst["celu_and_grads"] = max(parts, key=lambda p: p[0])
        for name in FUNCTIONS:
            err, (wx, wa), points = worst[name]
            results.append(Result(name, dtype.name, err, wx, wa, GOALS[name][dtype.name], points))
    return results


def format_results(results):
    """A table: one line per function, worst ULP for each dtype, and whether it meets the goal."""
    dtypes = sorted({r.dtype for r in results})
    by_key = {(r.name, r.dtype): r for r in results}
    names = [n for n in FUNCTIONS if any((n, d) in by_key for d in dtypes)]
    width = max(len(n) for n in names)
    header = f"  {'function':<{width}}  " + "  ".join(f"{d + ' ULP':>18}" for d in dtypes)
    lines = [header]
    for name in names:
        cells = []
        for d in dtypes:
            r = by_key.get((name, d))
            if r is None:
                cells.append(f"{'-':>18}")
                continue
            mark = "ok" if r.ok else f"> {r.goal:g}!"
            cells.append(f"{r.worst_ulp:>9.3g} {mark:>8}")
        lines.append(f"  {name:<{width}}  " + "  ".join(cells))
    lines.append("  (celu_backward_from_output: against the exact g * (y/alpha + 1) at the given y)")
    return "\n".join(lines)
