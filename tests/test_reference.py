"""Tests of the mpmath reference itself (tests/reference.py), against independent values."""

import math
import os
import sys

import mpmath
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import reference as R  # noqa: E402

F64, F32 = np.float64, np.float32
E = math.e


def rel(a, b):
    """Relative difference |a - b| / |b| in mpmath."""
    with mpmath.workdps(60):
        return abs(mpmath.mpf(a) - mpmath.mpf(b)) / abs(mpmath.mpf(b))


# ---------------------------------------------------------------- values against closed forms

@pytest.mark.parametrize("x, a, expected", [
    (-1.0, 1.0, math.expm1(-1.0)),
    (-2.0, 0.5, 0.5 * math.expm1(-4.0)),
    (-3.0, 7.0, 7.0 * math.expm1(-3.0 / 7.0)),
    (-1e-10, 1.0, math.expm1(-1e-10)),
])
def test_celu_negative_matches_math(x, a, expected):
    assert rel(R.celu_ref(x, a), expected) < 1e-15


@pytest.mark.parametrize("x", [0.0, -0.0, 1e-300, 5e-324, 1.0, 123.5, 1e300])
@pytest.mark.parametrize("a", [1e-3, 1.0, 1e3])
def test_nonnegative_branch(x, a):
    assert R.celu_ref(x, a) == x
    assert R.grad_ref(x, a) == 1
    assert R.grad_alpha_ref(x, a) == 0


@pytest.mark.parametrize("x, a", [(-1.0, 1.0), (-3.0, 2.0), (-700.0, 1.0), (-1e-5, 3.0)])
def test_grad_is_exp(x, a):
    assert rel(R.grad_ref(x, a), math.exp(x / a)) < 2e-16 * max(1.0, abs(x / a))


def test_grad_alpha_at_minus_one():
    assert rel(R.grad_alpha_ref(-1.0, 1.0), 2.0 / E - 1.0) < 1e-15


@pytest.mark.parametrize("x, a", [(-2.0, 1.0), (-0.5, 3.0), (-30.0, 0.25)])
def test_grad_alpha_other_closed_form(x, a):
    # dCELU/da = expm1(z) - z*exp(z), evaluated independently at 100 digits
    with mpmath.workdps(100):
        z = mpmath.mpf(x) / mpmath.mpf(a)
        expected = mpmath.expm1(z) - z * mpmath.exp(z)
    assert rel(R.grad_alpha_ref(x, a), expected) < 1e-30


@pytest.mark.parametrize("z", [-1e-8, -1e-20, -1e-300])
def test_grad_alpha_series_small_z(z):
    # -z^2/2 - z^3/3 - z^4/8; with a = 1 the input z is exact
    with mpmath.workdps(60):
        zm = mpmath.mpf(z)
        expected = -zm**2 / 2 - zm**3 / 3 - zm**4 / 8
    assert rel(R.grad_alpha_ref(z, 1.0), expected) < 1e-12


def test_grad_alpha_subnormal_x_underflows():
    x, a = -5e-324, 1e3  # z = -2**-1074 / 1000 exactly
    with mpmath.workprec(300):
        z = mpmath.mpf(x) / mpmath.mpf(a)
        expected = -z**2 / 2
    v = R.grad_alpha_ref(x, a)
    assert v < 0 and rel(v, expected) < 1e-20
    assert R.reference("grad_alpha", x, a)[()] == 0.0


def test_celu_small_z_uses_expm1():
    # a*expm1(z) ~ x + x^2/(2a) for tiny z: must not cancel to 0 or lose digits
    x, a = -1e-20, 1.0
    with mpmath.workdps(60):
        expected = mpmath.mpf(x) + mpmath.mpf(x) ** 2 / 2
    assert rel(R.celu_ref(x, a), expected) < 1e-30


def test_deep_tail_grad_is_accurate():
    # z = -700.5 exactly; exp(z) needs > 53 + 10 bits of z to be right
    with mpmath.workdps(80):
        expected = mpmath.exp(mpmath.mpf(-700.5))
    assert rel(R.grad_ref(-1401.0, 2.0), expected) < 1e-30


def test_scale_similarity_power_of_two():
    for x, a in [(-1.0, 1.0), (-3.25, 0.75), (-1e-8, 3.0), (-600.0, 1.5)]:
        for k in (-10, 3, 40):
            c = 2.0**k
            assert R.celu_ref(c * x, c * a) == mpmath.ldexp(R.celu_ref(x, a), k)
            assert R.grad_ref(c * x, c * a) == R.grad_ref(x, a)
            assert R.grad_alpha_ref(c * x, c * a) == R.grad_alpha_ref(x, a)


