"""celu_numba.cuda with numba's real CUDA target: no GPU, PTX only, and on a GPU.

Three groups, each skipped with its reason where it cannot run:

* without numba-cuda or without a GPU: ``import celu_numba.cuda`` works and a call
  explains what is missing and how to install it (runs everywhere);
* PTX: every kind of kernel compiles for sm_90 with NVVM, with 16-byte vector
  loads/stores, no stack, no calls (needs numba-cuda with NVVM and NVRTC, no GPU);
* on a GPU: values within the accuracy goals of mpmath and within those goals of the
  CPU ufuncs; broadcasting, strides, dtypes; numba, CuPy and PyTorch arrays in and
  out without copies; streams.  benchmarks/gpu_check.py runs these on a lent GPU.

The simulator (tests/test_cuda_sim.py) covers the same code paths bit for bit on the
CPU; these tests cover what it cannot run.
"""

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import celu_numba

sys.path.insert(0, os.path.dirname(__file__))
import reference as R  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import ptx_ceilings  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
HAVE_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
from public_api import NAMES, NIN  # noqa: E402
#: accuracy goals in ULP (CELU.md): float32 1 for all; float64 2 (value, d/dx), 4 (d/dalpha)
GOALS = {
    (np.float32, "celu"): 1.0,
    (np.float32, "grad"): 1.0,
    (np.float32, "grad_alpha"): 1.0,
    (np.float64, "celu"): 2.0,
    (np.float64, "grad"): 2.0,
    (np.float64, "grad_alpha"): 4.0,
}
REFERENCE_NAME = {"celu": "celu", "celu_grad": "grad", "celu_grad_alpha": "grad_alpha"}

pytestmark = pytest.mark.skipif(SIMULATOR, reason="the real CUDA target, not the simulator")


def gpu():
    import celu_numba.cuda

    return celu_numba.cuda


def _gpu_available():
    if SIMULATOR or not HAVE_NUMBA_CUDA:
        return False
    return gpu().is_available()


needs_gpu = pytest.mark.skipif("not _gpu_available()", reason="needs a CUDA GPU and numba-cuda")


# --- without numba-cuda or without a GPU


