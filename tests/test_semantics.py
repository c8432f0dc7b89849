"""Exact semantics of the six public functions (shared/CELU.md, "Special inputs").

* alpha == 0 is ReLU and alpha == inf the identity, for the value and both gradients,
  bit-exact, for arrays of x that include +-inf, +-0, NaN, subnormals and extremes;
* x = +inf -> (inf, 1, 0), x = -inf -> (-alpha, 0, -1) (the identity's (-inf, 1, 0) when
  alpha == inf), x NaN -> NaN for all three;
* a scalar alpha < 0 or NaN raises ValueError (message names alpha) in every entry point;
  an array alpha gives NaN exactly at its invalid entries;
* none of this emits a RuntimeWarning (every test here runs with RuntimeWarning as error);
* dtypes: float32 -> float32 (NEP 50: a Python float alpha does not upcast), float64 ->
  float64, integers and bool -> float64 (equal to the float64 results of the converted
  inputs), float16 -> float32 (float16 when written into a float16 out=); complex, string
  and object arrays raise TypeError;
* alpha defaults to 1.0, works as alpha=, and passing it both ways raises TypeError.

Expected values are written from the definitions, never taken from the library.
"""

import contextlib
import math
import warnings

import numpy as np
import pytest

import celu_numba as C

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

F16, F32, F64 = np.float16, np.float32, np.float64
FLOATS = [F32, F64]
INF, NAN = np.inf, np.nan

from public_api import ARITY, NAMES, NIN  # noqa: E402


def public(name):
    return getattr(C, name)


def call_args(name, x, g=None):
    """Positional inputs before alpha: (x,) or (grad_out, x)."""
    if NIN.get(name, 2) == 3:
        return (np.ones_like(x) if g is None else g, x)
    return (x,)


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def test_public_api_names_and_arity():
    """The six functions the core issue names, with their (nin, nout), and nothing else."""
    assert [n for n in C.__all__ if n not in ("CompileWarning", "cuda", "__version__")] == NAMES
    for name, (nin, nout) in ARITY.items():
        f = public(name)
        assert isinstance(f.ufunc, np.ufunc)
        assert (f.ufunc.nin, f.ufunc.nout, f.nin, f.nout) == (nin, nout, nin, nout), name
        assert f.__name__ == name and ">>>" in f.__doc__  # an example...
    from celu_numba import _docs

    assert set(_docs.__test__) == set(NAMES)  # ...that doctest runs (python -m pytest)


def bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def assert_same(got, want):
    """Same dtype and same values; NaN == NaN, and zeros must agree in sign too."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    both_nan = np.isnan(got) & np.isnan(want)
    same = (got == want) & (np.signbit(got) == np.signbit(want))
    assert np.all(both_nan | same), list(zip(got[~(both_nan | same)], want[~(both_nan | same)]))


@contextlib.contextmanager
def strict():
    """NumPy's default floating-point error handling (warn on divide, overflow, invalid),
    whatever the caller set, with RuntimeWarning raised as an error."""
    with warnings.catch_warnings(), np.errstate(divide="warn", over="warn", invalid="warn"):
        warnings.simplefilter("error", RuntimeWarning)
        yield


def x_values(dtype):
    fi = np.finfo(dtype)
    return np.array(
        [INF, -INF, NAN, 0.0, -0.0, fi.smallest_subnormal, -fi.smallest_subnormal, fi.smallest_normal,
         -fi.smallest_normal, 1e-30, -1e-30, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 700.0, -700.0, 1e6, -1e6,
         fi.max, -fi.max],
        dtype=dtype,
    )


# ------------------------------------------------------------------------- alpha == 0, inf


def relu_expected(x):
    """(max(0, x), [x >= 0], -[x < 0]) with NaN propagated; +0 for x < 0."""
    dtype = x.dtype.type
    value = np.where(x > 0, x, dtype(0.0))
    value = np.where(x == 0, x, value)  # x = +-0 gives x (a zero); only its value is asserted
    grad = np.where(x >= 0, dtype(1.0), dtype(0.0))
    grad_alpha = np.where(x >= 0, dtype(0.0), dtype(-1.0))
    nan = np.isnan(x)
    return tuple(np.where(nan, dtype(NAN), v).astype(dtype) for v in (value, grad, grad_alpha))


def identity_expected(x):
    dtype = x.dtype.type
    nan = np.isnan(x)
    ones = np.where(nan, dtype(NAN), dtype(1.0)).astype(dtype)
    zeros = np.where(nan, dtype(NAN), dtype(0.0)).astype(dtype)
    return x.copy(), ones, zeros


def check_three(x, alpha, expected, zero_sign=True):
    """celu, celu_grad, celu_grad_alpha, celu_and_grads and celu_backward(1, ...) at (x, alpha)."""
    value, grad, grad_alpha = expected
    got = (C.celu(x, alpha), C.celu_grad(x, alpha), C.celu_grad_alpha(x, alpha))
    fused = C.celu_and_grads(x, alpha)
    for g, f, w in zip(got, fused, (value, grad, grad_alpha)):
        if zero_sign:
            assert_same(g, w)
        else:
            assert np.array_equal(g, w, equal_nan=True) and g.dtype == w.dtype
        assert np.array_equal(bits(f), bits(g))
    assert_same(C.celu_backward(np.ones_like(x), x, alpha), grad)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("form", ["python", "numpy scalar", "array"])
def test_alpha_zero_is_relu(dtype, form):
    x = x_values(dtype)
    alpha = {"python": 0.0, "numpy scalar": dtype(0.0), "array": np.zeros_like(x)}[form]
    value, grad, grad_alpha = relu_expected(x)
    with strict():
        # the sign of a zero result at x = +-0 is not specified; elsewhere +0 exactly
        check_three(x, alpha, (value, grad, grad_alpha), zero_sign=False)
        got = C.celu(x, alpha)
    neg = x < 0
    assert np.all(got[neg] == 0) and not np.any(np.signbit(got[neg]))
    assert np.all(got[x == 0] == 0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("form", ["python", "numpy scalar", "array"])
def test_alpha_inf_is_identity(dtype, form):
    x = x_values(dtype)
    alpha = {"python": INF, "numpy scalar": dtype(INF), "array": np.full_like(x, INF)}[form]
    with strict():
        check_three(x, alpha, identity_expected(x))
        assert np.array_equal(bits(C.celu(x, alpha)), bits(x))  # bit for bit, -0 and NaN too


@pytest.mark.parametrize("dtype", FLOATS)
def test_negative_zero_alpha_is_relu(dtype):
    """alpha = -0.0 is not < 0: it is a valid alpha equal to 0, so ReLU (like +0.0).

    shared/CELU.md: 'a < 0 or a NaN -> NaN'; -0.0 < 0 is False, and the scalar -0.0 passes
    the ValueError check, so the results must be ReLU's (tests/reference.py agrees).
    """
    x = x_values(dtype)
    with strict():
        for alpha in (-0.0, dtype(-0.0), np.full_like(x, -0.0)):
            check_three(x, alpha, relu_expected(x), zero_sign=False)


# ------------------------------------------------------------------------- infinite and NaN x


@pytest.mark.parametrize("dtype", FLOATS)
def test_infinite_x(dtype):
    fi = np.finfo(dtype)
    alphas = np.array([fi.smallest_subnormal, fi.smallest_normal, 1e-3, 0.5, 1.0, 7.25, 1e3, fi.max], dtype=dtype)
    with strict():
        for x, want in ((INF, lambda a: (INF, 1.0, 0.0)), (-INF, lambda a: (-a, 0.0, -1.0))):
            xs = np.full_like(alphas, x)
            v, gx, ga = want(alphas)
            check_three(xs, alphas, tuple(np.broadcast_to(np.asarray(t, dtype), xs.shape).astype(dtype)
                                          for t in (v, gx, ga)))
        # alpha == 0: ReLU; alpha == inf: the identity (its rule wins over x = -inf)
        x = np.array([INF, -INF], dtype=dtype)
        check_three(x, dtype(0), (np.array([INF, 0], dtype), np.array([1, 0], dtype), np.array([0, -1], dtype)))
        check_three(x, dtype(INF), (x, np.ones(2, dtype), np.zeros(2, dtype)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_x_gives_nan_everywhere(dtype):
    alphas = np.array([0.0, 1e-3, 1.0, 1e3, INF], dtype=dtype)
    x = np.full_like(alphas, NAN)
    with strict():
        for name in NAMES:
            for out in as_tuple(public(name)(*call_args(name, x), alphas)):
                assert out.dtype == dtype and np.all(np.isnan(out)), name
        # NaN grad_out: NaN out of both backward functions
        for name in ("celu_backward", "celu_backward_from_output"):
            assert np.all(np.isnan(public(name)(x, np.array([-1.0, 0.0, 2.0, -3.0, 5.0], dtype), alphas)))


@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_results_are_the_one_nan(dtype):
    """A NaN x (any sign or payload) or an invalid alpha gives exactly np.nan's bits, on
    the contiguous and the strided (buffered) loops alike: no NaN payload or sign that
    the compiler's operand order would decide."""
    itype = np.uint32 if dtype == F32 else np.uint64
    nan_bits = np.array(NAN, dtype).view(itype)
    odd_nans = np.array([NAN, -NAN, NAN, -NAN], dtype)
    odd_nans.view(itype)[2:] |= 0x155  # payload bits
    x = np.concatenate([odd_nans, np.array([-1.0, 0.5, -0.0, -INF, INF, -1e-30], dtype)])
    alphas = np.array([1.0, 1e-3, 1e3, INF, 0.0, -1.0, NAN, -NAN, 2.0, -INF], dtype)
    xs, alphas_grid = np.meshgrid(x, alphas)
    invalid = np.isnan(xs) | ~(alphas_grid >= 0)
    with strict():
        for name in NAMES:
            outputs = as_tuple(public(name)(*call_args(name, xs), alphas_grid))
            strided = as_tuple(public(name)(*call_args(name, xs.T[::-1]), alphas_grid.T[::-1]))
            for o, (out, out_strided) in enumerate(zip(outputs, strided)):
                assert np.all(out.view(itype)[invalid] == nan_bits), (name, o)
                assert out_strided[::-1].T.tobytes() == out.tobytes(), (name, o)