# ---------------------------------------------------------------- limits and special inputs

NAN = math.nan
INF = math.inf


@pytest.mark.parametrize("x, a, value, gx, ga", [
    # a == 0: ReLU
    (-3.0, 0.0, 0.0, 0.0, -1.0),
    (2.0, 0.0, 2.0, 1.0, 0.0),
    (-0.0, 0.0, 0.0, 1.0, 0.0),
    (-INF, 0.0, 0.0, 0.0, -1.0),
    (INF, 0.0, INF, 1.0, 0.0),
    (-3.0, -0.0, 0.0, 0.0, -1.0),
    # a == inf: identity
    (-3.0, INF, -3.0, 1.0, 0.0),
    (5.0, INF, 5.0, 1.0, 0.0),
    (-INF, INF, -INF, 1.0, 0.0),
    # x infinite, a finite positive
    (-INF, 2.5, -2.5, 0.0, -1.0),
    (INF, 2.5, INF, 1.0, 0.0),
    # zeros
    (0.0, 1.0, 0.0, 1.0, 0.0),
    (-0.0, 1.0, 0.0, 1.0, 0.0),
    # invalid
    (NAN, 1.0, NAN, NAN, NAN),
    (1.0, NAN, NAN, NAN, NAN),
    (1.0, -1.0, NAN, NAN, NAN),
    (-1.0, -INF, NAN, NAN, NAN),
    (NAN, 0.0, NAN, NAN, NAN),
])
def test_special_values(x, a, value, gx, ga):
    for func, want in ((R.celu_ref, value), (R.grad_ref, gx), (R.grad_alpha_ref, ga)):
        got = func(x, a)
        if math.isnan(want):
            assert mpmath.isnan(got), (func.__name__, got)
        else:
            assert got == want, (func.__name__, got, want)


def test_limits_are_continuous():
    # a -> 0+ approaches ReLU, a -> inf approaches the identity
    assert abs(R.celu_ref(-1.0, 1e-300)) <= 1e-300
    assert R.grad_ref(-1.0, 1e-300) < mpmath.mpf("1e-1000")
    assert abs(R.grad_alpha_ref(-1.0, 1e-300) + 1) < mpmath.mpf("1e-1000")
    assert abs(R.celu_ref(-1.0, 1e300) + 1) < 1e-299
    assert abs(R.grad_ref(-1.0, 1e300) - 1) < 1e-299
    assert abs(R.grad_alpha_ref(-1.0, 1e300)) < mpmath.mpf("1e-599")
    assert abs(R.celu_ref(-1e6, 1.0) + 1) < mpmath.mpf("1e-400000")
    assert R.grad_ref(-1e6, 1e-3) < mpmath.mpf("1e-100000")


def test_global_precision_untouched():
    before = mpmath.mp.prec
    R.grad_alpha_ref(-1e-200, 1.0)
    R.grad_ref(-1e6, 1e-3)
    R.celu_ref(-1.0, 3.0)
    assert mpmath.mp.prec == before


def test_unknown_function_name():
    with pytest.raises(ValueError):
        R.exact_value("nope", 1.0, 1.0)


# ---------------------------------------------------------------- rounding to a dtype

def m2(k):
    return mpmath.ldexp(1, k)


def test_round_mpf_ties_and_subnormals():
    with mpmath.workprec(400):
        one = mpmath.mpf(1)
        assert R.round_mpf(one + m2(-53), F64) == 1.0  # tie -> even
        assert R.round_mpf(one + m2(-53) + m2(-200), F64) == np.nextafter(1.0, 2.0)
        assert R.round_mpf(one + 3 * m2(-53), F64) == 1.0 + 2 * 2.0**-52  # tie -> even (up)
        assert R.round_mpf(one + m2(-24), F32) == F32(1.0)
        assert R.round_mpf(one + m2(-24) + m2(-90), F32) == np.nextafter(F32(1), F32(2))
        assert R.round_mpf(m2(-1075), F64) == 0.0  # tie with 0 -> even
        assert R.round_mpf(m2(-1075) + m2(-1200), F64) == 5e-324
        assert R.round_mpf(3 * m2(-1075), F64) == 2 * 5e-324  # tie -> even
        assert R.round_mpf(3 * m2(-151), F32) == F32(2.0**-149)  # 0.75 ulp -> 1 ulp
        assert R.round_mpf(-m2(-150), F32) == 0.0
        fmax = np.finfo(F64).max
        assert R.round_mpf(m2(1024), F64) == np.inf
        assert R.round_mpf(mpmath.mpf(fmax) + m2(970), F64) == np.inf  # tie, max is odd
        assert R.round_mpf(mpmath.mpf(fmax) + m2(969), F64) == fmax
        assert R.round_mpf(-m2(128), F32) == -np.inf
    assert R.round_mpf(mpmath.mpf(1) / 3, F32).dtype == F32


