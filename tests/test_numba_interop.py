"""celu_numba's functions inside users' numba code (celu_numba._overloads): @njit,
@vectorize, @guvectorize, @cuda.jit; every result compared bit for bit with the ufunc
called from Python on the same inputs.

The overloads are registered by numba's extension entry points (pyproject.toml).  Where
the installed package does not declare them yet, this module calls the entry point
function itself; test_entry_point_registers_them checks the entry-point path on its own,
in a child process with a temporary distribution that declares them.
"""

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import textwrap
import warnings

import numba
import numpy as np
import pytest

import celu_numba

sys.path.insert(0, os.path.dirname(__file__))
from bits import as_tuple, assert_same_bits  # noqa: E402
from public_api import NAMES, NIN  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAVE_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
#: numba's extension entry points, as the installed package declares them (pyproject.toml)
ENTRY_POINTS = {"numba_extensions": "celu_numba._overloads:init",
                "numba_cuda_extensions": "celu_numba._overloads:init_cuda"}


def test_the_installed_package_declares_the_entry_points():
    for group, value in ENTRY_POINTS.items():
        assert [ep.value for ep in importlib.metadata.entry_points(group=group) if ep.value.startswith("celu_numba")] == [value]


def raw(name):
    """The ufunc behind celu_numba.<name>, called from Python (the reference)."""
    return getattr(celu_numba, name).ufunc


# x and alpha: the special values and limits, crossed
X_SPECIAL = [-np.inf, -1e300, -1e10, -745.0, -100.0, -3.5, -1.0, -1e-8, -1e-310, -0.0, 0.0, 1e-310, 1e-8,
             0.75, 2.0, 1e10, 1e300, np.inf, np.nan]
ALPHA_SPECIAL = [0.0, 5e-324, 1e-300, 1e-3, 0.5, 1.0, 1.5, 1e3, 1e300, np.inf, -1.0, np.nan, -0.0]


def grid(x_dtype, alpha_dtype):
    x, a = np.meshgrid(np.array(X_SPECIAL), np.array(ALPHA_SPECIAL))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return x.ravel().astype(x_dtype), a.ravel().astype(alpha_dtype)


def inputs(name, x, a):
    """The inputs of `name` before alpha: (x,) or (grad_out, x)."""
    return (x,) if NIN[name] == 2 else (np.full_like(x, 3.0) if x.dtype.kind == "f" else 3 * np.ones_like(x), x)


# --- scalars in @njit: one element at a time, every dtype rule

_ELEMENTWISE = """
def loop({params}, out):
    for i in range(out[0].size):
        r = celu_numba.{name}({args})
        {stores}
"""


def elementwise(name, scalar_alpha=False, alpha_literal=None, via="public"):
    """An njit function calling celu_numba.<name> (or .ufunc, or the ufunc captured as a
    global) on scalars, element by element, into out (a tuple of arrays)."""
    nout = 3 if name == "celu_and_grads" else 1
    ins = ["x"] if NIN[name] == 2 else ["g", "x"]
    params = ", ".join(ins + ([] if alpha_literal is not None else ["a"]))
    args = [f"{v}[i]" for v in ins]
    if alpha_literal is not None:
        args.append(repr(alpha_literal) if alpha_literal != "default" else None)
        args = [a for a in args if a is not None]
    else:
        args.append("a" if scalar_alpha else "a[i]")
    function = {"public": f"celu_numba.{name}", "attribute": f"celu_numba.{name}.ufunc", "global": "UFUNC"}[via]
    stores = "; ".join(f"out[{o}][i] = r{f'[{o}]' if nout > 1 else ''}" for o in range(nout))
    source = _ELEMENTWISE.format(params=params, name=name, args=", ".join(args), stores=stores)
    source = source.replace(f"celu_numba.{name}(", function + "(")
    namespace = {"celu_numba": celu_numba, "UFUNC": raw(name)}
    exec(source, namespace)
    return numba.njit(namespace["loop"])


def run_elementwise(name, function, args, result_dtype):
    nout = 3 if name == "celu_and_grads" else 1
    n = np.broadcast(*[np.asarray(a) for a in args]).shape[0]
    out = tuple(np.empty(n, result_dtype) for _ in range(nout))
    function(*args, out)
    return out


