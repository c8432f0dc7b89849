"""The six public functions behave as true NumPy ufuncs, for every ufunc feature.

The rule behind most tests: memory layout never changes a result.  A call on any
view (strided, reversed, Fortran, unaligned, broadcast, sliced, split over threads)
is compared bit for bit with the same call on plain C-contiguous copies of the
operands, broadcast to the full shape.  Those plain calls are checked once against a
float64 oracle written with the ``math`` module (no NumPy), so that every comparison
is anchored to values computed independently of the library.
"""

import contextlib
import functools
import math

import numba
import numpy as np
import pytest

import celu_numba

from public_api import ARITY, NAMES  # noqa: E402
ONE_OUTPUT = [n for n in NAMES if ARITY[n][1] == 1]
BINARY = [n for n in NAMES if ARITY[n] == (2, 1)]
FLOATS = [np.float32, np.float64]
SIZES = [1, 7, 255, 256, 257, 1000, 65537]  # around the block (256) and the thread split (2**15)
PARALLEL_N = (1 << 17) + 3  # well above celu_numba._threads.PARALLEL_MIN_SIZE (2**15)


def public(name):
    return getattr(celu_numba, name)


# ------------------------------------------------------------------------------- helpers


def bits(a):
    """The raw bits of an array, as unsigned integers (NaN payloads and -0 included)."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def assert_identical(got, want):
    """Same type, dtype, shape and bits; tuples element by element."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_identical(g, w)
        return
    assert type(got) is type(want), (type(got), type(want))
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    bad = bits(got) != bits(want)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[:5]
        raise AssertionError(
            f"{bad.sum()} of {bad.size} elements differ; first at {i}: "
            f"got {got.ravel()[i]!r}, want {want.ravel()[i]!r}"
        )


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


SPECIAL_X = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, 1e-300,
             -1e-300, 1e-8, -1e-8, -0.5, 700.0, -700.0, 1e6, -1e6, -40.0, -1e-3]
SPECIAL_ALPHA = [0.0, math.inf, 1.0, 0.5, 2.0, 1e-3, 1e3, -1.0, math.nan]


def x_values(rng, n):
    """n values over many magnitudes, both signs (3/4 negative), specials mixed in."""
    v = 10.0 ** rng.uniform(-6, 3, n) * np.where(rng.random(n) < 0.75, -1.0, 1.0)
    k = min(n, len(SPECIAL_X))
    v[rng.permutation(n)[:k]] = SPECIAL_X[:k]
    return v


