"""celu_numba.cuda under numba's CUDA simulator: the GPU code path, run on the CPU.

NUMBA_ENABLE_CUDASIM=1 must be set before numba is imported, so the simulator tests
run in a child process: in the normal session ``test_simulator_suite`` runs this file
again with the variable set (one pytest invocation from the repo root runs all), and
fails with the child's report if anything fails there.  In the child the classes below
run (``__test__ = SIMULATOR``); the layout helpers at the end are plain functions and
run in both.

Under the simulator a kernel is Python: each "pointer" argument is a NumPy view of the
(host) memory behind a device array, and ``_math`` runs on NumPy float64 scalars.  The
kernels are the same generated source the GPU compiles, so these tests check the
indexing, tiling, broadcasting, dtypes, outputs and dispatch, and compare every result
bit for bit with the CPU ufuncs (same scalar code, same single rounding).  What the
simulator cannot run (vector-load intrinsics, the compiled math, launches, real
streams) is covered by tests/test_cuda_gpu.py.
"""

import importlib.util
import os
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

import celu_numba

sys.path.insert(0, os.path.dirname(__file__))
import reference as R  # noqa: E402

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
HAVE_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


from bits import as_tuple, assert_same_bits  # noqa: E402
from public_api import NAMES, NIN  # noqa: E402
REFERENCE_NAME = {"celu": "celu", "celu_grad": "grad", "celu_grad_alpha": "grad_alpha"}


# --- the driver (normal session)


@pytest.mark.skipif(SIMULATOR, reason="this is the simulator's own run")
@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason='numba-cuda is not installed (pip install "celu-numba[cuda]")')
def test_simulator_suite():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", os.path.abspath(__file__)]
    child = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    lines = child.stdout.strip().splitlines()
    summary = lines[-1] if lines else "(no output)"
    print("simulator run:", summary)
    assert child.returncode == 0, (
        f"the simulator tests failed ({summary}):\n{child.stdout[-12000:]}\n{child.stderr[-3000:]}"
    )
    assert " passed" in summary


# --- helpers (child)


class ForeignArray:
    """A CUDA array of a library celu_numba does not know (like CuPy): a
    ``__cuda_array_interface__`` over host memory, which is device memory to the simulator."""

    def __init__(self, host, stream=None, readonly=False):
        self.host = host
        interface = host.__array_interface__
        self.__cuda_array_interface__ = {
            "shape": host.shape,
            "typestr": host.dtype.str,
            "data": (interface["data"][0], readonly),
            "strides": interface["strides"],
            "version": 3,
            "stream": stream,
        }


def gpu():
    import celu_numba.cuda

    return celu_numba.cuda


def to_device(host, kind):
    """A device copy of `host`: a numba (simulator) device array, or a ForeignArray."""
    if kind == "numba":
        from numba import cuda

        return cuda.to_device(np.ascontiguousarray(host))
    return ForeignArray(np.array(host, copy=True))


def to_host(array):
    """The values of a device array (a copy)."""
    if isinstance(array, ForeignArray):
        return np.array(array.host, copy=True)
    if isinstance(array, (np.ndarray, np.generic, float)):
        return np.asarray(array)
    return array.copy_to_host()


def check_against_cpu(name, host_inputs, device_inputs, **kwargs):
    """Run `name` on the device inputs (through celu_numba.cuda) and compare with the CPU."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the simulator's NumPy scalar math
        got = getattr(gpu(), name)(*device_inputs, **kwargs)
    want = getattr(celu_numba, name)(*host_inputs)
    for g, w in zip(as_tuple(got), as_tuple(want)):
        assert_same_bits(to_host(g), w)
    return got


def sample_inputs(name, dtype, n_random=64, seed=0):
    """(host inputs) for `name`: the accuracy grid's (x, alpha) pairs, grad_out and y."""
    x, a = R.sample_grid(dtype, n_random=n_random, seed=seed)
    rng = np.random.default_rng(seed)
    if NIN.get(name, 2) == 2:
        return [x, a]
    grad_out = rng.standard_normal(x.size).astype(dtype)
    if name == "celu_backward_from_output":
        return [grad_out, celu_numba.celu(x, a), a]
    return [grad_out, x, a]