def test_round_mpf_matches_numpy_casts():
    # float64 -> float32 cast is correctly rounded in numpy; compare on random doubles
    rng = np.random.default_rng(1)
    vals = rng.standard_normal(500) * 10.0 ** rng.integers(-45, 39, 500)
    for v in vals:
        assert R.round_mpf(mpmath.mpf(float(v)), F32) == F32(v) or (
            np.isnan(F32(v)))
        assert R.round_mpf(mpmath.mpf(float(v)), F64) == v


def test_reference_shapes_and_dtypes():
    x = np.array([[-1.0], [2.0]])
    a = np.array([1.0, 2.0, 0.5])
    out = R.reference("celu", x, a)
    assert out.shape == (2, 3) and out.dtype == F64
    assert out[0, 0] == math.expm1(-1.0)
    assert out[1].tolist() == [2.0, 2.0, 2.0]
    out32 = R.reference("grad", x.astype(F32), a.astype(F32), F32)
    assert out32.dtype == F32 and out32[0, 0] == F32(math.exp(-1.0))


# ---------------------------------------------------------------- ULP error

def test_ulp_equal_is_zero_and_next_is_one():
    x, a = 2.0, 1.0  # celu = 2 exactly
    assert R.ulp_error(np.array([2.0]), x, a, "celu")[0] == 0.0
    assert R.ulp_error(np.array([np.nextafter(2.0, 3.0)]), x, a, "celu")[0] == 1.0
    # below a power of two the spacing halves, but the ULP is taken at the exact value
    assert R.ulp_error(np.array([np.nextafter(2.0, 0.0)]), x, a, "celu")[0] == 0.5


def test_ulp_float32_vs_float64_spacing():
    x, a = F32(2.0), F32(1.0)
    c32 = np.array([np.nextafter(F32(2.0), F32(3.0))])
    assert R.ulp_error(c32, x, a, "celu")[0] == 1.0
    assert R.ulp_error(c32.astype(F64), x, a, "celu")[0] == 2.0**29
    assert R.ulp_error(c32, x, a, "celu", dtype=F64)[0] == 2.0**29


def test_ulp_nonrepresentable_exact():
    x, a = -1.0, 1.0
    c = R.reference("celu", x, a)
    err = R.ulp_error(c, x, a, "celu")[()]
    assert 0.0 < err <= 0.5
    toward_exact = np.inf if R.exact_value("celu", x, a) > c else -np.inf
    err2 = R.ulp_error(np.nextafter(c, toward_exact), x, a, "celu")[()]
    assert 0.5 <= err2 <= 1.5 and abs(err + err2 - 1.0) < 1e-12


def test_ulp_subnormal():
    x = 3 * 5e-324  # celu = x exactly, a subnormal
    assert R.ulp_error(np.array([4 * 5e-324]), x, 1.0, "celu")[0] == 1.0
    assert R.ulp_error(np.array([0.0]), x, 1.0, "celu")[0] == 3.0
    x32 = F32(3 * 2.0**-149)
    assert R.ulp_error(np.array([F32(2.0**-147)]), x32, F32(1), "celu")[0] == 1.0
    # exact value 0 (x >= 0 branch of grad_alpha): ulp is the smallest subnormal
    assert R.ulp_error(np.array([5e-324]), 1.0, 1.0, "grad_alpha")[0] == 1.0
    assert R.ulp_error(np.array([-0.0]), 1.0, 1.0, "grad_alpha")[0] == 0.0
    assert R.ulp_of(0.0, F32) == mpmath.ldexp(1, -149)
    assert R.ulp_of(1.0, F64) == mpmath.ldexp(1, -52)


def test_ulp_error_in_tiny_result_is_measured_exactly():
    # grad_alpha(-1e-200, 1) = -5e-401: below every float; returning 0 is correct, a
    # subnormal is off by ~1 ULP (difference taken exactly, not in floats)
    assert R.ulp_error(np.array([0.0]), -1e-200, 1.0, "grad_alpha")[0] < 1e-70
    assert abs(R.ulp_error(np.array([-5e-324]), -1e-200, 1.0, "grad_alpha")[0] - 1.0) < 1e-70


