"""Property tests (hypothesis) of the paper's claims, on the compiled ufuncs.

Barron (2017) / shared/CELU.md:

1. C1 in x at 0 for every alpha > 0: d/dx(0-) = 1, the value is continuous, and the
   one-sided difference quotients agree as h -> 0;  0 <= d/dx <= 1;  d/dalpha in [-1, 0];
   -alpha <= celu <= 0 for x < 0.
2. The limits: alpha -> 0+ gives ReLU and alpha -> inf the identity, with quantitative
   bounds (|celu - x| <= x^2 / (2 alpha) for x < 0, ...).
3. Scale similarity: celu(x, a) == celu(c x, c a) / c and both gradients unchanged, bit for
   bit, for c a power of two (away from overflow and underflow).
4. The gradients are the derivatives of the value: compared with mpmath's numerical
   derivative (mpmath.diff) of a*expm1(x/a), written here independently of reference.py.
5. celu_backward == grad_out * celu_grad; celu_backward_from_output agrees with it where
   y/alpha + 1 is well conditioned.
6. celu is monotone non-decreasing in x.

Each property runs in float64 and, where the dtype matters, float32.
"""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import celu_numba as C

F32, F64 = np.float32, np.float64
SETTINGS = settings(max_examples=200, deadline=None)

#: float64 ULP bounds of the library (shared/CELU.md goals), used as rounding slack
ULP_VALUE, ULP_GRAD, ULP_GRAD_ALPHA = 2, 2, 4


def floats_of(dtype, **kw):
    return st.floats(width=32 if dtype is F32 else 64, allow_nan=False, **kw)


def finite(dtype, **kw):
    return floats_of(dtype, allow_infinity=False, **kw)


def alphas(dtype):
    """alpha >= 0 of dtype: 0, subnormal, tiny, huge and inf included."""
    return floats_of(dtype, min_value=0.0, allow_infinity=True)


def positive_alphas(dtype, lo=None, hi=None):
    fi = np.finfo(dtype)
    return finite(dtype, min_value=float(lo if lo is not None else fi.smallest_subnormal),
                  max_value=float(hi if hi is not None else fi.max))


def ulp(v, dtype=F64):
    """Spacing of dtype at the finite float |v| (the subnormal spacing below the normal range)."""
    fi = np.finfo(dtype)
    if v == 0:
        return float(fi.smallest_subnormal)
    exponent = max(math.frexp(abs(v))[1] - 1, int(fi.minexp))
    return math.ldexp(1.0, exponent - fi.nmant)


def call(func, x, a, dtype):
    return func(np.array([x], dtype=dtype), np.array([a], dtype=dtype))[0]


DTYPES = pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])


# ------------------------------------------------------------------ 1. C1 at 0, bounds


@DTYPES
@SETTINGS
@given(data=st.data())
def test_c1_at_zero(dtype, data):
    """d/dx -> 1 and celu -> 0 as x -> 0-, and the one-sided slopes agree, for every alpha > 0."""
    fi = np.finfo(dtype)
    a = data.draw(positive_alphas(dtype), label="alpha")
    # at 0 itself: value 0, slope 1 from both sides of the definition
    assert call(C.celu, 0.0, a, dtype) == 0
    assert call(C.celu_grad, 0.0, a, dtype) == 1 == call(C.celu_grad, -0.0, a, dtype)
    # just left of 0: z = x/a is tiny, exp(z) ~ 1 + z: |grad - 1| <= |z| + 2 ULP of 1
    x = -float(fi.smallest_subnormal) * data.draw(st.integers(1, 1 << 20), label="k")
    x = float(dtype(x))
    z = Fraction(x) / Fraction(a)
    grad = float(call(C.celu_grad, x, a, dtype))
    assert 0 <= grad <= 1
    assert abs(Fraction(grad) - 1) <= abs(z) * (1 + Fraction(1, 2**40)) + 2 * Fraction(float(fi.epsneg))
    value = float(call(C.celu, x, a, dtype))
    assert x - 2 * ulp(x, dtype) <= value <= 0  # between x and 0: continuous at 0

    # one-sided difference quotients at 0 with h = a * 2**-k (exact):
    # right: (celu(h) - celu(0)) / h = 1;  left: (celu(0) - celu(-h)) / h = expm1(-t)/(-t),
    # t = h/a = 2**-k, which is 1 - t/2 + O(t^2): the two agree to t/2 (+ rounding of celu(-h)).
    assume(a > fi.smallest_normal * 2.0**40 and a < fi.max / 2)
    for k in (4, 10, 20):
        h = float(dtype(a * 2.0**-k))
        t = Fraction(h) / Fraction(a)
        right = Fraction(float(call(C.celu, h, a, dtype))) / Fraction(h)
        left = -Fraction(float(call(C.celu, -h, a, dtype))) / Fraction(h)
        assert right == 1
        rounding = 2 * Fraction(float(fi.eps))  # <= 2 ULP of celu(-h), relative
        assert abs(left - 1) <= t / 2 + rounding
        assert left <= 1  # expm1(-t)/(-t) < 1
        assert abs(left - 1) >= t / 2 - t * t / 6 - rounding  # and really does differ by ~t/2