@pytest.fixture
def launches(monkeypatch):
    """Records (kernel key, n, stream handle) of every kernel launch."""
    from celu_numba import _cuda_kernels

    calls = []
    original = _cuda_kernels.Kernel.__call__

    def recording(self, n, args, stream=0):
        calls.append((self.key, n, stream))
        return original(self, n, args, stream)

    monkeypatch.setattr(_cuda_kernels.Kernel, "__call__", recording)
    return calls


pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# --- values (child)


class TestValues:
    __test__ = SIMULATOR  # collected in the simulator's run only
    @pytest.mark.parametrize("kind", ["numba", "foreign"])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("name", NAMES)
    def test_same_bits_as_cpu_with_array_alpha(self, name, dtype, kind, launches):
        host = sample_inputs(name, dtype)
        device = [to_device(h, kind) for h in host]
        check_against_cpu(name, host, device)
        # ~1400 elements: several grid-stride passes of 3 blocks and a partial last tile
        key, n, _ = launches[-1]
        assert n == host[0].size
        assert key.layout == ("flat", ("a",) * len(host), True)
        assert key.loop == {np.float32: "f4", np.float64: "f8"}[dtype]

    @pytest.mark.parametrize("alpha", [1.0, 0.0, np.inf, 1e-3, 1e3, 0.1, 3])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("name", NAMES)
    def test_same_bits_as_cpu_with_scalar_alpha(self, name, dtype, alpha, launches):
        x = np.unique(R.sample_grid(dtype, n_random=16)[0])[::4]  # ~330 values, tiny to huge
        if NIN.get(name, 2) == 2:
            host = [x]
        else:
            grad_out = np.random.default_rng(5).standard_normal(x.size).astype(dtype)
            host = [grad_out, celu_numba.celu(x, alpha) if name == "celu_backward_from_output" else x]
        device = [to_device(h, "foreign") for h in host]
        check_against_cpu(name, host + [alpha], device + [alpha])
        key = launches[-1][0]
        assert key.inputs[-1] == "s" and key.layout[1][-1] == "s"

    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_special_values_from_the_definition(self, dtype):
        x = to_device(np.array([-np.inf, np.inf, 0.0, -0.0, np.nan, -1.0], dtype), "foreign")
        value, dx, da = (to_host(r) for r in gpu().celu_and_grads(x, 2.0))
        np.testing.assert_array_equal(value[:4], [-2.0, np.inf, 0.0, 0.0])
        np.testing.assert_array_equal(dx[:4], [0.0, 1.0, 1.0, 1.0])
        np.testing.assert_array_equal(da[:4], [-1.0, 0.0, 0.0, 0.0])
        assert np.isnan(value[4]) and np.isnan(dx[4]) and np.isnan(da[4])
        relu = to_host(gpu().celu(x, 0.0))
        np.testing.assert_array_equal(relu[[0, 1, 2, 5]], [0.0, np.inf, 0.0, 0.0])
        identity = to_host(gpu().celu(x, np.inf))
        np.testing.assert_array_equal(identity[[0, 1, 5]], [-np.inf, np.inf, -1.0])

    @pytest.mark.parametrize("name", ["celu", "celu_grad", "celu_grad_alpha"])
    def test_float64_within_the_ulp_goals_of_mpmath(self, name):
        x, a = R.sample_grid(np.float64, n_random=200, seed=3)
        got = to_host(getattr(gpu(), name)(to_device(x, "foreign"), to_device(a, "foreign")))
        goal = 4.0 if name == "celu_grad_alpha" else 2.0
        err, wx, wa = R.worst_ulp(got, x, a, REFERENCE_NAME[name])
        assert err <= goal, f"{err} ULP at x={wx!r}, alpha={wa!r}"

    def test_alpha_keyword_and_default(self):
        x = np.linspace(-3, 3, 50)
        got = to_host(gpu().celu(to_device(x, "foreign")))
        assert_same_bits(got, celu_numba.celu(x))
        got = to_host(gpu().celu_backward(to_device(x, "foreign"), to_device(x, "foreign"), alpha=0.5))
        assert_same_bits(got, celu_numba.celu_backward(x, x, 0.5))


# --- broadcasting and layouts (child)