def test_ulp_nan_and_inf_handling():
    errs = R.ulp_error(
        np.array([np.nan, 1.0, np.nan, np.inf, -np.inf, np.inf, -2.5]),
        np.array([np.nan, np.nan, -1.0, np.inf, np.inf, 1.0, -np.inf]),
        np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.5]),
        "celu",
    )
    assert errs.tolist() == [0.0, np.inf, np.inf, 0.0, np.inf, np.inf, 0.0]


def test_ulp_error_broadcast_and_default_dtype():
    x = np.linspace(-3, -1, 4).astype(F32)
    a = np.array([[0.5], [2.0]], dtype=F32)
    c = R.reference("celu", x, a, F32)
    err = R.ulp_error(c, x, a, "celu")
    assert err.shape == (2, 4) and np.all(err <= 0.5)


def test_worst_ulp_finds_location():
    x = np.array([-1.0, -2.0, -3.0])
    a = np.array([1.0, 1.0, 1.0])
    c = R.reference("grad", x, a)
    c[1] = np.nextafter(np.nextafter(np.nextafter(c[1], 1), 1), 1)
    err, xw, aw = R.worst_ulp(c, x, a, "grad")
    assert 2.5 <= err <= 3.5 and (xw, aw) == (-2.0, 1.0)
    assert R.worst_ulp(np.array([]), np.array([]), np.array([]), "grad")[0] == 0.0


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("name", ["celu", "grad", "grad_alpha"])
def test_reference_is_correctly_rounded_on_grid(dtype, name):
    x, a = R.sample_grid(dtype, n_random=300, seed=3)
    c = R.reference(name, x, a, dtype)
    err = R.ulp_error(c, x, a, name)
    assert np.all(err <= 0.5)


# ---------------------------------------------------------------- sample grid

@pytest.mark.parametrize("dtype", [F64, F32])
def test_sample_grid_coverage(dtype):
    x, a = R.sample_grid(dtype)
    fi = np.finfo(dtype)
    assert x.dtype == dtype and a.dtype == dtype and x.shape == a.shape
    assert 2000 <= x.size <= 6000
    assert np.array_equal(R.sample_grid(dtype)[0], x, equal_nan=True)  # deterministic
    fin = np.isfinite(x) & np.isfinite(a)
    ax = np.abs(x[fin])
    assert (x[fin] < 0).sum() > 1000 and (x[fin] > 0).sum() > 500
    assert np.any(ax == fi.smallest_subnormal) and np.any(ax == fi.smallest_normal)
    assert np.any((ax > 0) & (ax < fi.smallest_normal))
    assert ax.max() >= dtype(1e5) and ax.max() <= dtype(1e6)
    assert np.any(x == dtype(-1e-8)) and np.any(x == dtype(1e-30))
    ar = a[fin & (a > 0)]
    assert ar.min() >= dtype(1e-3) and ar.max() <= dtype(1e3)
    # the negative branch reaches deep into the tail of exp(z)
    z = x[fin & (a > 0)].astype(F64) / ar.astype(F64)
    assert np.any(z < -700) and np.any((z < 0) & (z > -1e-15))
    # specials present
    assert np.isnan(x).sum() == 5 and np.any(a == 0) and np.any(np.isinf(a))
    assert np.any(np.signbit(x) & (x == 0))
    assert not np.any(np.isnan(R.sample_grid(dtype, special=False)[0]))


# ---------------------------------------------------------------- ulp_distance

@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("start", [1e-10, 1e-3, 1.0, 3e30, -7e-5])
def test_ulp_distance_counts_every_step(dtype, start):
    """k steps of nextafter are k, also where the bit patterns exceed 2**53 (float64)."""
    a = np.full(6, start, dtype=dtype)
    b = a.copy()
    for k in range(1, 6):
        b[k:] = np.nextafter(b[k:], dtype(np.inf))
    assert R.ulp_distance(a, b).tolist() == [0, 1, 2, 3, 4, 5]
    assert R.ulp_distance(b, a).tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("dtype", [F32, F64])
def test_ulp_distance_across_zero_nan_and_extremes(dtype):
    fi = np.finfo(dtype)
    tiny, big = fi.smallest_subnormal, fi.max
    a = np.array([0.0, tiny, -tiny, np.nan, np.nan, 1.0, -big, np.inf], dtype=dtype)
    b = np.array([-0.0, -tiny, tiny, np.nan, 1.0, np.nan, big, big], dtype=dtype)
    # values in order: the count of representable floats strictly between, plus one
    steps_to_max = int(np.array(big, dtype=dtype).view({4: np.int32, 8: np.int64}[fi.bits // 8]))
    expected = [0, 2, 2, 0, np.inf, np.inf, float(2 * steps_to_max), 1]
    assert R.ulp_distance(a, b).tolist() == expected