# (x dtype, alpha dtype, result dtype): alpha an array of its own dtype, element by element
STRONG = [
    ("float64", "float64", "float64"),
    ("float32", "float32", "float32"),
    ("int64", "float64", "float64"),
    ("int32", "float32", "float64"),  # the ufunc's int32 loop: float64
    ("bool", "float64", "float64"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("x_dtype,alpha_dtype,result", STRONG, ids=["-".join(c[:2]) for c in STRONG])
def test_scalars_in_njit_match_the_ufunc(name, x_dtype, alpha_dtype, result):
    x, a = grid(x_dtype if x_dtype not in ("int64", "int32", "bool") else "float64", alpha_dtype)
    if x_dtype != "float64" and x.dtype != np.dtype(x_dtype):
        x = np.nan_to_num(x, nan=5, posinf=7, neginf=-7).clip(-1e9, 1e9).astype(x_dtype)
    args = (*inputs(name, x, a), a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = as_tuple(raw(name)(*args))
    got = run_elementwise(name, elementwise(name), args, result)
    for g, w in zip(got, want):
        assert_same_bits(g, w)


@pytest.mark.parametrize("name", NAMES)
def test_float32_with_a_float64_scalar_alpha_is_float32(name):
    # the float64 scalar counts as a Python float (weak, NEP 50), as celu(x32, 1.5) from Python
    f = elementwise(name, scalar_alpha=True)
    x, _ = grid("float32", "float32")
    for alpha in [0.0, 1e-300, 0.1, 1.5, 1e30, 1e300, np.inf]:
        args = (*inputs(name, x, None), alpha)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = as_tuple(raw(name)(*args))
            got = run_elementwise(name, f, args, "float32")
        for g, w in zip(got, want):
            assert w.dtype == np.float32
            assert_same_bits(g, w)


@pytest.mark.parametrize("via", ["public", "attribute", "global"])
def test_literal_alpha_default_alpha_and_ufunc_forms(via):
    x64, _ = grid("float64", "float64")
    x32 = x64.clip(-1e30, 1e30).astype(np.float32)
    f = elementwise("celu_and_grads", alpha_literal=0.5, via=via)
    for x in (x64, x32):
        got = run_elementwise("celu_and_grads", f, (x,), x.dtype)
        for g, w in zip(got, raw("celu_and_grads")(x, 0.5)):
            assert_same_bits(g, w)
    if via == "public":  # alpha left out: 1.0 (the ufunc itself requires it)
        f = elementwise("celu_backward", alpha_literal="default")
        g = np.linspace(-2, 2, x64.size)
        got = run_elementwise("celu_backward", f, (g, x64), "float64")
        assert_same_bits(got[0], raw("celu_backward")(g, x64, 1.0))


def test_scalar_return_types_and_invalid_alpha_gives_nan():
    @numba.njit
    def call(x, a):
        return celu_numba.celu(x, a), celu_numba.celu_grad(x), celu_numba.celu_and_grads(x, a)

    for x, a, dtype in [(-1.5, 2.0, float), (np.float32(-1.5), np.float32(2.0), np.float32), (-3, 2, float)]:
        value, grad, (v2, g2, ga) = call(x, a)
        assert type(value) is dtype or (dtype is np.float32 and isinstance(value, float))
        assert value == raw("celu")(x, a) and v2 == value and grad == raw("celu_grad")(x, 1.0)
    for bad in (-1.0, np.nan):
        value, _, triple = call(-1.0, bad)
        assert np.isnan(value) and all(np.isnan(t) for t in triple)
        with pytest.raises(ValueError, match="alpha must be >= 0"):
            celu_numba.celu(-1.0, bad)  # the Python-level function raises


def test_callers_options_are_not_inherited():
    # fastmath=True would fold away the NaN checks; error_model="python" would raise on
    # the division by alpha == 0 of celu_backward_from_output
    @numba.njit(fastmath=True, error_model="python")
    def call(g, y, a):
        out = np.empty(g.size)
        for i in range(g.size):
            out[i] = celu_numba.celu_backward_from_output(g[i], y[i], a) + celu_numba.celu(y[i], a)
        return out

    y = np.array([-0.5, np.nan, -np.inf, 0.0, 2.0])
    g = np.ones_like(y)
    for a in (0.0, 1.0, np.inf):
        want = raw("celu_backward_from_output")(g, y, a) + raw("celu")(y, a)
        assert_same_bits(call(g, y, a), want)


# --- arrays in @njit: broadcasting, new arrays, out=


@pytest.mark.parametrize("name", NAMES)
def test_arrays_in_njit_broadcast_like_the_ufunc(name):
    nin = NIN[name]
    namespace = {"celu_numba": celu_numba}
    params = ", ".join(f"v{k}" for k in range(nin))
    exec(f"def new({params}):\n    return celu_numba.{name}({params})\n"
         f"def into({params}, out):\n    return celu_numba.{name}({params}, out=out)\n", namespace)
    new, into = numba.njit(namespace["new"]), numba.njit(namespace["into"])
    rng = np.random.default_rng(1)
    x = (4 * rng.standard_normal((3, 4))).astype(np.float64)
    alphas = np.array([0.0, 0.5, 2.0, np.inf])
    cases = [
        (*inputs(name, x, None), 1.5),  # C arrays, scalar alpha: the flat loop
        (*inputs(name, x, None), alphas),  # alpha broadcast along rows
        (*inputs(name, x[:, :1], None), alphas),  # (3, 1) with (4,): the index loop
        (*inputs(name, x.T, None), 0.5),  # F-ordered ("A" layout)
        (*inputs(name, x.astype(np.float32), None), 1.5),  # float32, weak alpha
        (*inputs(name, x.astype(np.float32), None), alphas.astype(np.float32)),
        (*inputs(name, x.astype(np.float32), None), alphas),  # a float64 array: float64
        (*inputs(name, x[0, 0], None), alphas),  # scalar x, array alpha
    ]
    for args in cases:
        want = as_tuple(raw(name)(*args))
        got = as_tuple(new(*args))
        for g, w in zip(got, want):
            assert_same_bits(g, w)
        out = tuple(np.full(w.shape, -7.0, w.dtype) for w in want)
        returned = into(*args, out if len(out) > 1 else out[0])
        for o, r, w in zip(out, as_tuple(returned), want):
            assert r is o or np.shares_memory(r, o)
            assert_same_bits(o, w)


def test_out_into_a_non_contiguous_view_and_a_float32_out():
    @numba.njit
    def into(x, a, out):
        celu_numba.celu(x, a, out=out)

    x = np.linspace(-5, 5, 24).reshape(4, 6)
    big = np.zeros((4, 12))
    into(x, 0.7, big[:, ::2])
    assert_same_bits(big[:, ::2], raw("celu")(x, 0.7))
    assert not big[:, 1::2].any()
    out32 = np.empty((4, 6), np.float32)
    into(x, 0.7, out32)  # computed in float64, rounded into out (NumPy's same_kind cast)
    assert_same_bits(out32, raw("celu")(x, 0.7, out=np.empty((4, 6), np.float32)))
    with pytest.raises(ValueError, match="broadcast"):
        into(x, 0.7, np.empty((4, 5)))


# --- errors


@pytest.mark.parametrize("bad", [1j, np.ones(3, np.complex128), "x"], ids=["complex", "complex-array", "str"])
def test_unsupported_types_name_the_function_and_what_it_accepts(bad):
    @numba.njit
    def call(x):
        return celu_numba.celu_grad(x, 1.0)

    with pytest.raises(numba.core.errors.TypingError) as error:
        call(bad)
    message = str(error.value)
    assert "celu_numba.celu_grad() got unsupported argument types" in message
    assert "float32, float64, integer or bool scalars or arrays" in message


def test_the_ufunc_requires_alpha():
    @numba.njit
    def call(x):
        return celu_numba.celu.ufunc(x)

    with pytest.raises(numba.core.errors.TypingError):
        call(1.0)


# --- @vectorize and @guvectorize bodies


@pytest.mark.parametrize("target", ["cpu", "parallel"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numba's ufuncs report the inf/NaN inputs' FP flags
def test_vectorize_and_guvectorize_bodies(target):
    @numba.vectorize(["float32(float32, float32)", "float64(float64, float64)"], target=target)
    def value(x, a):
        return celu_numba.celu(x, a)

    @numba.guvectorize(["void(float64[:], float64, float64[:], float64[:])"], "(n),()->(n),(n)", target=target)
    def backward(x, a, y, g):
        for i in range(x.shape[0]):
            y[i], g[i], _ = celu_numba.celu_and_grads(x[i], a)

    x, a = grid("float64", "float64")
    assert_same_bits(value(x, a), raw("celu")(x, a))
    x32, a32 = x.astype(np.float32), a.astype(np.float32)
    assert_same_bits(value(x32, a32), raw("celu")(x32, a32))
    xs = x[np.isfinite(x)]
    y, g = backward(xs, 0.25)
    want = raw("celu_and_grads")(xs, 0.25)
    assert_same_bits(y, want[0])
    assert_same_bits(g, want[1])


# --- inlined and vectorized


def test_the_scalar_math_inlines_into_the_users_loop_and_vectorizes():
    @numba.njit
    def loop(x, out):
        for i in range(x.size):
            out[i] = celu_numba.celu(x[i], 1.0)

    x = np.linspace(-3, 3, 64)
    out = np.empty_like(x)
    loop(x, out)
    assert_same_bits(out, raw("celu")(x, 1.0))
    llvm = loop.inspect_llvm(loop.signatures[0])
    calls = [line for line in llvm.splitlines() if " call " in line and "celu" in line]
    assert not calls, f"the kernel was not inlined: {calls[:2]}"
    assert "x double>" in llvm, "the loop over celu was not vectorized"


# --- the entry point, in a child process: nothing but numba's own loading registers them


def test_entry_point_registers_them(tmp_path):
    script = textwrap.dedent("""
        import sys
        import numba, numpy as np
        import celu_numba
        assert "celu_numba._overloads" not in sys.modules

        @numba.njit
        def f(x):
            return celu_numba.celu(x, 0.5), celu_numba.celu_and_grads(x)

        x = np.linspace(-3, 3, 11)
        value, triple = f(x)
        assert "celu_numba._overloads" in sys.modules
        assert (value.view(np.int64) == celu_numba.celu(x, 0.5).view(np.int64)).all()
        assert all((a == b).all() for a, b in zip(triple, celu_numba.celu_and_grads(x)))
        print("entry point ok")
    """)
    env = dict(os.environ, PYTHONPATH=ROOT)
    child = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stdout + child.stderr
    assert "entry point ok" in child.stdout


# --- CUDA: the simulator (a child process) and PTX for sm_90 (NVVM, no GPU)

_SIMULATOR_SCRIPT = """
import numpy as np
from numba import cuda
import celu_numba

@cuda.jit(device=True)
def pair(x, a):
    return celu_numba.celu_and_grads(x, a)

@cuda.jit
def kernel(x, a, out):
    i = cuda.grid(1)
    if i < x.size:
        v, g, ga = pair(x[i], a[i])
        out[0, i] = v
        out[1, i] = g
        out[2, i] = ga
        out[3, i] = celu_numba.celu_grad_alpha(x[i], a[i])
        out[4, i] = celu_numba.celu_backward(x[i], x[i], a[i])
        out[5, i] = celu_numba.celu_backward_from_output.ufunc(x[i], x[i], a[i])
        out[6, i] = celu_numba.celu(x[i])

for dtype in ("float64", "float32"):
    x = np.array([-np.inf, -700.0, -3.5, -1e-8, -0.0, 0.0, 2.0, np.inf, np.nan], dtype)
    x, a = [v.ravel() for v in np.meshgrid(x, np.array([0.0, 1e-3, 0.5, 1.0, 1e3, np.inf], dtype))]
    out = np.empty((7, x.size), dtype)
    kernel[2, 32](x, a, out)
    want = [*celu_numba.celu_and_grads(x, a), celu_numba.celu_grad_alpha(x, a),
            celu_numba.celu_backward(x, x, a), celu_numba.celu_backward_from_output(x, x, a),
            celu_numba.celu(x)]
    for got, w in zip(out, want):
        same = (got.view(np.uint8) == w.view(np.uint8)).reshape(x.size, -1).all(1) | (np.isnan(got) & np.isnan(w))
        assert same.all(), (dtype, got[~same], w[~same])
print("simulator ok")
"""


@pytest.mark.skipif(not HAVE_NUMBA_CUDA, reason="numba-cuda is not installed")
def test_cuda_kernel_and_device_function_under_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=ROOT)
    child = subprocess.run([sys.executable, "-W", "ignore::RuntimeWarning", "-c", _SIMULATOR_SCRIPT],
                           env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stdout + child.stderr
    assert "simulator ok" in child.stdout


@pytest.fixture(scope="module")
def cuda_for_sm90():
    """numba.cuda with the overloads registered, compiling for sm_90 without a GPU."""
    if not HAVE_NUMBA_CUDA or os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("numba-cuda is not installed, or this is the simulator")
    from numba import cuda
    from numba.cuda import dispatcher

    try:
        cuda.compile_ptx(lambda a: None, "void(float64)", cc=(9, 0))
    except Exception as error:  # noqa: BLE001 - whatever is missing, say it
        pytest.skip(f"NVVM/NVRTC unavailable: {type(error).__name__}")
    # numba-cuda loads its extensions' entry points in its dispatcher; compile_ptx alone
    # does not, so this does it as a kernel launch would have
    from numba.cuda.core import entrypoints

    entrypoints.init_all()
    for name in NAMES:  # (see the note in test_compiling_does_not_build_the_ufuncs)
        getattr(celu_numba, name).ufunc

    class ComputeCapability90:  # stands in for the current device (device functions)
        compute_capability = (9, 0)
        id = 0

    original = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: ComputeCapability90()
    yield cuda
    dispatcher.get_current_device = original


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_cuda_kernel_compiles_to_ptx(cuda_for_sm90, dtype):
    cuda = cuda_for_sm90

    @cuda.jit(device=True)
    def triple(x, a):
        return celu_numba.celu_and_grads(x, a)

    def kernel(x, out):
        i = cuda.grid(1)
        if i < x.size:
            v, g, ga = triple(x[i], 0.5)
            out[i] = (v + g + ga + celu_numba.celu(x[i]) + celu_numba.celu_grad.ufunc(x[i], 2.0)
                      + celu_numba.celu_grad_alpha(x[i], 3) + celu_numba.celu_backward(x[i], x[i])
                      + celu_numba.celu_backward_from_output(x[i], x[i], 0.25))

    ptx, _ = cuda.compile_ptx(kernel, f"void({dtype}[:], {dtype}[:])", cc=(9, 0))
    assert ".target sm_90" in ptx and ".entry" in ptx
    # float32/float16 call the float32 kernels (float32 arithmetic) but for the integer
    # alpha of celu_grad_alpha (float64, as NumPy's integer loop); float64 in float64
    assert "fma.rn.f64" in ptx
    assert ("fma.rn.f32" in ptx) == (dtype != "float64")


def test_cuda_rejects_arrays_with_a_clear_error(cuda_for_sm90):
    cuda = cuda_for_sm90

    def kernel(x, out):
        out[0] = celu_numba.celu(x, 1.0)[0]

    with pytest.raises(Exception, match=r"celu_numba.celu\(\) got unsupported argument types"):
        cuda.compile_ptx(kernel, "void(float64[:], float64[:])", cc=(9, 0))


# --- compiling a user's function does not build the ufuncs

_NO_BUILD_SCRIPT = """
import numba, celu_numba
from celu_numba import _overloads, _ufuncs
_overloads.init()

@numba.njit
def f(x):
    return celu_numba.celu(x, 0.5)

f(-1.0)
print(sorted(_ufuncs._built))
"""


def test_compiling_does_not_build_the_ufuncs():
    """numba probes attributes (``targetoptions``) of every global a function calls: the
    public objects answer without building (compiling) their ufuncs."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    child = subprocess.run([sys.executable, "-c", _NO_BUILD_SCRIPT], env=env, capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip().splitlines()[-1] == "[]"