# ------------------------------------------------------------------------- invalid alpha

BAD_SCALARS = [
    -1.0, -1e-300, -INF, NAN, -3, np.float64(-2.0), np.float32(-1.0), np.float32(NAN), np.float16(-1),
    np.int64(-2), np.int8(-1), np.array(-1.0), np.array(NAN, dtype=F32),
]


@pytest.mark.parametrize("alpha", BAD_SCALARS, ids=repr)
@pytest.mark.parametrize("name", NAMES)
def test_invalid_scalar_alpha_raises_value_error(name, alpha):
    func = public(name)
    args = call_args(name, np.array([-1.0, 0.5]))
    outs = tuple(np.empty(2) for _ in range(func.nout))
    with strict():
        for call in (
            lambda: func(*args, alpha),
            lambda: func(*args, alpha=alpha),
            lambda: func(*args, alpha, out=outs),  # NumPy arrays and out=: the quickest path
            lambda: func(*args, alpha, out=outs if len(outs) > 1 else outs[0]),
            lambda: func.outer(*args, alpha),
            lambda: func.outer(*args, alpha=alpha),
            lambda: func.at(np.array([-1.0, 0.5]), [0], *args[1:], alpha),
        ):
            with pytest.raises(ValueError, match="alpha"):
                call()


@pytest.mark.parametrize("name", NAMES)
def test_valid_scalar_alphas_do_not_raise(name):
    func = public(name)
    args = call_args(name, np.array([-1.0, 0.5]))
    with strict():
        for alpha in (0.0, -0.0, 0, 1, INF, np.float32(2), np.int64(3), np.array(0.5), True, 5e-324):
            for out in as_tuple(func(*args, alpha)):
                assert not np.any(np.isnan(out))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_array_alpha_nan_exactly_at_invalid_entries(name, dtype):
    x = np.array([-2.0, -0.5, 0.0, 1.5, -INF, INF, -1e-30], dtype=dtype)[:, None]
    alpha = np.array([1.0, -1.0, 0.25, NAN, -INF, 0.0, -1e-30, INF, 3.0], dtype=dtype)
    invalid = np.broadcast_to(~(alpha >= 0), (x.size, alpha.size))
    func = public(name)
    g = np.linspace(-2, 3, x.size).astype(dtype)[:, None]
    args = call_args(name, x, g)
    with strict():
        got = as_tuple(func(*args, alpha))
        for out in got:
            assert out.dtype == dtype and out.shape == invalid.shape
            assert np.all(np.isnan(out[invalid]))
        # the valid entries are exactly what each valid alpha gives on its own
        for j in np.flatnonzero(alpha >= 0):
            alone = as_tuple(func(*args, alpha[j]))
            for out, want in zip(got, alone):
                assert np.array_equal(bits(out[:, j]), bits(want[:, 0]))
                assert not np.any(np.isnan(out[:, j]))


@pytest.mark.parametrize("name", NAMES)
def test_raw_ufunc_gives_nan_for_invalid_scalar_alpha(name):
    """The raw np.ufunc does not validate: NaN, as for an invalid array entry, no warning."""
    args = call_args(name, np.array([-1.0, 0.0, 2.0]))
    with strict():
        for alpha in (-1.0, NAN):
            for out in as_tuple(public(name).ufunc(*args, alpha)):
                assert np.all(np.isnan(out))


# ------------------------------------------------------------------------- dtypes

INT_TYPES = [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64, np.bool_]