@DTYPES
@SETTINGS
@given(data=st.data())
def test_gradient_and_value_bounds(dtype, data):
    """0 <= d/dx <= 1, -1 <= d/dalpha <= 0, -alpha <= celu <= 0 for x < 0, celu = x for x >= 0."""
    x = data.draw(finite(dtype), label="x")
    a = data.draw(alphas(dtype), label="alpha")
    value, grad, grad_alpha = (float(v[0]) for v in C.celu_and_grads(np.array([x], dtype), np.array([a], dtype)))
    assert 0.0 <= grad <= 1.0
    assert -1.0 <= grad_alpha <= 0.0
    if x >= 0:
        assert value == x and grad == 1 and grad_alpha == 0
    else:
        if math.isinf(a):
            assert value == x
        else:
            assert -a <= value <= 0.0
            # celu(x, a) >= x exactly; the computed value within its ULP bound of that
            assert value >= x - ULP_VALUE * ulp(x, dtype)


# ------------------------------------------------------------------ 2. the limits


@DTYPES
@SETTINGS
@given(data=st.data())
def test_large_alpha_approaches_identity(dtype, data):
    """alpha >= |x|, x < 0 (z in [-1, 0)):  0 <= celu - x <= x^2/(2a),  0 <= 1 - d/dx <= |x|/a,
    -x^2/(2a^2) <= d/dalpha <= 0   (exact inequalities; plus the library's rounding)."""
    fi = np.finfo(dtype)
    x = data.draw(finite(dtype, max_value=-float(fi.smallest_normal), min_value=-float(fi.max) / 4), label="x")
    k = data.draw(st.integers(0, 60), label="k")
    m = data.draw(st.floats(min_value=1.0, max_value=2.0), label="m")
    assume(-x * 2.0**k * m < float(fi.max))
    a = float(dtype(-x * 2.0**k * m))
    assume(a >= -x)
    X, A = Fraction(x), Fraction(a)
    value, grad, grad_alpha = (Fraction(float(v[0])) for v in C.celu_and_grads(np.array([x], dtype), np.array([a], dtype)))
    e = Fraction(float(np.finfo(dtype).eps))  # relative size of one ULP (at most)
    slack_value = ULP_VALUE * Fraction(ulp(x, dtype))
    assert -slack_value <= value - X <= X * X / (2 * A) + slack_value
    assert 0 <= 1 - grad <= -X / A + ULP_GRAD * e
    z2 = X * X / (A * A)
    assert -z2 / 2 * (1 + ULP_GRAD_ALPHA * e) - Fraction(float(fi.smallest_subnormal)) <= grad_alpha <= 0


