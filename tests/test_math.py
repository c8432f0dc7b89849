"""The plain-Python side of celu_numba._math: what the CUDA simulator runs.

Every function of _math is also plain Python (NumPy scalars), and the simulator's
results are compared bit for bit with the compiled CPU loops (test_cuda_sim.py, in a
child process).  These tests check the pieces directly and quickly: the exact
helpers against the compiled LLVM intrinsics, and the float32 kernels run as Python
against the float32 ufunc loops that compile them.
"""

from fractions import Fraction

import numpy as np
import pytest
from numba import njit

import celu_numba as C
from celu_numba import _math

F32, F64 = np.float32, np.float64


def _compiled(name):
    """The _math function `name`, compiled on its own."""
    function = getattr(_math, name)
    return njit(lambda *args: function(*args))


_compiled_fma = _compiled("fma")
_compiled_pow2 = _compiled("pow2")
_compiled_bits_of64 = _compiled("bits_float64")


def _random_floats(rng, n, dtype):
    """Finite floats of `dtype` with random signs and exponents across most of the range."""
    exponent = rng.integers(-60, 60, n)
    return (rng.standard_normal(n) * np.exp2(exponent)).astype(dtype)


def test_fma_in_python_is_the_hardware_fma():
    rng = np.random.default_rng(0)
    a, b = _random_floats(rng, 3000, F64), _random_floats(rng, 3000, F64)
    # c near -a*b: the cancellations where a separate multiply and add would differ
    c = np.where(rng.random(3000) < 0.5, -(a * b), _random_floats(rng, 3000, F64))
    for ai, bi, ci in zip(a, b, c):
        got = _math.fma(ai, bi, ci)
        want = _compiled_fma(ai, bi, ci)
        assert type(got) is float
        assert np.array([got]).tobytes() == np.array([want]).tobytes(), (ai, bi, ci)
    assert any(_math.fma(ai, bi, ci) != ai * bi + ci for ai, bi, ci in zip(a, b, c))


def test_pow2_in_python_is_the_bit_pattern_even_out_of_range():
    # in range: 2**k; out of range (the k of a NaN z, whose result is NaN anyway): the
    # same wrapped bit pattern as the compiled shift-and-add, never an exception
    for k in [*range(-1022, 1024, 7), -5000, 4000, -(2**40), 2**40]:
        got, want = _math.pow2(k), _compiled_pow2(np.int64(k))
        assert type(got) is float
        assert np.array([got]).tobytes() == np.array([want]).tobytes(), k
        if -1022 <= k <= 1023:
            assert got == 2.0**k


def test_bits_in_python_are_the_bit_cast():
    values = [0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 1e-45, 3.4e38, 12582912.0 - 3]
    for v in values:
        got, want = _math.bits_float64(F64(v)), _compiled_bits_of64(F64(v))
        assert isinstance(got, np.int64) and got == want == np.array(v, F64).view(np.int64)
    # what the kernels use it for: k = bits(z / ln 2 + 1.5 * 2**52) - bits(1.5 * 2**52)
    for k in range(-300, 1):
        assert _math.bits_float64(float(k) + _math.ROUND_MAGIC) - _math.MAGIC_BITS == k


@pytest.mark.parametrize("offset", [0, 200])
def test_power_of_two_rounds_z_over_ln2_and_builds_the_power(offset):
    # (k, 2**(k + offset)) with k the nearest integer to z / ln 2, in Python and compiled,
    # over the range of k the kernels use (z >= -746); a NaN z gives a NaN k
    compiled = njit(lambda z: _math._power_of_two(z, offset))
    ln2 = float(np.log(2.0))
    for k in range(-1077 if offset else -1022, 1):
        for z in (k * ln2, k * ln2 + 0.3 * ln2, k * ln2 - 0.3 * ln2):
            for kf, s in (_math._power_of_two(z, offset), compiled(z)):
                assert kf == k and s == 2.0 ** (k + offset), (z, k, kf, s)
    assert np.isnan(_math._power_of_two(np.nan, offset)[0]) and np.isnan(compiled(np.nan)[0])


def _exact_polynomial(coeffs, t, mpmath):
    """sum c_i t^i (coefficients highest degree first, floats) at the float t, evaluated
    exactly in Fractions, as an mpmath number: a polynomial's error without its rounding."""
    ft, acc = Fraction(float(t)), Fraction(0)
    for c in coeffs:
        acc = acc * ft + Fraction(float(c))
    return mpmath.mpf(acc.numerator) / acc.denominator