class TestLayouts:
    __test__ = SIMULATOR  # collected in the simulator's run only
    def test_per_channel_alpha(self, launches):
        rng = np.random.default_rng(1)
        x = rng.uniform(-6, 3, (2, 5, 3, 4))
        alpha = np.linspace(0.1, 3.0, 5).reshape(5, 1, 1)
        check_against_cpu("celu_and_grads", [x, alpha], [to_device(x, "foreign"), to_device(alpha, "foreign")])
        # (2, 5, 3, 4) merges to (2, 5, 12)
        assert launches[-1][0].layout == ("strided", 3)

    def test_alpha_along_the_last_axis_and_grad_out_column(self, launches):
        rng = np.random.default_rng(2)
        g, x, a = rng.standard_normal((6, 1)), rng.uniform(-4, 2, (6, 7)), np.linspace(0.5, 2, 7)
        check_against_cpu("celu_backward", [g, x, a], [to_device(v, "foreign") for v in (g, x, a)])
        assert launches[-1][0].layout == ("strided", 2)

    @pytest.mark.parametrize("alpha_shape", [(1,), ()])
    def test_one_element_alpha_array_is_read_once(self, alpha_shape, launches):
        x = np.linspace(-5, 5, 300, dtype=np.float32)
        alpha = np.full(alpha_shape, 0.7, np.float32)
        check_against_cpu("celu", [x, alpha], [to_device(x, "foreign"), to_device(alpha, "foreign")])
        assert launches[-1][0].layout == ("flat", ("a", "o"), True)

    def test_scalar_x_with_alpha_array(self, launches):
        alpha = np.linspace(0.0, 5.0, 40)
        check_against_cpu("celu_grad_alpha", [-1.5, alpha], [-1.5, to_device(alpha, "foreign")])
        assert launches[-1][0].layout == ("flat", ("s", "a"), True)

    @pytest.mark.parametrize(
        "view",
        [
            lambda h: h[::-1],
            lambda h: h[::3],
            lambda h: h.reshape(20, 30)[:, 3:17],
            lambda h: h.reshape(20, 30)[::-2, ::3],
            lambda h: h.reshape(20, 30).T,
            lambda h: h[1:],  # misaligned for 16-byte vectors
        ],
        ids=["reversed", "step3", "columns", "reversed-2d", "transposed", "offset"],
    )
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_strided_and_offset_views(self, view, dtype):
        base = np.linspace(-8, 4, 600).astype(dtype)
        x = view(base)
        device = ForeignArray(view(base.copy()))
        check_against_cpu("celu_and_grads", [x, 0.75], [device, 0.75])

    def test_fortran_order_input_gives_fortran_order_output(self, launches):
        x = np.asfortranarray(np.linspace(-4, 4, 60).reshape(6, 10))
        result = check_against_cpu("celu", [x, 1.25], [ForeignArray(x.copy(order="F")), 1.25])
        assert to_host(result).flags.f_contiguous and launches[-1][0].layout[0] == "flat"

    def test_out_in_place(self):
        host = np.linspace(-6, 6, 500)
        x = ForeignArray(host.copy())
        result = gpu().celu(x, 2.0, out=x)
        assert result is x
        assert_same_bits(x.host, celu_numba.celu(host, 2.0))

    def test_out_is_a_strided_view_and_the_rest_is_untouched(self):
        host = np.linspace(-6, 6, 120)
        big = np.full((12, 20), 7.0)
        out = ForeignArray(big[::2, 1:11])  # a (6, 10) view of `big`
        gpu().celu_grad(ForeignArray(host.reshape(6, 20)[:, :10].copy()), 0.5, out=out)
        want = celu_numba.celu_grad(host.reshape(6, 20)[:, :10], 0.5)
        assert_same_bits(big[::2, 1:11], want)
        untouched = np.ones(big.shape, bool)
        untouched[::2, 1:11] = False
        assert (big[untouched] == 7.0).all()

    def test_out_broadcasts_the_inputs(self):
        x = np.linspace(-3, 3, 8)
        out = ForeignArray(np.empty((3, 8)))
        gpu().celu(ForeignArray(x.copy()), 1.0, out=out)
        assert_same_bits(out.host, celu_numba.celu(np.broadcast_to(x, (3, 8)), 1.0))

    def test_celu_and_grads_out_with_holes(self):
        x = np.linspace(-3, 3, 30)
        first, third = ForeignArray(np.empty(30)), ForeignArray(np.empty(30))
        result = gpu().celu_and_grads(ForeignArray(x.copy()), 0.5, out=(first, None, third))
        assert result[0] is first and result[2] is third
        for got, want in zip(result, celu_numba.celu_and_grads(x, 0.5)):
            assert_same_bits(to_host(got), want)

    @pytest.mark.parametrize("shape", [(0,), (3, 0), ()])
    def test_empty_and_zero_dimensional(self, shape):
        host = np.full(shape, -0.5, np.float32)
        result = gpu().celu_and_grads(ForeignArray(host.copy()), 2.0)
        for got, want in zip(result, celu_numba.celu_and_grads(host, 2.0)):
            assert_same_bits(to_host(got), np.asarray(want))

    def test_shapes_that_do_not_broadcast(self):
        with pytest.raises(ValueError, match="broadcast"):
            gpu().celu(ForeignArray(np.zeros(3)), ForeignArray(np.ones(4)))
        with pytest.raises(ValueError, match="shape"):
            gpu().celu(ForeignArray(np.zeros(3)), out=ForeignArray(np.zeros(4)))