@DTYPES
@SETTINGS
@given(data=st.data())
def test_small_alpha_approaches_relu(dtype, data):
    """alpha <= |x|, x < 0 (z <= -1):  -a <= celu <= 0,  d/dx <= a/(a + |x|),
    0 <= 1 + d/dalpha <= 2a/|x|   (from exp(z) <= 1/(1 - z), exp(z)(1 - z) <= 2/|z|)."""
    fi = np.finfo(dtype)
    x = data.draw(finite(dtype, max_value=-float(fi.smallest_normal)), label="x")
    k = data.draw(st.integers(0, 1100 if dtype is F64 else 150), label="k")
    a = float(dtype(-x * 2.0**-k))
    assume(0 < a <= -x)
    X, A = Fraction(x), Fraction(a)
    value, grad, grad_alpha = (Fraction(float(v[0])) for v in C.celu_and_grads(np.array([x], dtype), np.array([a], dtype)))
    e = Fraction(float(fi.eps))
    tiny = Fraction(float(fi.smallest_subnormal))
    assert -A <= value <= 0
    assert 0 <= grad <= A / (A - X) * (1 + ULP_GRAD * e) + tiny
    assert 0 <= 1 + grad_alpha <= 2 * A / -X + ULP_GRAD_ALPHA * e / 2
    # and at alpha == 0 exactly: ReLU
    assert call(C.celu, x, 0.0, dtype) == 0 and call(C.celu_grad, x, 0.0, dtype) == 0
    assert call(C.celu_grad_alpha, x, 0.0, dtype) == -1


# ------------------------------------------------------------------ 3. scale similarity


def _scaled_pair(data, dtype):
    """(x, a, k): normal x, a and c = 2**k with c*x, c*a normal and z = x/a moderate."""
    e_max = 200 if dtype is F64 else 30
    a = data.draw(finite(dtype, min_value=2.0**-e_max, max_value=2.0**e_max), label="alpha")
    how = data.draw(st.sampled_from(["x", "z"]), label="how")
    if how == "x":
        mag = data.draw(finite(dtype, min_value=2.0**-e_max, max_value=2.0**e_max), label="|x|")
        x = -mag if data.draw(st.booleans(), label="negative") else mag
    else:  # aim at the interesting part of the curve, z in [-800, 0)
        z = data.draw(st.floats(min_value=-800.0, max_value=-1e-30), label="z")
        x = float(dtype(z * a))
        assume(x != 0 and 2.0**-e_max <= abs(x) <= 2.0**e_max)
    k = data.draw(st.integers(-2 * e_max, 2 * e_max), label="k")
    return x, a, k


@DTYPES
@SETTINGS
@given(data=st.data())
def test_scale_similarity_is_bit_exact(dtype, data):
    """celu(x, a) == celu(c x, c a) / c, celu_grad and celu_grad_alpha unchanged: c = 2**k."""
    x, a, k = _scaled_pair(data, dtype)
    c = 2.0**k
    xs, as_ = np.array([x, x * c], dtype), np.array([a, a * c], dtype)
    assert Fraction(float(xs[1])) == Fraction(x) * Fraction(c)  # the scaling itself is exact
    assert Fraction(float(as_[1])) == Fraction(a) * Fraction(c)
    value, grad, grad_alpha = C.celu_and_grads(xs, as_)
    assert Fraction(float(value[1])) == Fraction(float(value[0])) * Fraction(c)
    assert grad[1] == grad[0] and np.signbit(grad[1]) == np.signbit(grad[0])
    assert grad_alpha[1] == grad_alpha[0]
    # and the single functions agree with the fused one
    assert C.celu(xs, as_)[1] == value[1] and C.celu_grad_alpha(xs, as_)[1] == grad_alpha[1]


# ------------------------------------------------------------------ 4. derivatives (mpmath)


def _mp_celu_negative(t, a):
    """a * expm1(t / a) in mpmath, for t < 0 (an independent statement of the definition)."""
    return a * mpmath.expm1(t / a)


def _ulp_err(computed, exact, dtype):
    """|computed - exact| in ULP of dtype at exact (exact an mpf)."""
    fi = np.finfo(dtype)
    p = fi.nmant + 1
    if exact == 0:
        return float(abs(mpmath.mpf(computed)) / mpmath.mpf(float(fi.smallest_subnormal)))
    e = max(int(mpmath.floor(mpmath.log(abs(exact), 2))), int(fi.minexp))
    return float(abs(mpmath.mpf(computed) - exact) / mpmath.ldexp(1, e - p + 1))