def run_python(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_without_numba_cuda_imports_and_explains():
    out = run_python(
        """
        import sys
        sys.modules["numba_cuda"] = None  # as if numba-cuda were not installed
        import celu_numba, celu_numba.cuda
        print(celu_numba.cuda.is_available())
        print(celu_numba.cuda.status())

        class Device:  # any CUDA array
            __cuda_array_interface__ = {"shape": (2,), "typestr": "<f8", "data": (0, False), "version": 3}

        try:
            celu_numba.celu(Device())
        except celu_numba.cuda.CudaUnavailableError as error:
            print(error)
        """
    )
    available, status, error = out.strip().splitlines()
    assert available == "False"
    assert "numba-cuda is not installed" in status and 'pip install "celu-numba[cuda]"' in status
    assert error.startswith("celu_numba.cuda.celu cannot run") and 'pip install "celu-numba[cuda]"' in error


@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed")
@pytest.mark.skipif("_gpu_available()", reason="a GPU is present")
def test_without_a_gpu_explains_and_raises():
    assert gpu().is_available() is False
    assert "no CUDA GPU is usable" in gpu().status()

    class Device:
        __cuda_array_interface__ = {"shape": (2,), "typestr": "<f4", "data": (0, False), "version": 3}

    with pytest.raises(gpu().CudaUnavailableError, match="no CUDA GPU"):
        gpu().celu_and_grads(Device(), 2.0)


@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed")
def test_numba_cuda_internals_that_the_launch_uses():
    """_cuda_kernels.DriverLaunch reaches into numba-cuda for the compiled kernel's driver
    handle and numba's context; a numba-cuda upgrade that moves them fails here, without
    a GPU, rather than at the first launch on one."""
    import inspect

    from numba.cuda import dispatcher
    from numba.cuda.codegen import CUDACodeLibrary
    from numba.cuda.cudadrv import devices, driver

    assert "self._codelibrary = " in inspect.getsource(dispatcher._Kernel)
    assert callable(CUDACodeLibrary.get_cufunc) and callable(devices.get_context)
    assert "handle" in driver.CudaPythonFunction.__slots__
    assert "self.handle = kernel" in inspect.getsource(driver.CudaPythonFunction.__init__)


# --- PTX for sm_90, compiled by NVVM without a GPU


@pytest.fixture(scope="module")
def compile_ptx():
    """A function key -> PTX for sm_90; skips when NVVM or NVRTC is missing."""
    if not HAVE_NUMBA_CUDA:
        pytest.skip("numba-cuda is not installed")
    from numba import cuda

    try:
        cuda.compile_ptx(lambda a: None, "void(float64)", cc=(9, 0))
    except Exception as error:  # noqa: BLE001 - whatever is missing, say it
        pytest.skip(f"NVVM/NVRTC unavailable: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    return ptx_ceilings.compile_for_sm90


def _ptx_keys():
    from celu_numba._cuda_kernels import KernelKey

    keys = []
    for name in NAMES:
        nin = NIN.get(name, 2)
        nout = 3 if name == "celu_and_grads" else 1
        for code in ("f4", "f8"):
            keys.append(KernelKey(name, (code,) * (nin - 1) + ("s",), code, (code,) * nout,
                                  ("flat", ("a",) * (nin - 1) + ("s",), True)))
    keys += [
        KernelKey("celu", ("f4", "f4"), "f4", ("f4",), ("flat", ("a", "o"), False)),
        KernelKey("celu_and_grads", ("f8", "f8"), "f8", ("f8",) * 3, ("strided", 3)),
        KernelKey("celu", ("f2", "s"), "f4", ("f2",), ("flat", ("a", "s"), True)),
        KernelKey("celu_grad", ("i8", "s"), "f8", ("f8",), ("flat", ("a", "s"), True)),
    ]
    return keys


@pytest.mark.parametrize("index", range(16), ids=lambda i: f"key{i}")
def test_kernel_compiles_to_ptx_for_sm90(compile_ptx, index):
    # the CPU ufunc is built first in this process: its core numba registrations of
    # _math must not leak into numba-cuda's typing (they did once: TypingError)
    import celu_numba

    celu_numba.celu_and_grads(np.ones(4), 0.5)
    keys = _ptx_keys()
    assert len(keys) == 16
    key = keys[index]
    text = compile_ptx(key)
    lines = [line.strip() for line in text.splitlines()]
    assert ".target sm_90" in lines
    from celu_numba import _cuda_kernels

    chosen = _cuda_kernels.tuning(key)
    assert any(line.startswith(f".maxntid {chosen.block}") for line in lines), "launch bounds missing"
    if chosen.min_blocks is not None:
        assert f".minnctapersm {chosen.min_blocks}" in lines, "minimum blocks per SM missing"
    assert not any(".local" in line for line in lines), "the kernel uses a stack (local memory)"
    assert not any(line.startswith(("call", "call.uni")) for line in lines), "a call was not inlined"
    if key.layout[0] == "flat" and key.layout[2]:
        assert any(line.startswith("ld.global.v") for line in lines), "no vector load"
        assert any(line.startswith("st.global.v") for line in lines), "no vector store"
    math_name = _cuda_kernels.math_name(key)
    counts = ptx_ceilings.per_element(text, chosen.items) if key.layout[0] == "flat" and key.layout[2] else None
    f64_arithmetic = [line for line in lines if _is_arithmetic(line, "f64")]
    if key.loop == "f4":
        # float32 arithmetic only (float16 too, through the float32 kernels): no float64
        # instruction at all but the scalar alpha parameter's load and its conversion
        assert math_name.endswith("_float32")
        assert not f64_arithmetic, f64_arithmetic[:5]
        f64_lines = [line for line in lines if ".f64" in line and not line.startswith((".param", ".reg"))]
        assert all(line.startswith(("ld.param.f64", "cvt.rn.f32.f64")) for line in f64_lines), f64_lines[:5]
        assert len(f64_lines) <= 2 * sum(c == "s" for c in key.inputs)
        assert sum(line.startswith("fma.rn.f32") for line in lines) >= 4
        if counts is not None:
            assert counts["f64"] == 0 and counts["f32"] >= 4, counts
    elif math_name == "celu_backward_from_output":
        # (y + a) / a: an IEEE division (_math's divide), correctly rounded
        assert sum(line.startswith("div.rn.f64") for line in lines) >= 4
    else:
        # float64: _math's fma() is llvm.fma, a hardware FMA (2-8 elements per thread)
        assert sum(line.startswith("fma.rn.f64") for line in lines) >= 4
        assert not any(_is_arithmetic(line, "f32") for line in lines)


def _is_arithmetic(line, kind):
    """A PTX arithmetic instruction of type `kind` ("f32"), conversions aside."""
    return not line.startswith("cvt") and ptx_ceilings.arithmetic_type(line) == kind


# --- on a GPU


def host(array):
    if hasattr(array, "copy_to_host"):
        return array.copy_to_host()
    if type(array).__module__.startswith("cupy"):
        return array.get()
    return array.cpu().numpy()


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def gpu_inputs(name, dtype, n_random=2000):
    x, a = R.sample_grid(dtype, n_random=n_random)
    rng = np.random.default_rng(1)
    if NIN.get(name, 2) == 2:
        return [x, a]
    g = rng.standard_normal(x.size).astype(dtype)
    return [g, celu_numba.celu(x, a) if name == "celu_backward_from_output" else x, a]


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["celu", "celu_grad", "celu_grad_alpha"])
def test_accuracy_goals_against_mpmath(name, dtype):
    from numba import cuda

    x, a = R.sample_grid(dtype, n_random=2000)
    got = host(getattr(gpu(), name)(cuda.to_device(x), cuda.to_device(a)))
    goal = GOALS[(dtype, REFERENCE_NAME[name])]
    err, wx, wa = R.worst_ulp(got, x, a, REFERENCE_NAME[name])
    assert err <= goal, f"{err} ULP at x={wx!r} alpha={wa!r}"


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_matches_the_cpu_within_the_goals(name, dtype):
    """Same scalar code; NVVM may contract a*b+c into an FMA (the CPU does not), so
    float64 results can differ from the CPU's in the last bits, within the goals."""
    from numba import cuda

    inputs = gpu_inputs(name, dtype)
    got = getattr(gpu(), name)(*[cuda.to_device(v) for v in inputs])
    want = getattr(celu_numba, name)(*inputs)
    bound = 1.0 if dtype == np.float32 else 4.0
    for g, w in zip(as_tuple(got), as_tuple(want)):
        g = host(g)
        distance = R.ulp_distance(g, w)
        identical = float(np.mean(distance == 0))
        print(f"{name} {np.dtype(dtype).name}: {identical:.2%} identical to the CPU, max {distance.max()} ULP")
        assert distance.max() <= bound


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    from numba import cuda

    x = cuda.to_device(np.array([-np.inf, np.inf, 0.0, -0.0, np.nan, -1.0], dtype))
    value, dx, da = (host(r) for r in gpu().celu_and_grads(x, 2.0))
    np.testing.assert_array_equal(value[:4], [-2.0, np.inf, 0.0, 0.0])
    np.testing.assert_array_equal(dx[:4], [0.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(da[:4], [-1.0, 0.0, 0.0, 0.0])
    assert np.isnan(value[4]) and np.isnan(dx[4]) and np.isnan(da[4])
    np.testing.assert_array_equal(host(gpu().celu(x, 0.0))[[0, 1, 2, 5]], [0.0, np.inf, 0.0, 0.0])
    np.testing.assert_array_equal(host(gpu().celu(x, np.inf))[[0, 1, 5]], [-np.inf, np.inf, -1.0])


@needs_gpu
@pytest.mark.parametrize("n", [1, 1023, 1024, 1025, 3 * 2**20 + 7])
def test_tiles_tails_and_grid_stride(n):
    from numba import cuda

    x = np.linspace(-20, 5, n).astype(np.float32)
    got = host(gpu().celu(cuda.to_device(x), 0.5))
    assert R.ulp_distance(got, celu_numba.celu(x, 0.5)).max() <= 1


@needs_gpu
def test_broadcasting_and_strides():
    from numba import cuda

    rng = np.random.default_rng(2)
    x = rng.uniform(-6, 3, (4, 8, 5, 6))
    alpha = np.linspace(0.1, 3.0, 8).reshape(8, 1, 1)
    got = gpu().celu_and_grads(cuda.to_device(x), cuda.to_device(alpha))
    for g, w in zip(got, celu_numba.celu_and_grads(x, alpha)):
        assert R.ulp_distance(host(g), w).max() <= 4
    base = np.linspace(-8, 4, 6000)
    device = cuda.to_device(base)
    views = [(device[::-1], base[::-1]), (device[::3], base[::3]), (device[1:], base[1:]),
             (device.reshape(60, 100).T, base.reshape(60, 100).T)]
    for view, expected_input in views:
        got = host(gpu().celu_grad(view, 0.7))
        assert R.ulp_distance(got, celu_numba.celu_grad(expected_input, 0.7)).max() <= 4
    out = cuda.to_device(np.full((60, 200), 9.0))
    gpu().celu(cuda.to_device(base.reshape(60, 100)), 1.5, out=out[:, ::2])
    result = out.copy_to_host()
    assert (result[:, 1::2] == 9.0).all()
    assert R.ulp_distance(result[:, ::2], celu_numba.celu(base.reshape(60, 100), 1.5)).max() <= 4


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.int64, np.bool_])
def test_other_input_dtypes(dtype):
    from numba import cuda

    x = np.array([-3, -1, 0, 1, 2, -2, 5] * 100).astype(dtype)
    got = host(gpu().celu(cuda.to_device(x), 0.5))
    want = celu_numba.celu(x, 0.5)
    assert got.dtype == want.dtype and R.ulp_distance(got, want).max() <= 1


@needs_gpu
def test_numba_arrays_in_and_out_without_copies():
    from numba import cuda

    x = cuda.to_device(np.linspace(-3, 3, 1000))
    result = gpu().celu(x, 1.0)
    assert isinstance(result, type(x))
    out = cuda.device_array(1000)
    assert gpu().celu(x, 1.0, out=out) is out
    np.testing.assert_array_equal(out.copy_to_host(), result.copy_to_host())
    # in place: the input's memory is written
    pointer = x.device_ctypes_pointer.value
    assert gpu().celu(x, 1.0, out=x) is x and x.device_ctypes_pointer.value == pointer
    np.testing.assert_array_equal(x.copy_to_host(), result.copy_to_host())


@needs_gpu
def test_cupy_arrays_in_and_out():
    cupy = pytest.importorskip("cupy")
    x = cupy.linspace(-3, 3, 1000, dtype=cupy.float32)
    result = celu_numba.celu(x, 0.5)  # dispatched by the public function
    assert isinstance(result, cupy.ndarray) and result.dtype == cupy.float32
    np.testing.assert_array_equal(result.get(), celu_numba.celu(x.get(), 0.5))
    value, dx, da = celu_numba.celu_and_grads(x)
    assert all(isinstance(r, cupy.ndarray) for r in (value, dx, da))
    out = cupy.empty_like(x)
    assert celu_numba.celu_grad(x, out=out) is out
    with cupy.cuda.Stream(non_blocking=True) as stream:
        y = celu_numba.celu(x, 0.5)  # on CuPy's current stream
    stream.synchronize()
    np.testing.assert_array_equal(y.get(), result.get())


@needs_gpu
def test_torch_tensors_in_and_out(monkeypatch):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA")
    from celu_numba import _cuda_kernels

    x = torch.linspace(-3, 3, 1000, device="cuda", dtype=torch.float64)
    result = celu_numba.celu(x, 0.5)
    assert isinstance(result, torch.Tensor) and result.device == x.device and result.dtype == x.dtype
    np.testing.assert_array_equal(result.cpu().numpy(), celu_numba.celu(x.cpu().numpy(), 0.5))
    out = torch.empty_like(x)
    assert celu_numba.celu(x, 0.5, out=out) is out

    handles = []
    original = _cuda_kernels.Kernel.__call__

    def recording(self, n, args, stream=0):
        handles.append(stream)
        return original(self, n, args, stream)

    monkeypatch.setattr(_cuda_kernels.Kernel, "__call__", recording)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        y = celu_numba.celu(x, 0.5)  # on torch's current stream
    assert handles[-1] == side.cuda_stream
    celu_numba.celu(x, 0.5, stream=side)
    assert handles[-1] == side.cuda_stream
    side.synchronize()
    np.testing.assert_array_equal(y.cpu().numpy(), result.cpu().numpy())
    with pytest.raises(TypeError, match="requires grad"):
        gpu().celu(torch.ones(3, device="cuda", requires_grad=True))


@needs_gpu
def test_repeated_calls_reuse_the_compiled_kernels():
    from numba import cuda

    from celu_numba import _cuda_kernels

    x = cuda.to_device(np.linspace(-3, 3, 1024, dtype=np.float32))
    gpu().celu(x, 0.5)
    compiled = len(_cuda_kernels._compiled)
    for alpha in np.linspace(0.1, 2.0, 200):
        gpu().celu(x, float(alpha))
    assert len(_cuda_kernels._compiled) == compiled


@needs_gpu
@pytest.mark.parametrize("library", ["numba", "torch", "cupy"])
def test_calls_from_many_threads(library):
    """Launches from fresh Python threads (where no CUDA context may be current yet),
    concurrently, each on its own arrays, give the CPU's results."""
    from concurrent.futures import ThreadPoolExecutor

    from numba import cuda

    make = {"numba": cuda.to_device}
    if library != "numba":
        module = pytest.importorskip(library)
        make[library] = (lambda a: module.as_tensor(a, device="cuda")) if library == "torch" else module.asarray
    alphas = [0.25 * (k + 1) for k in range(8)]
    x = np.linspace(-6, 6, 50_003)

    def work(alpha):
        result = gpu().celu_and_grads(make[library](x), alpha)
        if library == "torch":
            __import__("torch").cuda.current_stream().synchronize()
        return [host(r) for r in result]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, alphas))
    for alpha, got in zip(alphas, results):
        for g, w in zip(got, celu_numba.celu_and_grads(x, alpha)):
            assert R.ulp_distance(g, w).max() <= 4