def alpha_values(rng, n):
    v = 10.0 ** rng.uniform(-3, 3, n)
    k = min(n // 8, len(SPECIAL_ALPHA))  # a few specials (negative, NaN) in long arrays only
    v[rng.permutation(n)[:k]] = SPECIAL_ALPHA[:k]
    return v


def operands(name, shape, dtype=np.float64, seed=0):
    """The nin inputs of `name`, C-contiguous, of `shape` and `dtype`: (grad_out,) x, alpha."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape) if isinstance(shape, tuple) else shape
    ops = []
    if ARITY[name][0] == 3:
        ops.append(rng.standard_normal(n) * 10.0 ** rng.uniform(-2, 2, n))
    ops.append(x_values(rng, n))
    ops.append(alpha_values(rng, n))
    return [o.astype(dtype).reshape(shape) for o in ops]


def plain(*ops):
    """The operands broadcast to their common shape and copied C-contiguous."""
    return [np.array(a, order="C", copy=True) for a in np.broadcast_arrays(*ops)]


def reference_call(name, *ops, **kwargs):
    """The call on plain operands: the result every other layout must reproduce."""
    return public(name)(*plain(*ops), **kwargs)


# ------------------------------------------------------------------- a math-module oracle


def _py_celu(x, a):
    if math.isnan(x) or not a >= 0:
        return math.nan
    if x >= 0 or a == math.inf:
        return x
    if a == 0:
        return 0.0
    return a * math.expm1(x / a)


def _py_grad(x, a):
    if math.isnan(x) or not a >= 0:
        return math.nan
    if x >= 0 or a == math.inf:
        return 1.0
    if a == 0:
        return 0.0
    return math.exp(x / a)


def _py_grad_alpha(x, a):
    if math.isnan(x) or not a >= 0:
        return math.nan
    if x >= 0 or a == math.inf:
        return 0.0
    if a == 0:
        return -1.0
    z = x / a
    if z > -0.1:  # series: sum_{n>=2} (1 - n) z^n / n!
        return math.fsum((1 - n) * z**n / math.factorial(n) for n in range(2, 25))
    e = math.exp(z)
    return -1.0 if e == 0.0 else math.expm1(z) - z * e


def _py_backward(g, x, a):
    return g * _py_grad(x, a)


def _py_backward_from_output(g, y, a):
    if math.isnan(y) or not a >= 0:
        return math.nan
    if y >= 0 or a == math.inf:
        return g
    return g * (y * (math.inf if a == 0 else 1.0 / a) + 1.0)


PY_ORACLE = {
    "celu": lambda x, a: (_py_celu(x, a),),
    "celu_grad": lambda x, a: (_py_grad(x, a),),
    "celu_grad_alpha": lambda x, a: (_py_grad_alpha(x, a),),
    "celu_backward": lambda g, x, a: (_py_backward(g, x, a),),
    "celu_backward_from_output": lambda g, y, a: (_py_backward_from_output(g, y, a),),
    "celu_and_grads": lambda x, a: (_py_celu(x, a), _py_grad(x, a), _py_grad_alpha(x, a)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_plain_call_matches_math_oracle(name, dtype):
    ops = operands(name, 3000, dtype, seed=1)
    results = as_tuple(public(name)(*ops))
    assert len(results) == ARITY[name][1]
    rtol = 1e-11 if dtype == np.float64 else 2.5e-7
    tiny = float(np.finfo(dtype).smallest_subnormal)
    for k, result in enumerate(results):
        assert result.dtype == dtype and result.shape == (3000,)
        for i in range(3000):
            args = [float(o[i]) for o in ops]
            want = PY_ORACLE[name](*args)[k]
            got = float(result[i])
            if math.isnan(want):
                assert math.isnan(got), (name, k, args, got)
                continue
            scale = 1.0
            if name == "celu_backward_from_output" and args[1] < 0 < args[2] < math.inf:
                scale = abs(args[0]) * (1 + abs(args[1] / args[2]))  # y/a + 1 cancels near y = -a
            tol = rtol * abs(want) + 4e-16 * scale + 2 * tiny
            if math.isinf(want):
                assert got == want, (name, k, args, got, want)
            else:
                assert abs(got - want) <= tol, (name, k, args, got, want)


# ------------------------------------------------------------------ identity of the ufuncs


@pytest.mark.parametrize("name", NAMES)
def test_is_a_true_ufunc(name):
    f = public(name)
    nin, nout = ARITY[name]
    assert isinstance(f.ufunc, np.ufunc)
    assert f.ufunc is public(name).ufunc  # built once
    assert f.__name__ == name and f.ufunc.__name__ == name
    assert (f.nin, f.nout, f.nargs) == (nin, nout, nin + nout)
    assert (f.ufunc.nin, f.ufunc.nout) == (nin, nout)
    assert f.ufunc.identity is None and f.ufunc.signature is None
    expected_types = [
        "i" * (nin - 1) + "d->" + "d" * nout,
        "f" * nin + "->" + "f" * nout,
        "d" * nin + "->" + "d" * nout,
    ]
    assert f.types == f.ufunc.types == expected_types
    assert f.ntypes == 3


# --------------------------------------------------------------------------- layouts


def _strided(v, step):
    buf = np.full(abs(step) * len(v) + 3, 777.0, dtype=v.dtype)
    view = buf[1 :: step] if step > 0 else buf[-2 :: step]
    view = view[: len(v)]
    view[...] = v
    return view


def _unaligned(v):
    raw = np.zeros(v.nbytes + 1, dtype=np.uint8)
    view = raw[1:].view(v.dtype)
    view[...] = v
    assert not view.flags.aligned
    return view


def _record_field(v):
    """A field of a packed record array: a byte stride that no itemsize divides."""
    records = np.zeros(len(v), dtype=[("value", v.dtype), ("flag", np.uint8)])
    view = records["value"]
    view[...] = v
    assert view.strides[0] % v.itemsize != 0
    return view


# The buffered loop copies blocks with one loop per kind of stride: contiguous (the
# unaligned view), reversed, positive multiples of the itemsize (inputs only), and any
# other stride (negative multiples, the record field) one element at a time.
LAYOUTS_1D = {
    "step2": lambda v: _strided(v, 2),
    "step3": lambda v: _strided(v, 3),
    "reversed": lambda v: _strided(v, -1),
    "step-2": lambda v: _strided(v, -2),
    "unaligned": _unaligned,
    "record_field": _record_field,
}


def _slice2d(v):
    r, c = v.shape
    buf = np.full((2 * r + 1, 3 * c + 2), 777.0, dtype=v.dtype)
    view = buf[1::2, 2::3][:r, :c]
    view[...] = v
    return view


def _transposed(v):
    buf = np.array(v.T, order="C")
    return buf.T


def _negative2d(v):
    buf = np.full((v.shape[0], 2 * v.shape[1]), 777.0, dtype=v.dtype)
    view = buf[::-1, ::-2]
    view[...] = v
    return view


LAYOUTS_2D = {
    "fortran": np.asfortranarray,
    "slice2d": _slice2d,
    "transposed": _transposed,
    "negative2d": _negative2d,
}


def _apply_layout(layout, ops, which):
    """Apply `layout` to all operands, to the first only, or to alpha (the last) only."""
    chosen = {"all": range(len(ops)), "first": [0], "alpha": [len(ops) - 1]}[which]
    out = [layout(o) if i in chosen else o for i, o in enumerate(ops)]
    for o, v in zip(out, ops):
        np.testing.assert_array_equal(o, v)  # the layouts hold the same values
    return out


@pytest.mark.parametrize("which", ["all", "first", "alpha"])
@pytest.mark.parametrize("layout", LAYOUTS_1D)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_1d_layouts_bit_identical(name, dtype, layout, which):
    for n in SIZES:
        ops = operands(name, n, dtype, seed=n)
        got = public(name)(*_apply_layout(LAYOUTS_1D[layout], ops, which))
        assert_identical(got, reference_call(name, *ops))


@pytest.mark.parametrize("layout", LAYOUTS_1D)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_outputs_in_1d_layouts_bit_identical(name, dtype, layout):
    """out= in every 1-D layout, with inputs that send the call through the buffered
    loop: contiguous but for a strided alpha, all in the layout, and in the layout with
    a scalar alpha."""
    layout_of = LAYOUTS_1D[layout]
    for n in SIZES:
        ops = operands(name, n, dtype, seed=n)
        for inputs in (
            ops[:-1] + [_strided(ops[-1], 2)],
            [layout_of(o) for o in ops],
            [layout_of(o) for o in ops[:-1]] + [dtype(0.75)],
        ):
            want = as_tuple(reference_call(name, *inputs))
            outs = tuple(layout_of(np.full(n, 777.0, dtype)) for _ in want)
            got = as_tuple(public(name)(*inputs, out=outs if len(outs) > 1 else outs[0]))
            assert all(g is o for g, o in zip(got, outs))
            assert_identical(tuple(np.ascontiguousarray(o) for o in outs), want)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_in_place_through_the_buffered_loop(name, dtype):
    """out= the first input itself, a strided alpha sending the call through the buffered
    loop, which writes to a unit-stride output directly: the bits of a call on copies."""
    for n in SIZES:
        ops = operands(name, n, dtype, seed=n)
        want = as_tuple(reference_call(name, *ops))
        inputs = [o.copy() for o in ops[:-1]] + [_strided(ops[-1], 2)]
        outs = (inputs[0], *(np.full(n, 777.0, dtype) for _ in want[1:]))
        got = as_tuple(public(name)(*inputs, out=outs if len(outs) > 1 else outs[0]))
        assert all(g is o for g, o in zip(got, outs))
        assert_identical(outs, want)


@pytest.mark.parametrize("which", ["all", "first", "alpha"])
@pytest.mark.parametrize("layout", LAYOUTS_2D)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_2d_layouts_bit_identical(name, dtype, layout, which):
    for shape in [(1, 1), (3, 5), (17, 33), (40, 300)]:
        ops = operands(name, shape, dtype, seed=shape[1])
        got = public(name)(*_apply_layout(LAYOUTS_2D[layout], ops, which))
        assert_identical(got, reference_call(name, *ops))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_scalar_alpha_equals_alpha_array(name, dtype):
    """The stride-0 fast path (scalar alpha) gives the bits of the unit-stride one."""
    for n in SIZES:
        ops = operands(name, n, dtype, seed=n)
        for alpha in [0.0, 1e-3, 0.5, 1.0, 3.0, 1e3, math.inf]:
            a = dtype(alpha)
            want = public(name)(*ops[:-1], np.full(n, a))
            assert_identical(public(name)(*ops[:-1], a), want)
            assert_identical(public(name)(*ops[:-1], np.array(a)), want)
            assert_identical(public(name)(*ops[:-1], np.broadcast_to(a, (n,))), want)
            assert_identical(public(name)(*ops[:-1], alpha=a), want)
            x_strided = [_strided(o, 2) for o in ops[:-1]]
            assert_identical(public(name)(*x_strided, a), want)


@pytest.mark.parametrize("name", NAMES)
def test_broadcast_x_against_alpha_array(name):
    """x a scalar (stride 0), alpha an array: the buffered path."""
    alphas = np.array([0.0, 1e-3, 0.5, 1.0, 2.0, 1e3, np.inf, -1.0, np.nan] * 40)
    for x in [-3.0, -1e-9, 0.0, 2.5, -np.inf]:
        ops = [np.float64(0.75), np.float64(x), alphas][-ARITY[name][0]:]
        assert_identical(public(name)(*ops), reference_call(name, *ops))


@pytest.mark.parametrize("name", NAMES)
def test_same_bits_at_every_block_offset(name):
    """Each element depends on its own inputs only, not on where a block starts."""
    ops = operands(name, 1000, np.float64, seed=3)
    whole = as_tuple(public(name)(*ops))
    for start in [0, 1, 5, 255, 256, 257, 511, 999]:
        for stop in [start + 1, start + 7, min(start + 300, 1000), 1000]:
            part = as_tuple(public(name)(*[o[start:stop] for o in ops]))
            part_strided = as_tuple(public(name)(*[_strided(o[start:stop], 2) for o in ops]))
            for p, ps, w in zip(part, part_strided, whole):
                assert_identical(p, w[start:stop])
                assert_identical(ps, w[start:stop])


# ----------------------------------------------------------- scalars, lists, return types


@pytest.mark.parametrize("name", NAMES)
def test_python_and_numpy_scalars_give_numpy_scalars(name):
    nin, nout = ARITY[name]
    f = public(name)
    lead = (0.5,) if nin == 3 else ()
    cases = [
        ((*lead, -1.25), np.float64),
        ((*lead, -1.25, 2.0), np.float64),
        ((*lead, -3), np.float64),  # a Python int: the float64 result of the integer loop
        ((*[np.float64(v) for v in lead], np.float64(-1.25)), np.float64),
        ((*[np.float32(v) for v in lead], np.float32(-1.25)), np.float32),  # alpha=1.0 is weak
        ((*[np.float32(v) for v in lead], np.float32(-1.25), np.float32(2)), np.float32),
        ((*[np.array(v) for v in lead], np.array(-1.25)), np.float64),  # 0-d arrays
        ((*[np.array(v) for v in lead], np.array(-1.25), np.array(2.0)), np.float64),
    ]
    for args, scalar_type in cases:
        result = f(*args)
        numpy_says = np.hypot(np.asarray(args[-1]), 1.0)  # what a NumPy ufunc returns for 0-d
        for r in as_tuple(result):
            assert type(r) is scalar_type, (args, type(r))
            assert isinstance(r, np.generic) and not isinstance(numpy_says, np.ndarray)
        assert len(as_tuple(result)) == nout
        # the scalar result is the element of the array call
        arrays = [np.asarray(a, dtype=scalar_type) for a in args]
        full = f(*[a.reshape(1) for a in arrays])
        for r, w in zip(as_tuple(result), as_tuple(full)):
            assert_identical(np.asarray(r), w.reshape(()))


@pytest.mark.parametrize("name", NAMES)
def test_lists_and_integer_inputs_give_float64(name):
    nin = ARITY[name][0]
    f = public(name)
    lead = [[1.5, -2.0, 0.25, 3.0]] if nin == 3 else []
    lead_f = [np.array(v, dtype=np.float64) for v in lead]
    values = [-3, -1, 0, 2]
    want = f(*lead_f, np.array(values, dtype=np.float64))
    for ints in [values, np.array(values, np.int8), np.array(values, np.int16),
                 np.array(values, np.int32), np.array(values, np.int64)]:
        got = f(*lead, ints)
        for g in as_tuple(got):
            assert type(g) is np.ndarray and g.dtype == np.float64
        assert_identical(got, want)
    unsigned = np.array([0, 1, 2, 300], np.uint16)
    assert_identical(f(*lead, unsigned), f(*lead_f, unsigned.astype(np.float64)))
    got = f(*lead, [True, False, True, False])
    assert_identical(got, f(*lead_f, np.array([1.0, 0.0, 1.0, 0.0])))
    # nested lists broadcast like arrays
    x = [[-1.0, 2.0], [-3.0, 4.0]]
    alpha = [[1.0], [0.5]]
    got = f(*([[0.5, 2.0]] if nin == 3 else []), x, alpha)
    want = f(*([np.array([0.5, 2.0])] if nin == 3 else []), np.array(x), np.array(alpha))
    for g in as_tuple(got):
        assert type(g) is np.ndarray and g.shape == (2, 2) and g.dtype == np.float64
    assert_identical(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_float16_runs_the_float32_loop(name):
    ops = [np.clip(o, -6e4, 6e4).astype(np.float16) for o in operands(name, 300, np.float64, seed=5)]
    got = public(name)(*ops)
    want = public(name)(*[o.astype(np.float32) for o in ops])
    for g in as_tuple(got):
        assert g.dtype == np.float32
    assert_identical(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_mixed_dtypes_promote_to_float64(name):
    nin = ARITY[name][0]
    ops64 = operands(name, 1000, np.float64, seed=6)
    ops32 = [o.astype(np.float32) for o in ops64]
    want = public(name)(*[o.astype(np.float64) for o in ops32])
    # float32 x (and grad_out) with a float64 alpha array
    got = public(name)(*ops32[:-1], ops32[-1].astype(np.float64))
    for g in as_tuple(got):
        assert g.dtype == np.float64
    assert_identical(got, want)
    # float64 x with a float32 alpha array
    got = public(name)(*[o.astype(np.float64) for o in ops32[:-1]], ops32[-1])
    assert_identical(got, want)
    # float32 x with a float64 NumPy scalar alpha (a strong type under NEP 50)
    got = public(name)(*ops32[:-1], np.float64(0.5))
    assert_identical(got, public(name)(*[o.astype(np.float64) for o in ops32[:-1]], 0.5))
    if nin == 3:  # float32 grad_out, float64 x
        got = public(name)(ops32[0], ops32[1].astype(np.float64), ops32[2])
        assert_identical(got, want)
    # int32 x with a float32 alpha: the integer loop, float64 out
    xi = np.arange(-500, 500, dtype=np.int32)
    lead = [np.float32(1.5)] * (nin - 2)
    got = public(name)(*lead, xi, np.float32(0.5))
    want = public(name)(*[np.float64(v) for v in lead], xi.astype(np.float64), 0.5)
    assert_identical(got, want)


# ------------------------------------------------------------------------------ empty


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4)])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_empty_arrays(name, dtype, shape):
    nin, nout = ARITY[name]
    ops = [np.empty(shape, dtype) for _ in range(nin)]
    for result in [public(name)(*ops), public(name)(*ops[:-1])]:
        results = as_tuple(result)
        assert len(results) == nout
        for r in results:
            assert type(r) is np.ndarray and r.shape == shape and r.dtype == dtype
    out = tuple(np.empty(shape, dtype) for _ in range(nout))
    got = as_tuple(public(name)(*ops, out=out))
    assert all(g is o for g, o in zip(got, out))
    # broadcasting an empty x against a (1,) alpha
    r = as_tuple(public(name)(*ops[:-1], np.ones(1, dtype)))
    assert r[0].shape == shape


# ----------------------------------------------------------------------- broadcasting


@pytest.mark.parametrize("name", NAMES)
def test_broadcasting(name):
    nin = ARITY[name][0]
    C, N = 4, 37
    ops = operands(name, (C, N), np.float64, seed=7)
    alpha_full = ops[-1]
    alphas = {
        "scalar": 0.75,
        "same shape": alpha_full,
        "per channel (C,1)": np.abs(alpha_full[:, :1]),
        "per column (N,)": np.abs(alpha_full[0]),
        "(1,N)": np.abs(alpha_full[:1]),
    }
    for label, alpha in alphas.items():
        args = [*ops[:-1], alpha]
        got = public(name)(*args)
        for r in as_tuple(got):
            assert r.shape == (C, N), label
        assert_identical(got, reference_call(name, *args))
        # each row of the broadcast result is the row computed alone
        a_b = np.broadcast_to(alpha, (C, N))
        for c in range(C):
            row = public(name)(*[o[c] for o in ops[:-1]], np.ascontiguousarray(a_b[c]))
            for r, w in zip(as_tuple(got), as_tuple(row)):
                assert_identical(r[c], w)
    # the output shape grows: x (N,) with alpha (C,1) gives (C,N); grad_out may broadcast too
    args = [*[o[0] for o in ops[:-1]], np.abs(alpha_full[:, :1])]
    if nin == 3:
        args[0] = ops[0][:, :1]
    got = public(name)(*args)
    for r in as_tuple(got):
        assert r.shape == (C, N)
    assert_identical(got, reference_call(name, *args))


def test_broadcast_shape_mismatch_raises():
    with pytest.raises(ValueError):
        celu_numba.celu(np.zeros(3), np.ones(4))


# ------------------------------------------------------------------------------ out=


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_out_array_and_tuple(name, dtype):
    nout = ARITY[name][1]
    ops = operands(name, (5, 63), dtype, seed=8)
    want = public(name)(*ops)
    outs = tuple(np.full((5, 63), 99.0, dtype) for _ in range(nout))
    got = public(name)(*ops, out=outs)
    assert isinstance(got, tuple) if nout > 1 else got is outs[0]
    for g, o in zip(as_tuple(got), outs):
        assert g is o
    assert_identical(as_tuple(got), as_tuple(want))
    if nout == 1:
        o = np.full((5, 63), 99.0, dtype)
        got = public(name)(*ops, out=o)
        assert got is o
        assert_identical(got, want)
        # out= a strided view
        buf = np.full((10, 200), 99.0, dtype)
        view = buf[::2, 1::3][:, :63]
        got = public(name)(*ops, out=view)
        assert got is view
        assert_identical(np.ascontiguousarray(got), want)
        untouched = np.ones(buf.shape, bool)
        untouched[::2, 1::3][:, :63] = False
        assert (buf[untouched] == 99.0).all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", NAMES)
def test_every_call_form_is_the_raw_ufunc_call(name, dtype):
    """The public object's call, whichever way alpha and out= are passed (the common
    forms take a short path to the ufunc, the others the general one), gives what the
    raw ufunc gives for the same arguments, and writes into and returns out=."""
    nout = ARITY[name][1]
    ops = operands(name, 300, dtype, seed=12)
    inputs, alpha_array = ops[:-1], ops[-1]
    ufunc = public(name).ufunc
    f = public(name)
    forms = {  # public call -> the raw ufunc's alpha
        "default alpha": (lambda: f(*inputs), 1.0),
        "float alpha": (lambda: f(*inputs, 0.75), 0.75),
        "alpha=": (lambda: f(*inputs, alpha=0.75), 0.75),
        "int alpha": (lambda: f(*inputs, 3), 3),
        "numpy scalar alpha": (lambda: f(*inputs, dtype(0.75)), dtype(0.75)),
        "0-d array alpha": (lambda: f(*inputs, np.array(0.75, dtype)), np.array(0.75, dtype)),
        "array alpha": (lambda: f(*inputs, alpha_array), alpha_array),
        "alpha=array": (lambda: f(*inputs, alpha=alpha_array), alpha_array),
        "zero alpha": (lambda: f(*inputs, 0.0), 0.0),
        "list x": (lambda: f(*[a.tolist() for a in inputs], 0.75), 0.75),
    }
    for form, (call, alpha) in forms.items():
        raw = ufunc(*([a.tolist() for a in inputs] if form == "list x" else inputs), alpha)
        try:
            assert_identical(call(), raw)
        except AssertionError as e:
            raise AssertionError(form) from e
    for form, (call, alpha) in {
        "out=": (lambda o: f(*inputs, 0.75, out=o if nout > 1 else o[0]), 0.75),
        "out= default alpha": (lambda o: f(*inputs, out=o if nout > 1 else o[0]), 1.0),
        "alpha= and out=": (lambda o: f(*inputs, alpha=0.75, out=o if nout > 1 else o[0]), 0.75),
        "positional out": (lambda o: f(*inputs, 0.75, *o), 0.75),
        "out=None": (lambda o: f(*inputs, 0.75, out=None), 0.75),
    }.items():
        outs = tuple(np.full(300, 99.0, dtype) for _ in range(nout))
        got = call(outs)
        try:
            assert_identical(got, ufunc(*inputs, alpha))
        except AssertionError as e:
            raise AssertionError(form) from e
        if form != "out=None":
            for g, o in zip(as_tuple(got), outs):
                assert g is o, form
    with pytest.raises(ValueError, match="alpha"):
        f(*inputs, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        f(*inputs, alpha=math.nan)
    with pytest.raises(TypeError):
        f(*inputs, 0.75, alpha=0.75)
    with pytest.raises(TypeError):
        f()


@pytest.mark.parametrize("name", NAMES)
def test_python_float_alpha_calls_are_the_raw_ufunc_calls(name):
    """The common call passes a Python-float alpha as a cached 0-d array of the inputs'
    dtype (celu_numba._api._alpha_operand): every call gives what the raw ufunc gives
    with the float itself (type, dtype, bits and warnings), whatever alpha, dtype and
    shape came before it (the cache is keyed by both), for 0-d and 1-d inputs, mixed
    input dtypes, float16 and integer inputs, and alphas at float32's limits."""
    import warnings

    f, ufunc = public(name), public(name).ufunc
    ops64 = operands(name, 50, np.float64, seed=21)[:-1]
    alphas = [1.5, 1.5, 2.5, 1.5, 1e-3, 1e3, 2.0**-149, 1e-46, 3.4e38, 1e39, math.inf, 0.0, -0.0, 1.0]
    with np.errstate(all="ignore"):  # float16 overflows, integers of inf and NaN
        variants = [[a.astype(dtype) for a in ops64] for dtype in (np.float32, np.float64, np.float32, np.float16)]
        variants.append([np.array(a[3], np.float32) for a in ops64])  # 0-d
        variants.append([(a * 10).astype(np.int64) for a in ops64])
    if len(ops64) == 2:  # grad_out and x of different dtypes
        variants += [[ops64[0].astype(np.float32), ops64[1]], [ops64[0], ops64[1].astype(np.float32)]]
    cases = [(inputs, alpha) for alpha in alphas for inputs in variants]

    def recording_warnings(call, *args, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call(*args, **kwargs)
        return result, [str(w.message) for w in caught]

    for inputs, alpha in cases:
        want, want_warnings = recording_warnings(ufunc, *inputs, alpha)
        got, got_warnings = recording_warnings(f, *inputs, alpha)
        context = (alpha, [(a.dtype, a.shape) for a in inputs])
        try:
            assert_identical(got, want)
        except AssertionError as e:
            raise AssertionError(context) from e
        assert got_warnings == want_warnings, context
        # with out=, into an output of the loop's dtype
        outs = tuple(np.full(np.shape(w), 99.0, np.asarray(w).dtype) for w in as_tuple(want))
        got, got_warnings = recording_warnings(f, *inputs, alpha, out=outs if len(outs) > 1 else outs[0])
        assert_identical(tuple(np.asarray(g) for g in as_tuple(got)), tuple(np.asarray(w) for w in as_tuple(want)))
        assert got_warnings == want_warnings, context


def test_cached_alpha_is_per_call_under_threads():
    """Calls with different alphas and dtypes from several Python threads at once: each
    result is its own call's (the cache entry is replaced whole, never half-updated)."""
    from concurrent.futures import ThreadPoolExecutor

    x64 = operands("celu", 1000, np.float64, seed=22)[0]
    jobs = [(x64.astype(dtype), 0.1 + k / 7) for k in range(16) for dtype in (np.float32, np.float64)]
    want = [celu_numba.celu.ufunc(x, alpha) for x, alpha in jobs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(20):
            got = list(pool.map(lambda job: celu_numba.celu(*job), jobs))
            for g, w in zip(got, want):
                assert_identical(g, w)


def test_multiple_outputs_into_preallocated_buffers():
    ops = operands("celu_and_grads", 2000, np.float64, seed=9)
    want = celu_numba.celu_and_grads(*ops)
    bufs = tuple(np.empty(2000) for _ in range(3))
    got = celu_numba.celu_and_grads(*ops, out=bufs)
    assert all(g is b for g, b in zip(got, bufs))
    assert_identical(got, want)
    # the single-output functions give the same bits
    singles = (celu_numba.celu(*ops), celu_numba.celu_grad(*ops), celu_numba.celu_grad_alpha(*ops))
    assert_identical(got, singles)
    # None entries are allocated by NumPy
    for k in range(3):
        out = [None, None, None]
        out[k] = np.empty(2000)
        got = celu_numba.celu_and_grads(*ops, out=tuple(out))
        assert got[k] is out[k]
        assert_identical(got, want)
    got = celu_numba.celu_and_grads(*ops, out=(None, None, None))
    assert_identical(got, want)
    # strided and float32 output buffers (same_kind casting on output)
    strided = tuple(np.empty(4000)[::2] for _ in range(3))
    got = celu_numba.celu_and_grads(*ops, out=strided)
    assert_identical(tuple(np.ascontiguousarray(g) for g in got), want)
    f32 = tuple(np.empty(2000, np.float32) for _ in range(3))
    got = celu_numba.celu_and_grads(*ops, out=f32)
    assert_identical(got, tuple(w.astype(np.float32) for w in want))


def test_out_with_wrong_number_of_entries_raises():
    x = np.linspace(-2, 2, 5)
    with pytest.raises(ValueError):
        celu_numba.celu_and_grads(x, out=(np.empty(5),))
    with pytest.raises(ValueError):
        celu_numba.celu(x, out=(np.empty(5), np.empty(5)))
    with pytest.raises(ValueError):
        celu_numba.celu(x, out=np.empty(4))


@pytest.mark.parametrize("n", [7, 1000, PARALLEL_N])
@pytest.mark.parametrize("name", NAMES)
def test_in_place(name, n):
    nin, nout = ARITY[name]
    ops = operands(name, n, np.float64, seed=10)
    want = public(name)(*ops)
    for k in range(nin - 1):  # out is x (or grad_out): the same memory as an input
        work = [o.copy() for o in ops]
        out = (work[k],) + tuple(np.empty(n) for _ in range(nout - 1))
        got = public(name)(*work, out=out)
        assert as_tuple(got)[0] is work[k]
        assert_identical(as_tuple(got), as_tuple(want))
    # in place on a strided view, scalar alpha
    buf = np.zeros(2 * n)
    x = buf[::2]
    x[...] = ops[-2]
    want = public(name)(*ops[:-2], ops[-2].copy(), 0.5)
    out = (x,) + tuple(np.empty(n) for _ in range(nout - 1))
    got = public(name)(*ops[:-2], x, 0.5, out=out)
    assert_identical(tuple(np.ascontiguousarray(g) for g in as_tuple(got)), as_tuple(want))
    assert (buf[1::2] == 0).all()


@pytest.mark.parametrize("n", [9, 1000, PARALLEL_N])
@pytest.mark.parametrize("name", ONE_OUTPUT)
def test_overlapping_out_has_copy_semantics(name, n):
    """out overlapping an input (not the same view): the result equals the call on a copy.

    NumPy copies when the output runs ahead of an input; when it runs one element behind,
    it hands the overlapping arrays to the loop, which must then act element by element.
    x < 0 everywhere, so an overwritten input always changes the result.
    """
    rng = np.random.default_rng(11)
    ops = [rng.uniform(-2, 2, n + 1), -(10.0 ** rng.uniform(-1, 2, n + 1)),
           rng.uniform(0.5, 2, n + 1)][-ARITY[name][0]:]
    for shift in [1, -1]:
        buf = ops[-2].copy()
        src = buf[:-1] if shift == 1 else buf[1:]
        dst = buf[1:] if shift == 1 else buf[:-1]
        rest_lead = [o[:-1] for o in ops[:-2]]
        for alpha in [ops[-1][:-1], 0.75]:
            buf[...] = ops[-2]
            want = public(name)(*rest_lead, src.copy(), alpha)
            got = public(name)(*rest_lead, src, alpha, out=dst)
            assert got is dst
            assert_identical(np.ascontiguousarray(got), want)
    # strided, one element behind
    buf = np.zeros(2 * n + 2)
    buf[::2] = ops[-2]
    want = public(name)(*[o[1:] for o in ops[:-2]], buf[2::2].copy(), 0.75)
    got = public(name)(*[o[1:] for o in ops[:-2]], buf[2::2], 0.75, out=buf[:-2:2])
    assert_identical(np.ascontiguousarray(got), want)
    # out reversed onto its own input
    buf = ops[-2].copy()
    want = public(name)(*ops[:-2], buf.copy(), ops[-1])
    got = public(name)(*ops[:-2], buf, ops[-1], out=buf[::-1])
    assert_identical(np.ascontiguousarray(got), want)
    # alpha overlapping the output
    for shift in [1, -1]:
        buf = ops[-1].copy()
        src = buf[:-1] if shift == 1 else buf[1:]
        dst = buf[1:] if shift == 1 else buf[:-1]
        want = public(name)(*[o[1:] for o in ops[:-1]], src.copy())
        got = public(name)(*[o[1:] for o in ops[:-1]], src, out=dst)
        assert_identical(np.ascontiguousarray(got), want)


def test_overlapping_out_multiple_outputs():
    ops = operands("celu_and_grads", 3001, np.float64, seed=12)
    buf = np.concatenate([ops[0], np.zeros(6002)])
    x = buf[:3000]
    want = celu_numba.celu_and_grads(x.copy(), ops[1][:3000])
    outs = (buf[1:3001], buf[3001:6001], buf[6001:9001])
    got = celu_numba.celu_and_grads(x, ops[1][:3000], out=outs)
    assert_identical(tuple(np.ascontiguousarray(g) for g in got), want)


# ---------------------------------------------------------------------------- where=


@pytest.mark.parametrize("n", [7, 1000, PARALLEL_N])
@pytest.mark.parametrize("name", NAMES)
def test_where_with_out_leaves_false_untouched(name, n):
    nout = ARITY[name][1]
    ops = operands(name, n, np.float64, seed=13)
    mask = np.random.default_rng(13).random(n) < 0.5
    want = as_tuple(public(name)(*ops))
    outs = tuple(np.full(n, -12345.0) for _ in range(nout))
    got = as_tuple(public(name)(*ops, out=outs, where=mask))
    for g, o, w in zip(got, outs, want):
        assert g is o
        assert (g[~mask] == -12345.0).all()
        assert_identical(g[mask], w[mask])
    # a broadcast mask: (N,) against (C, N)
    ops2 = operands(name, (3, 50), np.float64, seed=14)
    mask2 = np.arange(50) % 3 == 0
    outs2 = tuple(np.full((3, 50), -1.0) for _ in range(nout))
    got = as_tuple(public(name)(*ops2, out=outs2, where=mask2))
    for g, w in zip(got, as_tuple(public(name)(*ops2))):
        assert (g[:, ~mask2] == -1.0).all()
        assert_identical(g[:, mask2], w[:, mask2])
    # where=True and where=False as scalars
    outs3 = tuple(np.full(n, 7.0) for _ in range(nout))
    public(name)(*ops, out=outs3, where=False)
    assert all((o == 7.0).all() for o in outs3)
    got = as_tuple(public(name)(*ops, out=outs3, where=True))
    assert_identical(got, want)


@pytest.mark.parametrize("name", NAMES)
def test_where_without_out(name):
    ops = operands(name, 999, np.float32, seed=15)
    mask = np.random.default_rng(15).random(999) < 0.3
    want = as_tuple(public(name)(*ops))
    # NumPy >= 2.1 warns that the rest is uninitialized, as for its own ufuncs
    warns = np.lib.NumpyVersion(np.__version__) >= "2.1.0"
    with pytest.warns(UserWarning, match="where") if warns else contextlib.nullcontext():
        got = as_tuple(public(name)(*ops, where=mask))
    nones = (None,) * ARITY[name][1]  # out given, all None: no warning
    got_none = as_tuple(public(name)(*ops, where=mask, out=nones))
    for g, gn, w in zip(got, got_none, want):
        assert g.shape == gn.shape == (999,) and g.dtype == gn.dtype == np.float32
        assert_identical(g[mask], w[mask])
        assert_identical(gn[mask], w[mask])


# ------------------------------------------------------------------ dtype=, casting=


@pytest.mark.parametrize("name", NAMES)
def test_dtype_selects_the_loop(name):
    ops64 = operands(name, 777, np.float64, seed=16)
    ops64 = [np.where(np.abs(o) < 1e30, o, 1.0) for o in ops64]  # representable in float32
    got = public(name)(*ops64, dtype=np.float32)
    assert_identical(got, public(name)(*[o.astype(np.float32) for o in ops64]))
    ops32 = [o.astype(np.float32) for o in ops64]
    got = public(name)(*ops32, dtype=np.float64)
    assert_identical(got, public(name)(*[o.astype(np.float64) for o in ops32]))
    # signature= names the loop too
    nin, nout = ARITY[name]
    got = public(name)(*ops32, signature="d" * nin + "->" + "d" * nout)
    assert_identical(got, public(name)(*[o.astype(np.float64) for o in ops32]))


@pytest.mark.parametrize("name", NAMES)
def test_casting(name):
    nin, nout = ARITY[name]
    ops = operands(name, 50, np.float64, seed=17)
    ops = [np.clip(np.nan_to_num(o), -50, 50) for o in ops]
    ops[-1] = np.abs(ops[-1]) + 0.5
    int_outs = tuple(np.zeros(50, np.int64) for _ in range(nout))
    with pytest.raises(TypeError) as info:  # numpy's UFuncTypeError is a TypeError
        public(name)(*ops, out=int_outs)
    assert "cast" in str(info.value).lower()
    assert all((o == 0).all() for o in int_outs)
    got = public(name)(*ops, out=int_outs, casting="unsafe")
    for g, w in zip(as_tuple(got), as_tuple(public(name)(*ops))):
        np.testing.assert_array_equal(g, w.astype(np.int64))
    with pytest.raises(TypeError):  # float64 inputs into the float32 loop are not "safe"
        public(name)(*ops, dtype=np.float32, casting="safe")
    ops32 = [o.astype(np.float32) for o in ops]
    with pytest.raises(TypeError):  # float32 x with a float64 alpha array needs a cast
        public(name)(*ops32[:-1], ops[-1], casting="no")
    got = public(name)(*ops32, casting="no")
    assert_identical(got, public(name)(*ops32))


# ---------------------------------------------------------------------- order=, subok=


@pytest.mark.parametrize("name", NAMES)
def test_order(name):
    ops = operands(name, (6, 11), np.float64, seed=18)
    want = as_tuple(public(name)(*ops))
    fops = [np.asfortranarray(o) for o in ops]
    cases = [
        (ops, "F", "F_CONTIGUOUS"),
        (ops, "C", "C_CONTIGUOUS"),
        (fops, "C", "C_CONTIGUOUS"),
        (fops, "K", "F_CONTIGUOUS"),
        (fops, "A", "F_CONTIGUOUS"),
        (ops, "K", "C_CONTIGUOUS"),
    ]
    for args, order, flag in cases:
        got = as_tuple(public(name)(*args, order=order))
        for g, w in zip(got, want):
            assert g.flags[flag], (order, flag)
            assert_identical(np.ascontiguousarray(g), w)


class Subclass(np.ndarray):
    """A trivial ndarray subclass."""


@pytest.mark.parametrize("name", NAMES)
def test_subok(name):
    ops = operands(name, 100, np.float64, seed=19)
    want = as_tuple(public(name)(*ops))
    sub = [o.view(Subclass) for o in ops]
    for args in [sub, [*ops[:-1], sub[-1]], [sub[0], *ops[1:]]]:
        got = as_tuple(public(name)(*args))
        for g, w in zip(got, want):
            assert type(g) is Subclass
            assert_identical(g.view(np.ndarray), w)
        got = as_tuple(public(name)(*args, subok=False))
        for g, w in zip(got, want):
            assert type(g) is np.ndarray
            assert_identical(g, w)


# -------------------------------------------------------------------------- outer, at


@pytest.mark.parametrize("name", [n for n in NAMES if ARITY[n][0] == 2])
def test_outer(name):
    f = public(name)
    xs = x_values(np.random.default_rng(20), 50)
    alphas = np.array([0.0, 1e-3, 0.3, 1.0, 2.0, 1e3, np.inf])
    got = f.outer(xs, alphas)
    for g in as_tuple(got):
        assert g.shape == (50, 7)
    assert_identical(got, f(xs[:, None], alphas[None, :]))
    assert_identical(f.ufunc.outer(xs, alphas), got)
    xs2 = xs[:12].reshape(3, 4)
    got = f.outer(xs2, alphas[1:4])
    for g in as_tuple(got):
        assert g.shape == (3, 4, 3)
    assert_identical(got, f(xs2[:, :, None], alphas[1:4]))
    # alpha optional on the public object: outer(xs) is outer(xs, 1.0)
    assert_identical(f.outer(xs), f(xs, 1.0))


@pytest.mark.parametrize("name", ["celu_backward", "celu_backward_from_output"])
def test_outer_of_three_inputs_raises_cleanly(name):
    with pytest.raises((ValueError, TypeError)):
        public(name).outer(np.ones(3), np.ones(3), np.ones(3))


def _sequential_at(ufunc, y, idx, alphas):
    """What ufunc.at does, one index after another (repeated indices apply repeatedly)."""
    z = y.copy()
    alphas = np.broadcast_to(alphas, np.shape(idx))
    for i, a in zip(np.asarray(idx).ravel(), np.asarray(alphas).ravel()):
        z[i] = ufunc(z[i], a)
    return z


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BINARY)
def test_at_repeated_indices(name, dtype):
    f = public(name)
    y0 = np.array([-1.0, -2.0, -3.0, 4.0, -5.0, -0.5, 7.0, -8.0], dtype)
    idx = np.array([0, 0, 0, 2, 4, 4, -1, 5, 1, 1])
    for alpha in [1.0, 0.5, 3.0]:
        y = y0.copy()
        assert f.at(y, idx, alpha) is None
        assert_identical(y, _sequential_at(f.ufunc, y0, idx, dtype(alpha)))
        y = y0.copy()
        f.ufunc.at(y, idx, alpha)
        assert_identical(y, _sequential_at(f.ufunc, y0, idx, dtype(alpha)))
    y = y0.copy()
    f.at(y, idx)  # alpha optional, 1.0
    assert_identical(y, _sequential_at(f.ufunc, y0, idx, dtype(1.0)))
    alphas = np.linspace(0.25, 4.0, len(idx)).astype(dtype)  # one alpha per index
    y = y0.copy()
    f.at(y, idx, alphas)
    assert_identical(y, _sequential_at(f.ufunc, y0, idx, alphas))
    y = y0.copy()  # a slice as the index
    f.at(y, slice(1, None, 3), 2.0)
    assert_identical(y, _sequential_at(f.ufunc, y0, np.arange(8)[1::3], dtype(2.0)))
    # a larger, strided target
    big = np.random.default_rng(21).standard_normal(3000).astype(dtype)
    target = big[::3].copy()
    idx = np.random.default_rng(22).integers(0, 1000, 5000)
    view = big[::3]
    f.at(view, idx, dtype(0.7))  # (a Python 0.7 would be cast to float64 by ufunc.at)
    assert_identical(view.copy(), _sequential_at(f.ufunc, target, idx, dtype(0.7)))


@pytest.mark.parametrize("name", ["celu_backward", "celu_backward_from_output", "celu_and_grads"])
def test_at_unsupported_arity_raises_cleanly(name):
    y = np.linspace(-2, 2, 5)
    with pytest.raises((ValueError, TypeError)):
        public(name).ufunc.at(y, [0, 1], *([np.ones(2)] * (ARITY[name][0] - 1)))
    with pytest.raises((ValueError, TypeError)):
        public(name).at(y, [0, 1], *([np.ones(2)] * (ARITY[name][0] - 2)))
    np.testing.assert_array_equal(y, np.linspace(-2, 2, 5))


# ----------------------------------------------------------- reduce, accumulate, reduceat
#
# A 2-in, 1-out ufunc with no identity: NumPy defines reduce(x) = f(...f(f(x0, x1), x2)...,
# x[n-1]) and accumulate as the running values of that fold.  NumPy calls the inner loop
# with the output aliasing the first input (stride 0 for reduce, one element behind for
# accumulate), so a loop must evaluate element after element.


def _fold(ufunc, values):
    acc = values[0]
    for v in values[1:]:
        acc = ufunc(acc, v)
    return acc


def _running(ufunc, values):
    out = np.empty_like(values)
    acc = values[0]
    out[0] = acc
    for i in range(1, len(values)):
        acc = ufunc(acc, values[i])
        out[i] = acc
    return out


def _fold_data(n, dtype, seed):
    """A first value of either sign, then positive alphas: every step is a real CELU."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.05, 5.0, n)
    v[0] = -7.5
    return v.astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BINARY)
def test_reduce_is_the_left_fold(name, dtype):
    u = public(name).ufunc
    for n in [1, 2, 3, 10, 300, 1000]:
        v = _fold_data(n, dtype, seed=n)
        want = _fold(u, v)
        assert_identical(u.reduce(v), want)
        assert_identical(public(name).reduce(v), want)
        strided = _strided(v, 2)
        assert_identical(u.reduce(strided), want)


@pytest.mark.parametrize("name", BINARY)
def test_reduce_large_is_the_left_fold(name):
    u = public(name).ufunc
    v = _fold_data(PARALLEL_N, np.float64, seed=23)
    assert_identical(u.reduce(v), _fold(u, v))


@pytest.mark.parametrize("name", BINARY)
def test_reduce_axes(name):
    u = public(name).ufunc
    m = np.abs(_fold_data(60, np.float64, seed=24)).reshape(5, 12)
    m[0] = -np.linspace(0.5, 6, 12)
    m[:, 0] = -2.0
    got0 = u.reduce(m, axis=0)
    assert got0.shape == (12,)
    for j in range(12):
        assert_identical(got0[j], _fold(u, m[:, j]))
    got1 = u.reduce(m, axis=1)
    assert got1.shape == (5,)
    for i in range(5):
        assert_identical(got1[i], _fold(u, m[i]))
    got1k = u.reduce(m, axis=1, keepdims=True)
    assert got1k.shape == (5, 1)
    assert_identical(got1k[:, 0], got1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BINARY)
def test_accumulate_is_the_running_fold(name, dtype):
    u = public(name).ufunc
    for n in [1, 2, 10, 300, 1000]:
        v = _fold_data(n, dtype, seed=n)
        want = _running(u, v)
        assert_identical(u.accumulate(v), want)
        assert_identical(u.accumulate(_strided(v, 3)), want)
        assert_identical(u.accumulate(_strided(v, -1)), want)


@pytest.mark.parametrize("name", BINARY)
def test_accumulate_large_is_the_running_fold(name):
    u = public(name).ufunc
    v = _fold_data(PARALLEL_N, np.float64, seed=25)
    assert_identical(u.accumulate(v), _running(u, v))


@pytest.mark.parametrize("name", BINARY)
def test_reduceat(name):
    u = public(name).ufunc
    v = _fold_data(20, np.float64, seed=26)
    idx = [0, 5, 6, 15]
    got = u.reduceat(v, idx)
    want = [_fold(u, v[a:b]) for a, b in zip(idx, idx[1:] + [20])]
    assert_identical(got, np.array(want))


@pytest.mark.parametrize("name", BINARY)
def test_reduce_of_empty_raises(name):
    with pytest.raises(ValueError, match="identity"):
        public(name).ufunc.reduce(np.array([], np.float64))


@pytest.mark.parametrize("name", ["celu_backward", "celu_backward_from_output", "celu_and_grads"])
def test_reductions_of_other_arities_raise_cleanly(name):
    u = public(name).ufunc
    v = np.linspace(0.5, 3, 6)
    for method in [u.reduce, u.accumulate, functools.partial(u.reduceat, indices=[0, 3])]:
        with pytest.raises(ValueError):
            method(v)


# ------------------------------------------------------------- large calls over threads


@pytest.mark.parametrize("name", NAMES)
def test_parallel_call_equals_serial_pieces(name):
    """One call above the thread threshold gives the bits of many below it."""
    n = PARALLEL_N
    ops = operands(name, n, np.float64, seed=27)
    piece = 4099  # serial: far below the 2**15 threshold
    cases = {
        "contiguous": ops,
        "scalar alpha": [*ops[:-1], np.float64(0.8)],
        "strided": [_strided(o, 2) for o in ops],
        "reversed x": [*[_strided(o, -1) for o in ops[:-1]], ops[-1]],
    }
    for label, args in cases.items():
        big = as_tuple(public(name)(*args))
        for k, result in enumerate(big):
            pieces = []
            for start in range(0, n, piece):
                part = [a if np.ndim(a) == 0 else a[start : start + piece] for a in args]
                pieces.append(as_tuple(public(name)(*part))[k])
            assert_identical(result, np.concatenate(pieces))
    float32 = [o.astype(np.float32) for o in ops]
    big = as_tuple(public(name)(*float32))
    for k, result in enumerate(big):
        pieces = [as_tuple(public(name)(*[o[s : s + piece] for o in float32]))[k]
                  for s in range(0, n, piece)]
        assert_identical(result, np.concatenate(pieces))


@pytest.mark.parametrize("n", [(1 << 15) - 1, 1 << 15, (1 << 15) + 1, 3 * (1 << 15) + 7])
def test_threshold_edges_equal_serial(n):
    ops = operands("celu_and_grads", n, np.float64, seed=n)
    big = celu_numba.celu_and_grads(*ops)
    half = n // 3
    parts = [celu_numba.celu_and_grads(*[o[a:b] for o in ops])
             for a, b in [(0, half), (half, 2 * half), (2 * half, n)]]
    assert_identical(big, tuple(np.concatenate([p[k] for p in parts]) for k in range(3)))


def test_thread_count_does_not_change_bits():
    ops = operands("celu_grad_alpha", PARALLEL_N, np.float64, seed=28)
    want = celu_numba.celu_grad_alpha(*ops)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert_identical(celu_numba.celu_grad_alpha(*ops), want)
    finally:
        numba.set_num_threads(before)
    assert_identical(celu_numba.celu_grad_alpha(*ops), want)


def test_2d_large_fortran_and_slices():
    ops = operands("celu", (300, 400), np.float64, seed=29)
    want = celu_numba.celu(*ops)
    assert_identical(celu_numba.celu(*[np.asfortranarray(o) for o in ops]), want)
    assert_identical(celu_numba.celu(*[_slice2d(o) for o in ops]), want)
    assert_identical(celu_numba.celu(ops[0].T, ops[1].T), want.T.copy())