def _z_pair(data, dtype):
    """x < 0, a in [1e-3, 1e3] with z = x/a in [-745, -1e-30] (where the gradients are
    representable numbers and mpmath.diff is affordable)."""
    a = float(dtype(data.draw(st.floats(min_value=1e-3, max_value=1e3), label="alpha")))
    z = -data.draw(st.one_of(st.floats(min_value=1e-30, max_value=745.0),
                             st.floats(min_value=-30.0, max_value=math.log10(745.0)).map(lambda u: 10.0**u)),
                   label="-z")
    x = float(dtype(z * a))
    assume(x < 0)
    return x, a


@DTYPES
@SETTINGS
@given(data=st.data())
def test_gradients_are_numerical_derivatives(dtype, data):
    """celu_grad and celu_grad_alpha within their ULP goals of mpmath.diff of a*expm1(x/a)."""
    x, a = _z_pair(data, dtype)
    X, A = mpmath.mpf(x), mpmath.mpf(a)
    z = abs(x / a)
    # the difference quotient cancels: about |z|*log2(e) bits for d/dx (f ~ -a, f' ~ exp(z))
    # and 2*log2(1/|z|) bits for d/da near z = 0 (f' ~ -z^2/2)
    small = max(0, -math.frexp(z)[1])
    with mpmath.workprec(160 + 3 * small + int(1.5 * z)):
        d_dx = mpmath.diff(lambda t: _mp_celu_negative(t, A), X)
        d_da = mpmath.diff(lambda s: _mp_celu_negative(X, s), A)
    got_dx = float(call(C.celu_grad, x, a, dtype))
    got_da = float(call(C.celu_grad_alpha, x, a, dtype))
    goal_dx, goal_da = (1.0, 1.0) if dtype is F32 else (ULP_GRAD, ULP_GRAD_ALPHA)
    assert _ulp_err(got_dx, d_dx, dtype) <= goal_dx, (got_dx, d_dx)
    assert _ulp_err(got_da, d_da, dtype) <= goal_da, (got_da, d_da)


def test_numerical_derivative_is_trustworthy():
    """The mpmath.diff set-up above reproduces closed forms (so a failure there is the library's)."""
    for x, a in [(-1.0, 1.0), (-700.0, 1.0), (-1e-20, 3.0), (-3.5, 1e-3 * 3)]:
        X, A = mpmath.mpf(x), mpmath.mpf(a)
        z = abs(x / a)
        small = max(0, -math.frexp(z)[1])
        with mpmath.workprec(160 + 3 * small + int(1.5 * z)):
            Z = X / A
            assert abs(mpmath.diff(lambda t: _mp_celu_negative(t, A), X) / mpmath.exp(Z) - 1) < 1e-30
            ga = mpmath.exp(Z) * (1 - Z) - 1
            assert abs(mpmath.diff(lambda s: _mp_celu_negative(X, s), A) / ga - 1) < 1e-30


# ------------------------------------------------------------------ 5. backward passes


@DTYPES
@SETTINGS
@given(data=st.data())
def test_backward_is_grad_out_times_grad(dtype, data):
    """celu_backward(g, x, a) == g * celu_grad(x, a), rounded once.  float64: NumPy's own
    product, bit for bit.  float32 (rounded once in effect, test_accuracy.py bounds it):
    within 2 float32 steps of the float64 product rounded to float32, the same sign, and
    within one step of celu_grad's own result where g == 1 and the gradient is normal."""
    g = data.draw(finite(dtype), label="g")
    x = data.draw(finite(dtype), label="x")
    a = data.draw(alphas(dtype), label="alpha")
    gs, xs, as_ = (np.array([v], dtype) for v in (g, x, a))
    got = C.celu_backward(gs, xs, as_)
    assert got.dtype == dtype
    want = (gs.astype(F64) * C.celu_grad(xs.astype(F64), as_.astype(F64))).astype(dtype)
    if dtype is F64:
        assert got.tobytes() == want.tobytes()
    else:
        assert np.isnan(got[0]) == np.isnan(want[0])
        if not np.isnan(want[0]) and want[0] != 0:
            assert np.signbit(got[0]) == np.signbit(want[0])
            assert abs(int(got.view(np.int32)[0]) - int(want.view(np.int32)[0])) <= 2
        grad = C.celu_grad(xs, as_)
        if abs(grad[0]) >= np.finfo(F32).smallest_normal:
            unit = C.celu_backward(np.ones_like(xs), xs, as_)
            assert abs(int(unit.view(np.int32)[0]) - int(grad.view(np.int32)[0])) <= 1
    if dtype is F64:
        assert got.tobytes() == (gs * C.celu_grad(xs, as_)).tobytes()