#: r over the reduced range |r| <= ln(2)/2 of the float32 kernels (float64 arithmetic), its
#: ends with a margin for the rounded reduction, and r near 0
REDUCED_R = [*np.linspace(-0.3466, 0.3466, 2001), 0.34658, -0.34658, 2.0**-30, -(2.0**-30)]


def _worst_relative_error(approx, exact, points=REDUCED_R):
    """max |approx(r) / exact(r) - 1| over the nonzero points, in 200-bit mpmath: the
    polynomial is evaluated exactly (`approx(r, mr, mpmath)`, r the float, mr the mpf)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 200
    worst = 0.0
    for r in points:
        if r == 0:
            continue
        mr = mpmath.mpf(float(r))
        worst = max(worst, float(abs(approx(r, mr, mpmath) / exact(mr, mpmath) - 1)))
    return worst


#: r over the float32 kernels' reduced range (float32 arithmetic): |r| <= 0.35 covers ln(2)/2
#: and the float32 rounding of k = round(z / ln 2)
REDUCED_R_F32 = [*np.linspace(-0.35, 0.35, 2001), 0.3466, -0.3466, 2.0**-30, -(2.0**-30)]


def test_float32_expm1_polynomial_bound():
    # expm1(r) = r + r^2 Q5(r) in celu_float32: the degree-5 float32 Q5 gives r + r^2 Q5(r)
    # within 2**-28.5 of expm1(r) relative, ~1/20 of a float32 ULP
    worst = _worst_relative_error(
        lambda r, mr, mpmath: mr + mr * mr * _exact_polynomial(_math._Q5_COEFFS_F32, r, mpmath),
        lambda mr, mpmath: mpmath.expm1(mr),
        points=REDUCED_R_F32,
    )
    assert worst < 2.0**-28.5
    assert all(F32(c) == c for c in _math._Q5_COEFFS_F32)


def test_float32_exp_polynomial_bound():
    # exp(r) = 1 + r + r^2 Q4(r) in celu_grad_float32: the
    # degree-4 float32 Q4 is within 2**-26.9 of exp(r) relative (2**-25.6 of expm1(r))
    worst = _worst_relative_error(
        lambda r, mr, mpmath: 1 + mr + mr * mr * _exact_polynomial(_math._Q4_COEFFS_F32, r, mpmath),
        lambda mr, mpmath: mpmath.exp(mr),
        points=REDUCED_R_F32,
    )
    assert worst < 2.0**-26.9
    assert all(F32(c) == c for c in _math._Q4_COEFFS_F32)


def test_fma_float32_in_python_is_the_hardware_fma():
    """fma_float32 rounds the exact a b + c once to float32 (no double rounding through
    float64), as llvm.fma.f32 does; exponent_float32 is the compiled shift."""
    compiled = njit(lambda a, b, c: _math.fma_float32(a, b, c))
    rng = np.random.default_rng(2)
    a, b = _random_floats(rng, 3000, F32), _random_floats(rng, 3000, F32)
    c = np.where(rng.random(3000) < 0.5, -(a * b), _random_floats(rng, 3000, F32)).astype(F32)
    # halfway cases of float32 that float64 would round first: a b + c = float32 + 2**-25 ulp
    a[:4], b[:4], c[:4] = F32(1 + 2.0**-12), F32(1 + 2.0**-12), F32(-1.0)
    c[1:4] = [F32(-1 - 2.0**-23), F32(1.0), F32(2.0**-30)]
    for ai, bi, ci in zip(a, b, c):
        got, want = _math.fma_float32(ai, bi, ci), compiled(ai, bi, ci)
        assert isinstance(got, F32) and got.tobytes() == F32(want).tobytes(), (ai, bi, ci)
    exponent = njit(lambda t: _math.exponent_float32(t))
    for j in range(1, 255):
        t = F32(12582912.0 + j)
        assert _math.exponent_float32(t) == F32(2.0 ** (j - 127)) == exponent(t)


def test_float64_expm1_polynomial_bound():
    # expm1(r) = r + r^2 Q(r): the fitted Q gives r^2 Q(r) within 2**-59.5 of expm1(r) - r,
    # relative to expm1(r), on |r| <= ln(2)/2 (+ margin for the compensated r)
    worst = _worst_relative_error(
        lambda r, mr, mpmath: mr + mr * mr * _exact_polynomial(_math._Q_COEFFS, r, mpmath),
        lambda mr, mpmath: mpmath.expm1(mr),
        points=[*np.linspace(-0.3466, 0.3466, 2001), 2.0**-30, -(2.0**-30)],
    )
    assert worst < 2.0**-59.5


def test_float32_grad_alpha_series_polynomial_bound():
    # d/dalpha = -z^2 S(z) in celu_grad_alpha_float32 for -1.06 < z <= 0: 1/2 + z (C1 +
    # z (U0 + z V(z))) with the float32 coefficients (evaluated exactly here) is within
    # 2**-30.3 of S relative on [-1.07, 0]
    mpmath = pytest.importorskip("mpmath")
    coeffs = [0.5, float(_math._S_C1_F32), float(_math._S_U0_F32), *reversed(_math._S_V_COEFFS_F32)]
    assert all(F32(c) == c for c in coeffs)
    worst = 0.0
    with mpmath.workprec(300):  # (1 - exp(z)(1 - z)) loses 2 log2(1/|z|) bits
        for z in [*np.linspace(-1.07, 0.0, 2001)[:-1], -(2.0**-30)]:
            mz = mpmath.mpf(float(z))
            exact = (1 - mpmath.exp(mz) * (1 - mz)) / (mz * mz)
            poly = sum(mpmath.mpf(c) * mz**i for i, c in enumerate(coeffs))
            worst = max(worst, float(abs(poly / exact - 1)))
    assert worst < 2.0**-30.3, np.log2(worst)


def test_grad_alpha_series_polynomial_bound():
    # d/dalpha = -z^2 S(z) for -1 < z <= 0: the fitted S (float64 coefficients, evaluated
    # exactly here) is within 2**-55 of S relative, S(z) = (1 - exp(z)(1 - z)) / z^2
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 300  # (1 - exp(z)(1 - z)) loses 2 log2(1/|z|) bits
    worst = 0.0
    for z in [*np.linspace(-1.0, 0.0, 2001), -2.0**-30]:
        mz = mpmath.mpf(float(z))
        exact = (1 - mpmath.exp(mz) * (1 - mz)) / (mz * mz) if z != 0 else mpmath.mpf(0.5)
        worst = max(worst, float(abs(_exact_polynomial(_math._S_COEFFS, z, mpmath) / exact - 1)))
    assert worst < 2.0**-55


@pytest.mark.parametrize(
    "name", ["celu", "celu_grad", "celu_grad_alpha", "celu_backward", "celu_backward_from_output", "celu_and_grads"]
)
def test_float32_kernels_in_python_match_the_float32_loops(name):
    rng = np.random.default_rng(1)
    x = np.concatenate([
        -np.exp(rng.uniform(np.log(1e-40), np.log(1e3), 150)),
        rng.uniform(-2, 2, 40),
        [0.0, -0.0, 1.0, -np.inf, np.inf, np.nan, -1e-45, -200.0],
    ]).astype(F32)
    a = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), x.size)).astype(F32)
    a[:6] = [0.0, np.inf, 1e-40, 1.0, -1.0, np.nan]
    # every special x with every special alpha (subnormal and huge alphas among them)
    special_x = F32([0.0, -0.0, -1e-45, -1e-38, -3.0, -1e30, -np.inf, np.inf, np.nan])
    special_a = F32([0.0, -0.0, 1e-45, 1e-39, 1e-20, 1.0, 1e20, 3e38, np.inf, -1.0, np.nan])
    x = np.concatenate([x, np.repeat(special_x, special_a.size)])
    a = np.concatenate([a, np.tile(special_a, special_x.size)])
    g = rng.standard_normal(x.size).astype(F32)
    kernel = getattr(_math, name + "_float32")
    args = (g, x, a) if name.startswith("celu_backward") else (x, a)  # (x as y: any float32)
    with np.errstate(all="ignore"):
        loops = getattr(C, name)(*args)
        loops = loops if isinstance(loops, tuple) else (loops,)
        for i in range(x.size):
            python = kernel(*(v[i] for v in args))
            python = python if isinstance(python, tuple) else (python,)
            for got, want in zip(python, loops):
                assert isinstance(got, F32)
                assert np.array([got]).tobytes() == want[i : i + 1].tobytes(), (name, *(v[i] for v in args))