def int_values(itype):
    if itype is np.bool_:
        return np.array([True, False, True])
    info = np.iinfo(itype)
    vals = [info.min, info.min + 1, 0, 1, 2, 7, 100, info.max - 1, info.max]
    if info.min < 0:
        vals += [-1, -2, -7, -100]
    return np.array(vals, dtype=itype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_float_dtype_preserved(name, dtype):
    x = np.array([-3.0, -0.25, 0.0, 2.0], dtype=dtype)
    func = public(name)
    args = call_args(name, x)
    with strict():
        for alpha in ((), (1.5,), (2,), (dtype(1.5),), (np.full(4, 1.5, dtype),)):
            for out in as_tuple(func(*args, *alpha)):
                assert out.dtype == dtype, (alpha, out.dtype)
        # the float32 result of a Python float alpha is the float32 computation itself:
        # the same as with a float32 alpha, not a float64 result cast down
        for out, want in zip(as_tuple(func(*args, 0.1)), as_tuple(func(*args, dtype(0.1)))):
            assert np.array_equal(bits(out), bits(want))


@pytest.mark.parametrize("itype", INT_TYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("name", NAMES)
def test_integer_and_bool_inputs_give_float64(name, itype):
    x = int_values(itype)
    func = public(name)
    g = np.arange(x.size).astype(itype) if itype is not np.bool_ else x[::-1].copy()
    args = call_args(name, x, g)
    args64 = tuple(np.asarray(v).astype(F64) for v in args)
    with strict():
        for alpha in ((), (2,), (0.5,), (np.arange(1, x.size + 1).astype(itype) if itype is not np.bool_ else x,)):
            alpha64 = tuple(np.asarray(v).astype(F64) for v in alpha)
            got = as_tuple(func(*args, *alpha))
            want = as_tuple(func(*args64, *alpha64))
            for out, w in zip(got, want):
                assert out.dtype == F64
                assert np.array_equal(bits(out), bits(w)), (alpha, out, w)


@pytest.mark.parametrize("name", NAMES)
def test_float16_computes_in_float32(name):
    x = np.array([-3.0, -0.25, -1e-4, 0.0, 2.0, -INF, NAN], dtype=F16)
    func = public(name)
    args = call_args(name, x)
    args32 = tuple(v.astype(F32) for v in args)
    with strict():
        got = as_tuple(func(*args, 1.5))
        want = as_tuple(func(*args32, F32(1.5)))
        for out, w in zip(got, want):
            assert out.dtype == F32
            assert np.array_equal(bits(out), bits(w))
        outs = tuple(np.empty(x.shape, F16) for _ in got)
        res = as_tuple(func(*args, 1.5, out=outs if len(outs) > 1 else outs[0]))
        for r, o, w in zip(res, outs, want):
            assert r is o and r.dtype == F16
            assert np.array_equal(bits(r), bits(w.astype(F16)))


@pytest.mark.parametrize("name", NAMES)
def test_unsupported_dtypes_raise_type_error(name):
    func = public(name)
    bad_arrays = [
        np.array([1.0 + 1.0j, -2.0]),
        np.array([1.0, -2.0], dtype=np.complex64),
        np.array(["1.0", "-2.0"]),
        np.array([np.str_("a"), np.str_("b")]),
        np.array([1.0, -2.0], dtype=object),
    ]
    good = np.array([1.0, -2.0])
    with strict():
        for bad in bad_arrays:
            if NIN.get(name, 2) == 3:
                calls = [lambda: func(bad, good), lambda: func(good, bad), lambda: func(good, good, bad)]
            else:
                calls = [lambda: func(bad), lambda: func(bad, 1.0), lambda: func(good, bad)]
            for call in calls:
                with pytest.raises(TypeError):
                    call()
        with pytest.raises(TypeError):
            func(*call_args(name, good), 1j)


# ------------------------------------------------------------------------- the alpha argument


@pytest.mark.parametrize("name", NAMES)
def test_alpha_default_keyword_and_both_ways(name):
    func = public(name)
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    args = call_args(name, x, np.array([0.5, -2.0, 1.0, 3.0]))
    with strict():
        default = as_tuple(func(*args))
        for out, want in zip(default, as_tuple(func(*args, 1.0))):
            assert np.array_equal(bits(out), bits(want))
        for out, want in zip(as_tuple(func(*args, alpha=2.5)), as_tuple(func(*args, 2.5))):
            assert np.array_equal(bits(out), bits(want))
        # and 2.5 really is used: it differs from the default at x = -3
        assert not np.array_equal(as_tuple(func(*args, alpha=2.5))[0], default[0])
    with pytest.raises(TypeError):
        func(*args, 2.0, alpha=2.0)
    with pytest.raises(TypeError):
        func(*args, 1.0, alpha=1.0)


def test_default_alpha_values_match_definition():
    """celu(x) with no alpha is alpha = 1: -1 -> expm1(-1), written from the definition."""
    with strict():
        assert abs(float(C.celu(-1.0)) - math.expm1(-1.0)) <= 2 * math.ulp(math.expm1(-1.0))
        assert abs(float(C.celu_grad(-2.0)) - math.exp(-2.0)) <= 2 * math.ulp(math.exp(-2.0))
        ga = math.exp(-1.0) * 2.0 - 1.0
        assert abs(float(C.celu_grad_alpha(-1.0)) - ga) <= 4 * math.ulp(ga)