@DTYPES
@SETTINGS
@given(data=st.data())
def test_backward_from_output_agrees_where_well_conditioned(dtype, data):
    """From the output: y/a + 1 >= 1/2 (z >= -ln 2) keeps the cancellation harmless, and the
    result is within a few ULP of celu_backward (see test_accuracy.py for the derivation)."""
    a = float(dtype(data.draw(st.floats(min_value=1e-6, max_value=1e6), label="alpha")))
    z = -data.draw(st.floats(min_value=0.0, max_value=math.log(2.0)), label="-z")
    x = float(dtype(z * a))
    g = data.draw(finite(dtype, min_value=-1e6, max_value=1e6), label="g")
    xs, as_, gs = (np.array([v], dtype) for v in (x, a, g))
    y = C.celu(xs, as_)
    assume(float(y[0]) / a + 1 >= 0.5)
    from_output = float(C.celu_backward_from_output(gs, y, as_)[0])
    backward = float(C.celu_backward(gs, xs, as_)[0])
    # Bounds from the goals (test_accuracy.py derives them): float64 from-output <= kappa
    # (2 e_y + 1) + 2 <= 7 ULP (kappa <= 1, e_y <= 2) and celu_backward <= 2 e_g + 1/2 <= 4.5
    # ULP from exact: <= 12 steps apart; float32 <= 1.5 and <= 1 ULP: <= 3 steps, 5 across
    # a binade edge (where a step doubles).  Observed on 2e5 random points: 2 and 1 steps.
    steps = 12 if dtype is F64 else 5
    assert abs(from_output - backward) <= steps * ulp(backward, dtype) + float(np.finfo(dtype).smallest_subnormal)


# ------------------------------------------------------------------ 6. monotonicity


@DTYPES
@SETTINGS
@given(data=st.data())
def test_celu_is_monotone_in_x(dtype, data):
    """x1 <= x2 -> celu(x1, a) <= celu(x2, a): pairs, consecutive floats, and sorted arrays."""
    a = data.draw(alphas(dtype), label="alpha")
    x1 = data.draw(floats_of(dtype, allow_infinity=True), label="x1")
    x2 = data.draw(floats_of(dtype, allow_infinity=True), label="x2")
    x1, x2 = min(x1, x2), max(x1, x2)
    y1, y2 = C.celu(np.array([x1, x2], dtype), dtype(a))
    assert y1 <= y2
    # a run of consecutive floats around a point of the curve (z near a branch point)
    if 0 < a < np.inf:
        z = -data.draw(st.one_of(st.floats(min_value=0.0, max_value=800.0),
                                 st.sampled_from([math.log(2) * (k + 0.5) for k in range(20)] + [1.0])), label="-z")
        assume(abs(z * a) < float(np.finfo(dtype).max))
        run = [dtype(z * a)]
        for _ in range(200):
            run.append(np.nextafter(run[-1], dtype(np.inf)))
        run = np.array(run, dtype)
        ys = C.celu(run, dtype(a))
        assert np.all(np.diff(ys) >= 0)
    # a sorted random array
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    xs = np.sort((rng.standard_normal(500) * 10.0 ** rng.uniform(-5, 3, 500)).astype(dtype))
    assert np.all(np.diff(C.celu(xs, dtype(a))) >= 0)