# --- dtypes (child)

X_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint32, np.bool_]
ALPHAS = {
    "py-float": lambda: 1.5,
    "py-int": lambda: 2,
    "np.float32": lambda: np.float32(0.5),
    "np.float64": lambda: np.float64(0.5),
    "f4-array": lambda: np.full(7, 0.5, np.float32),
    "f8-array": lambda: np.full(7, 0.5, np.float64),
    "f2-array": lambda: np.full(7, 0.5, np.float16),
}


class TestDtypes:
    __test__ = SIMULATOR  # collected in the simulator's run only
    @pytest.mark.parametrize("alpha", list(ALPHAS))
    @pytest.mark.parametrize("dtype", X_DTYPES, ids=lambda d: np.dtype(d).name)
    def test_result_dtype_and_values_follow_the_cpu_ufunc(self, dtype, alpha):
        x = np.array([-3, -1, 0, 1, 2, -2, 5]).astype(dtype)
        a = ALPHAS[alpha]()
        device_a = ForeignArray(a.copy()) if isinstance(a, np.ndarray) else a
        check_against_cpu("celu", [x, a], [ForeignArray(x.copy()), device_a])

    @pytest.mark.parametrize("out_dtype", [np.float16, np.float32, np.float64])
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_out_of_another_float_dtype(self, dtype, out_dtype):
        x = np.linspace(-7, 3, 100).astype(dtype)
        out = ForeignArray(np.empty(100, out_dtype))
        gpu().celu_grad(ForeignArray(x.copy()), 0.3, out=out)
        want = np.empty(100, out_dtype)
        celu_numba.celu_grad(x, 0.3, out=want)
        assert_same_bits(out.host, want)

    def test_integer_out_is_refused(self):
        with pytest.raises(TypeError, match="same_kind"):
            gpu().celu(ForeignArray(np.zeros(3)), out=ForeignArray(np.zeros(3, np.int64)))

    def test_complex_is_refused(self):
        with pytest.raises(TypeError, match="loop"):
            gpu().celu(ForeignArray(np.zeros(3, np.complex128)))


# --- results, errors, dispatch, streams (child)


