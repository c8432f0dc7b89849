"""A small mpmath reference for the accuracy benchmarks (self-contained: the suite
never imports from tests/, whose reference.py is the full one).

Inputs are exact binary floats; each function is evaluated at a working precision
high enough that its own error is far below an ULP of float64, then the error of a
computed float is measured in ULP of the result's dtype at the exact value.
"""

import math

import numpy as np

try:
    import mpmath
except ImportError:  # a dev dependency: bench_accuracy skips without it
    mpmath = None

#: Bits of working precision, plus what cancellation or exp's amplification costs.
PREC = 160


def _z(x, a):
    return mpmath.mpf(x) / mpmath.mpf(a)


def celu(x, a):
    """x (x >= 0), a * expm1(x / a) (x < 0); a > 0 finite, x finite."""
    if x >= 0:
        return mpmath.mpf(x)
    with mpmath.workprec(PREC):
        return mpmath.mpf(a) * mpmath.expm1(_z(x, a))


def celu_grad(x, a):
    """1 (x >= 0), exp(x / a) (x < 0)."""
    if x >= 0:
        return mpmath.mpf(1)
    with mpmath.workprec(PREC + max(0, int(abs(x / a)).bit_length())):
        return mpmath.exp(_z(x, a))


def celu_grad_alpha(x, a):
    """0 (x >= 0), exp(z)(1 - z) - 1 with z = x / a (x < 0); ~ -z^2/2 cancels near 0."""
    if x >= 0:
        return mpmath.mpf(0)
    lost = 2 * max(0, -math.frexp(x / a)[1]) + max(0, int(abs(x / a)).bit_length())
    with mpmath.workprec(PREC + lost):
        z = _z(x, a)
        return mpmath.exp(z) * (1 - z) - 1


def celu_backward(g, x, a):
    """g * d celu / dx."""
    with mpmath.workprec(PREC):
        return mpmath.mpf(g) * celu_grad(x, a)


def celu_backward_from_output(g, y, a):
    """g (y >= 0), g * (y / a + 1) (y < 0), exact in the given y."""
    if y >= 0:
        return mpmath.mpf(g)
    with mpmath.workprec(PREC + 64):
        return mpmath.mpf(g) * (_z(y, a) + 1)


REFERENCES = {
    "celu": celu,
    "celu_grad": celu_grad,
    "celu_grad_alpha": celu_grad_alpha,
    "celu_backward": celu_backward,
    "celu_backward_from_output": celu_backward_from_output,
}


def ulp_error(computed, exact, dtype):
    """|computed - exact| in ULP of ``dtype`` at ``exact`` (subnormal spacing below normal)."""
    fi = np.finfo(dtype)
    p, emin = fi.nmant + 1, int(fi.minexp)
    c = float(computed)
    if math.isnan(c) or math.isinf(c):
        return math.inf
    with mpmath.workprec(PREC + 64):
        if exact == 0:
            e = emin
        else:
            e = max(int(mpmath.floor(mpmath.log(abs(exact), 2))), emin)
            # floor(log2) may be off by one at exact powers of two: correct it
            if mpmath.ldexp(1, e + 1) <= abs(exact):
                e += 1
            elif mpmath.ldexp(1, e) > abs(exact) and e > emin:
                e -= 1
        return float(abs(mpmath.mpf(c) - exact) / mpmath.ldexp(1, e - p + 1))


def grid(dtype):
    """(x, alpha) of ``dtype``: 25 magnitudes 1e-6..1e3 of both signs x 5 alphas (250 points)."""
    mags = np.logspace(-6, 3, 25)
    xs = np.concatenate([-mags, mags])
    alphas = np.array([0.01, 0.5, 1.0, 3.0, 100.0])
    xg, ag = np.meshgrid(xs, alphas, indexing="ij")
    return xg.ravel().astype(dtype), ag.ravel().astype(dtype)