class TestCalls:
    __test__ = SIMULATOR  # collected in the simulator's run only
    def test_result_kinds(self):
        from numba import cuda

        x = np.linspace(-1, 1, 10)
        for device in (cuda.to_device(x), ForeignArray(x.copy())):
            # numba in: numba out; a library celu_numba does not know: numba out
            result = gpu().celu(device)
            assert type(result) is type(cuda.device_array(1))
            assert_same_bits(to_host(result), celu_numba.celu(x))

    def test_public_functions_dispatch_gpu_arrays_here(self, launches):
        x = np.linspace(-2, 2, 64)
        result = celu_numba.celu_and_grads(ForeignArray(x.copy()), alpha=0.5)
        assert len(launches) == 1 and launches[0][0].name == "celu_and_grads"
        for got, want in zip(result, celu_numba.celu_and_grads(x, 0.5)):
            assert_same_bits(to_host(got), want)

    def test_host_arrays_are_never_copied(self):
        x = np.linspace(-2, 2, 8)
        with pytest.raises(TypeError, match="host memory"):
            gpu().celu(x)
        with pytest.raises(TypeError, match="host memory"):
            celu_numba.celu(x, out=ForeignArray(np.empty(8)))
        with pytest.raises(TypeError, match="host memory"):
            gpu().celu(ForeignArray(x.copy()), np.ones(8))
        with pytest.raises(TypeError, match="GPU array"):
            gpu().celu(ForeignArray(x.copy()), out=np.empty(8))

    def test_invalid_scalar_alpha(self):
        x = ForeignArray(np.zeros(4))
        for alpha in (-1.0, np.nan):
            with pytest.raises(ValueError, match="alpha"):
                gpu().celu(x, alpha)

    def test_unsupported_keywords_and_arguments(self):
        x = ForeignArray(np.zeros(4))
        with pytest.raises(TypeError, match="where"):
            gpu().celu(x, where=True)
        with pytest.raises(TypeError, match="no GPU array"):
            gpu().celu(1.0, 2.0)
        with pytest.raises(ValueError, match="3 array"):
            gpu().celu_and_grads(x, out=ForeignArray(np.zeros(4)))
        with pytest.raises(ValueError, match="read-only"):
            gpu().celu(x, out=ForeignArray(np.zeros(4), readonly=True))

    def test_stream_from_the_input_or_the_argument(self, launches):
        x = ForeignArray(np.linspace(-1, 1, 16), stream=7)
        gpu().celu(x)
        assert launches[-1][2] == 7  # the stream the input names
        streams = [
            (types.SimpleNamespace(cuda_stream=11), 11),  # torch.cuda.Stream
            (types.SimpleNamespace(ptr=13), 13),  # cupy.cuda.Stream
            (types.SimpleNamespace(__cuda_stream__=lambda: (0, 17)), 17),  # cuda.core
            (19, 19),  # a raw handle
        ]
        for stream, handle in streams:
            gpu().celu(x, stream=stream)
            assert launches[-1][2] == handle
        gpu().celu(ForeignArray(np.zeros(3)))
        assert launches[-1][2] == 0  # no stream named: the default stream
        with pytest.raises(TypeError, match="stream"):
            gpu().celu(x, stream="fast")

    def test_status_says_simulator(self):
        assert gpu().is_available()
        assert "simulator" in gpu().status()


# --- layout helpers: plain functions (both sessions)


def _described(shape, strides=None, code="f8"):
    from celu_numba.cuda import _Array

    return _Array(None, "other", 0, shape, strides, code, None, None, False)


def test_merge_dimensions_merges_what_every_operand_walks_contiguously():
    from celu_numba.cuda import _merge_dimensions

    # x (2, 5, 3, 4) C-contiguous, alpha (5, 1, 1) broadcast, out C-contiguous
    x = (60, 12, 4, 1)
    alpha = (0, 1, 0, 0)
    shape, strides = _merge_dimensions((2, 5, 3, 4), [x, alpha, x])
    assert shape == [2, 5, 12]
    assert strides == [(60, 12, 1), (0, 1, 0), (60, 12, 1)]
    # size-1 dimensions vanish; a transposed operand prevents merging
    shape, strides = _merge_dimensions((1, 3, 1, 4), [(12, 4, 4, 1), (1, 1, 1, 3)])
    assert shape == [3, 4] and strides == [(4, 1), (1, 3)]


def test_layout_chooses_flat_kernels_for_contiguous_and_broadcast_scalars():
    from celu_numba.cuda import _layout

    shape = (4, 5)
    same = [_described(shape), _described(shape), _described(shape)]
    assert _layout(shape, "C", same, 1) == ("flat", ("a", "a", "a"))
    one = [_described(shape), _described((1, 1)), _described(shape)]
    assert _layout(shape, "C", one, 1) == ("flat", ("a", "o", "a"))
    row = [_described(shape), _described((5,)), _described(shape)]
    assert _layout(shape, "C", row, 1)[0] == "strided"
    reversed_x = [_described((20,), (-1,)), _described((20,))]
    assert _layout((20,), "C", reversed_x, 1) == ("strided", (20,), [(-1,), (1,)])


def test_vector_access_fits_every_tuning():
    """Each flat kernel's vectors: 1, 2 or 4 elements, at most 16 bytes, dividing the
    elements per thread, and the alignment the call plan checks is exactly one vector."""
    from celu_numba import _cuda_kernels as K

    keys = [(name, loop) for name in K.KERNELS for loop in ("f4", "f8")]
    assert set(K.FUNCTION_TUNING) <= set(keys)
    for name, loop in keys:
        chosen = K.flat_tuning(name, loop)
        for code in ("b1", "i1", "i2", "f2", "f4", "i8", "f8"):
            itemsize = int(code[1:])
            width = K.vector_width(code, chosen.items)
            assert width in (1, 2, 4) and chosen.items % width == 0 and width * itemsize <= 16
            assert width == min(chosen.items, 4, 16 // itemsize)  # the widest that fits
            assert K.alignment(code, name, loop) == width * itemsize
