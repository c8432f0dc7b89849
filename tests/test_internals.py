"""Guards for the NumPy and numba internals that the CPU ufuncs rely on.

celu_numba/_ufunc.py, _threads.py and py reach past the public APIs of
NumPy and numba (see their docstrings for why).  Each test here names one such piece,
so that an upgrade that moves or changes it fails here, by name, instead of crashing
somewhere inside a ufunc call.
"""

import ctypes
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
import types as pytypes

import llvmlite.binding as llvm_binding
import numba
import numpy as np
import pytest
from numba import cfunc, njit, types

import celu_numba
from celu_numba import _native, _threads, _ufunc
from celu_numba._intrinsics import address, load_int64, try_lock, unlock, view

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------------------ NumPy


def _capsule_api():
    api = ctypes.pythonapi
    api.PyCapsule_IsValid.restype = ctypes.c_int
    api.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return api


def test_ufunc_api_capsule_exists():
    capsule = np._core._multiarray_umath._UFUNC_API
    assert type(capsule).__name__ == "PyCapsule"
    api = _capsule_api()
    assert api.PyCapsule_IsValid(capsule, None) == 1  # an unnamed capsule, as _ufunc reads it
    table = api.PyCapsule_GetPointer(capsule, None)
    assert table
    slots = ctypes.cast(table, ctypes.POINTER(ctypes.c_void_p))
    assert slots[1]  # PyUFunc_FromFuncAndData


@njit
def _add_one_element(px, pa, pout):
    view(pout, 1, types.float64)[0] = (
        view(px, 1, types.float64)[0] + 2.0 * view(pa, 1, types.float64)[0]
    )


@cfunc(_threads.LOOP_SIGNATURE)
def _x_plus_two_a(args, dims, steps, data):
    """A NumPy inner loop for 'dd->d' computing x + 2a, written with the project's helpers."""
    x = address(args[0])
    a = address(args[1])
    out = address(args[2])
    for i in range(dims[0]):
        _add_one_element(x + i * steps[0], a + i * steps[1], out + i * steps[2])


def test_slot_1_is_pyufunc_from_func_and_data():
    """The function _ufunc takes from slot 1 builds a working ufunc from a numba cfunc loop."""
    make = _ufunc._pyufunc_from_func_and_data()
    funcs = (ctypes.c_void_p * 1)(_x_plus_two_a.address)
    data = (ctypes.c_void_p * 1)(0)
    typecodes = (ctypes.c_char * 3)(*[np.dtype("d").num] * 3)
    name, doc = b"x_plus_two_a", b"x + 2a, a test ufunc."
    keep = (funcs, data, typecodes, name, doc)
    u = make(funcs, data, typecodes, 1, 2, 1, _ufunc._PY_UFUNC_NONE, name, doc, 0)
    assert isinstance(u, np.ufunc)
    assert (u.nin, u.nout, u.ntypes, u.types) == (2, 1, 1, ["dd->d"])
    assert u.__name__ == "x_plus_two_a" and u.identity is None
    assert u.__doc__.rstrip().endswith("x + 2a, a test ufunc.")
    x = np.arange(10.0)
    np.testing.assert_array_equal(u(x, 3.0), x + 6.0)
    np.testing.assert_array_equal(u(x[::-2], x[::2]), x[::-2] + 2 * x[::2])
    assert u(1.0, 2.0) == 5.0 and type(u(1.0, 2.0)) is np.float64
    out = np.zeros(3)
    u([1.0, 2.0, 3.0], 1.0, out=out, where=[True, False, True])
    np.testing.assert_array_equal(out, [3.0, 0.0, 5.0])
    _ufunc._KEEP_ALIVE.append(keep)  # NumPy keeps the pointers; so must we


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.2.0",
                    reason="NumPy < 2.2: a ufunc has no __module__ (test_ufuncs_pickle_by_reference)")
def test_ufuncs_accept_module_and_qualname_and_pickle_by_them():
    u = np.frompyfunc(lambda v: v, 1, 1)
    u.__module__ = "celu_numba_test_fake_module"
    u.__qualname__ = "fake_ufunc"
    assert (u.__module__, u.__qualname__) == ("celu_numba_test_fake_module", "fake_ufunc")
    # NumPy pickles a ufunc as its (read-only) __name__, looked up in its __module__
    module = pytypes.ModuleType("celu_numba_test_fake_module")
    setattr(module, u.__name__, u)
    sys.modules[module.__name__] = module
    try:
        assert pickle.loads(pickle.dumps(u)) is u
    finally:
        del sys.modules[module.__name__]
    # the real ones
    for name in ["celu", "celu_and_grads"]:
        raw = getattr(celu_numba, name).ufunc
        assert raw.__module__ == "celu_numba._ufuncs"
        assert raw.__qualname__ == name
        assert pickle.loads(pickle.dumps(raw)) is raw


def test_ufuncs_pickle_by_reference():
    """With or without a settable __module__ (NumPy >= 2.2 or older), each raw ufunc
    pickles as a reference that unpickles to the very same object."""
    for name in ["celu", "celu_and_grads"]:
        raw = getattr(celu_numba, name).ufunc
        assert pickle.loads(pickle.dumps(raw)) is raw
        assert getattr(raw, "__module__", "celu_numba._ufuncs") == "celu_numba._ufuncs"


def test_numpy_identity_constant():
    """_ufunc passes -1 for "no identity" (PyUFunc_None); NumPy then reports None."""
    assert _ufunc._PY_UFUNC_NONE == -1
    assert celu_numba.celu.ufunc.identity is None
    with pytest.raises(ValueError, match="identity"):
        celu_numba.celu.ufunc.reduce(np.array([]))


# ------------------------------------------------------------------------------ numba


def test_numba_parallel_internals():
    from numba.np.ufunc import parallel

    assert callable(parallel._launch_threads)
    assert isinstance(parallel._is_initialized, bool)
    celu_numba.celu(np.ones(3))  # the first call launches the threads
    assert parallel._is_initialized is True
    parallel._launch_threads()  # idempotent
    assert parallel._is_initialized is True
    from numba.core.extending import _Intrinsic

    assert isinstance(parallel._iget_num_threads, _Intrinsic)

    @njit
    def threads_seen_in_compiled_code():
        return parallel._iget_num_threads()

    before = numba.get_num_threads()
    assert threads_seen_in_compiled_code() == before
    try:
        numba.set_num_threads(1)
        assert threads_seen_in_compiled_code() == 1  # per thread, as the driver reads it
    finally:
        numba.set_num_threads(before)
    assert threads_seen_in_compiled_code() == before


def test_threading_layer_entry_point_is_registered():
    """The driver calls the threading layer's parallel_for by the symbol numba's prange
    uses, which numba registers with LLVM when it launches its threads; its contract
    (fn(args, dims, steps, data) on sub-ranges of dims[0], each operand advanced by its
    step) is what test_parallel_calls_on_every_threading_layer checks."""
    import llvmlite.binding as ll
    from numba.np.ufunc import parallel

    parallel._launch_threads()
    for symbol in ["numba_parallel_for", "get_num_threads"]:
        assert ll.address_of_symbol(symbol), symbol


def test_numba_building_blocks_exist():
    from numba.core import ccallback, cgutils
    from numba.extending import intrinsic, overload, register_jitable

    assert callable(intrinsic) and callable(overload) and callable(register_jitable)
    for helper in ["get_or_insert_function", "alloca_once", "pack_array"]:
        assert callable(getattr(cgutils, helper)), helper
    assert hasattr(ccallback.CFunc, "address") and hasattr(ccallback.CFunc, "native_name")
    for driver in _ufunc.drivers():
        assert isinstance(driver, _native.Compiled) and driver.address
    assert callable(os.register_at_fork)


def test_the_machine_key_is_numbas():
    """The object files are keyed by what numba compiles for (its own cache's key)."""
    from numba.core.registry import cpu_target

    assert _native.machine()[:3] == cpu_target.target_context.codegen().magic_tuple()


def test_a_compiled_library_gives_its_object_code_and_imports():
    """What _native reads of a library numba compiled: its object code, and the symbols
    the code imports, each of which this process can give a new engine."""
    from celu_numba import _parallel

    compiled = cfunc(_threads.LOOP_SIGNATURE, **_ufunc.OPTIONS)(_parallel.chunk_loop)
    data = _native._object_file(compiled._library, compiled.native_name)
    symbol, imports, code = _native.unpack(data)
    assert symbol == compiled.native_name and len(code) > 1000
    assert imports and all(llvm_binding.address_of_symbol(name) for name in imports)
    assert _native._link(data) is not None
    assert _native._link(b"not an object file") is None
    assert _native._link(_native.pack(symbol, ["no_such_symbol_anywhere"], code)) is None
    # damaged: never handed to LLVM (which crashes on a truncated object)
    for damaged in (data[:-1], data[: len(data) // 2], data[:-100] + bytes(100), data + b"\0"):
        assert _native.unpack(damaged) is None and _native._link(damaged) is None


def test_intrinsics():
    @njit
    def roundtrip(a):
        p = a.ctypes.data
        v = view(p, a.size, types.float64)
        v[0] = 42.0
        return v.sum()

    a = np.arange(5.0)
    assert roundtrip(a) == 42.0 + 1 + 2 + 3 + 4 and a[0] == 42.0

    lock = np.zeros(1, np.int64)

    @njit
    def lock_dance(p):
        first = try_lock(p)
        second = try_lock(p)
        held = load_int64(p)
        unlock(p)
        return first, second, held, load_int64(p)

    assert lock_dance(lock.ctypes.data) == (True, False, 1, 0)


def test_thread_state_record():
    assert _threads.STATE.dtype == np.int64 and _threads.STATE.shape == (3,)
    x = np.linspace(-5, 5, 1 << 17)
    celu_numba.celu(x)
    assert _threads.STATE[0] == 0  # the pool's lock is released after a call
    assert _threads.STATE[1] == 0  # threads are enabled in a process that was not forked
    assert _threads.PARALLEL_MIN_SIZE >= 1
    assert _threads.STATE.ctypes.data  # its address is baked into every loop's data record


def test_floating_point_flags_are_cleared():
    """Spurious FP flags from the discarded branch never reach NumPy's error handling."""
    x = np.array([1e308, -1e308, np.inf, -np.inf, np.nan, 0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0])
    alphas = np.array([0.0, 5e-324, 1e-300, 1.0, 1e300, np.inf])
    x32 = np.array([3e38, -3e38, np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, -1e-45, 1.0, -1.0],
                   np.float32)
    alphas32 = np.array([0.0, 1e-45, 1e-38, 1.0, 3e38, np.inf], np.float32)
    with np.errstate(all="raise"):
        for alpha, alpha32 in zip(alphas, alphas32):
            for f in [celu_numba.celu, celu_numba.celu_grad, celu_numba.celu_grad_alpha,
                      celu_numba.celu_and_grads]:
                f(x, alpha)
                f(x32, alpha32)
        celu_numba.celu(x[:, None], alphas[None, :])  # the buffered path
        celu_numba.celu(np.tile(x, 5000), 1e-300)  # the parallel path


# -------------------------------------------------------------------------- the cache


_CACHE_PROBE = """
    import json, os, sys, time
    import numpy as np
    t0 = time.perf_counter()
    import celu_numba
    y = celu_numba.celu(np.array([-1.0, 2.0]), 0.5)
    assert abs(y[0] - 0.5 * np.expm1(-2.0)) < 1e-15 and y[1] == 2.0
    build_s = time.perf_counter() - t0
    from celu_numba import _cache, _native
    from numba.core.registry import cpu_target
    print(json.dumps({
        "objects": {file: os.path.join(_cache.cache_dir(), file) for file in _native._functions},
        "loaded": {file: compiled.loaded for file, (compiled, _) in _native._functions.items()},
        "numba_compiler_used": "_toplevel_target_context" in vars(cpu_target),
        "build_s": build_s,
    }))
"""


def _probe(tmp_path, cache_dir, home=None):
    env = dict(os.environ)
    env["TMPDIR"] = str(tmp_path)  # a fallback cache directory lands here
    env.pop("NUMBA_CACHE_DIR", None)
    env["CELU_NUMBA_CACHE_DIR"] = str(cache_dir)
    if home is not None:
        env["HOME"] = str(home)
        env.pop("XDG_CACHE_HOME", None)
        env.pop("CELU_NUMBA_CACHE_DIR")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(_CACHE_PROBE))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, cwd=str(tmp_path), timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert all(os.path.isfile(path) for path in result["objects"].values()), result
    return result


def _function_names(files):
    """celu_numba_<prefix>_<digest>.<function>-<machine>.o -> <prefix>.<function>"""
    matches = [re.fullmatch(r"celu_numba_(\w+)_[0-9a-f]{20}\.(\w+)-[0-9a-f]{12}\.o", f) for f in files]
    assert all(matches), files
    return sorted(f"{m[1]}.{m[2]}" for m in matches)


def test_compiled_code_is_written_to_the_cache_dir_and_reused(tmp_path):
    """The code compiled for a call (the kernel's contiguous loop, the driver's two parts)
    is an object file in the cache directory, beside the generated module; a second
    process links all of it from there, rewrites nothing, and never starts numba's
    compiler; numba's own cache is not used."""
    cache = tmp_path / "cache"
    first = _probe(tmp_path, cache)
    # a float64 call on contiguous operands: its loop and the driver, nothing else
    assert _function_names(first["objects"]) == ["loops_celu_d.contiguous_d", "parallel.chunk_loop",
                                                 "parallel.parallel_loop"]
    assert all(os.path.dirname(path) == str(cache) for path in first["objects"].values())
    assert not any(first["loaded"].values()) and first["numba_compiler_used"]  # compiled
    (module,) = cache.glob("celu_numba_loops_celu_d_*.py")
    assert "do not edit" in module.read_text()
    assert not list(cache.rglob("*.nbi"))  # one copy of the code: ours
    files = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in cache.iterdir() if p.is_file()}

    second = _probe(tmp_path, cache)
    assert second["objects"] == first["objects"]
    assert all(second["loaded"].values()) and not second["numba_compiler_used"], second
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in cache.iterdir() if p.is_file()} == files
    print(f"first build {first['build_s']:.1f} s, cached {second['build_s']:.2f} s")


def test_an_object_file_that_cannot_be_linked_is_compiled_again(tmp_path):
    """A damaged object file, or one importing a symbol this process lacks, is compiled
    again and rewritten, and the results are right."""
    cache = tmp_path / "cache"
    first = _probe(tmp_path, cache)
    loop, driver = (path for file, path in sorted(first["objects"].items()) if "contiguous_d" in file or "chunk_loop" in file)
    with open(loop, "r+b") as f:  # damaged and truncated
        f.seek(len(_native._MAGIC) + 200)
        f.write(b"garbage")
        f.truncate(f.tell() + 1000)
    symbol, imports, code = _native.unpack(open(driver, "rb").read())
    open(driver, "wb").write(_native.pack(symbol, [*imports, "no_such_symbol_anywhere"], code))
    second = _probe(tmp_path, cache)
    assert not any(second["loaded"].values())  # the driver's two parts compile together
    assert _native.unpack(open(loop, "rb").read()) is not None  # rewritten whole
    assert "no_such_symbol_anywhere" not in _native.unpack(open(driver, "rb").read())[1]
    assert all(_probe(tmp_path, cache)["loaded"].values())


def test_another_cpu_gets_its_own_object_files(tmp_path, monkeypatch):
    """Code compiled for one CPU (NUMBA_CPU_NAME) is never linked for another."""
    cache = tmp_path / "cache"
    host = _probe(tmp_path, cache)
    monkeypatch.setenv("NUMBA_CPU_NAME", "haswell")
    haswell = _probe(tmp_path, cache)
    assert not set(haswell["objects"]) & set(host["objects"]) and not any(haswell["loaded"].values())
    assert _function_names(haswell["objects"]) == _function_names(host["objects"])


def test_an_unwritable_home_still_works(tmp_path):
    """No CELU_NUMBA_CACHE_DIR and a home where no cache can be made (below a file, which
    root cannot write through either): a temporary directory, used for every module."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    result = _probe(tmp_path, None, home=blocker / "home")
    directories = {os.path.dirname(path) for path in result["objects"].values()}
    assert len(directories) == 1
    (fallback,) = directories
    assert os.path.basename(fallback).startswith("celu_numba-")
    assert os.path.dirname(fallback) == str(tmp_path)


def test_a_missing_home_still_works(tmp_path):
    result = _probe(tmp_path, None, home=tmp_path / "does-not-exist" / "home")
    assert result["objects"]


def test_unusable_cache_dir_falls_back_to_a_temporary_one(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    result = _probe(tmp_path, blocker / "cache")  # cannot be created
    assert not (blocker / "cache").exists()
    (fallback,) = {os.path.dirname(path) for path in result["objects"].values()}
    assert os.path.basename(fallback).startswith("celu_numba-")
    assert os.path.dirname(fallback) == str(tmp_path)


_READ_ONLY_CHILD = """
import os, tempfile
real = tempfile.NamedTemporaryFile

def read_only(*args, dir=None, **kwargs):  # as if the configured directory were read-only
    if dir is not None and os.path.abspath(dir) == os.environ["CELU_NUMBA_CACHE_DIR"]:
        raise PermissionError(13, "Read-only file system", dir)
    return real(*args, dir=dir, **kwargs)

tempfile.NamedTemporaryFile = read_only
import numpy as np
import celu_numba
from celu_numba import _cache, _native
assert celu_numba.celu(np.float32([-1, 2])).tolist() == [np.expm1(np.float32(-1)), 2]
assert _cache.cache_dir() != os.environ["CELU_NUMBA_CACHE_DIR"]
print(sorted(compiled.loaded for compiled, _ in _native._functions.values()))
"""


def test_a_read_only_cache_is_read(tmp_path):
    """A cache compiled ahead of time into a directory the process cannot write (a
    container image) is linked from there; nothing is compiled again."""
    cache = tmp_path / "image cache"
    assert run_cli_compile(cache, "celu", "float32").returncode == 0
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(cache), TMPDIR=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-W", "error::celu_numba.CompileWarning", "-c", _READ_ONLY_CHILD],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[True, True, True, True]"  # the drivers, the loop, the buffered loop


def run_cli_compile(cache, function, dtype):
    """`python -m celu_numba compile` of one function and dtype into `cache`."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "celu_numba", "compile", "--cache-dir", str(cache),
                           "--function", function, "--dtype", dtype], env=env, capture_output=True, text=True, timeout=900)


_CONCURRENT_CHILD = """
import numpy as np
import celu_numba
x = np.linspace(-30.0, 30.0, 100_001)
for dtype in (np.float64, np.float32):
    for name in ("celu", "celu_grad"):
        y = getattr(celu_numba, name)(x.astype(dtype), 0.75)
        print(name, dtype.__name__, y.dtype, y.tobytes().hex()[:64], float(y.astype(np.float64).sum()))
"""


def test_four_processes_on_one_empty_cache(tmp_path):
    """Four processes compiling into the same empty cache at once all compute the right
    results, and the cache they leave is loaded (not compiled) by the next one."""
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    env.pop("NUMBA_CACHE_DIR", None)
    children = [subprocess.Popen([sys.executable, "-c", _CONCURRENT_CHILD], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outputs = [child.communicate(timeout=900) for child in children]
    assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
    x = np.linspace(-30.0, 30.0, 100_001)
    expected = []
    for dtype in (np.float64, np.float32):
        for name in ("celu", "celu_grad"):
            y = getattr(celu_numba, name)(x.astype(dtype), 0.75)
            expected.append(f"{name} {dtype.__name__} {y.dtype} {y.tobytes().hex()[:64]} {float(y.astype(np.float64).sum())}")
    assert all(out.split("\n")[:-1] == expected for out, _ in outputs)
    proc = subprocess.run([sys.executable, "-W", "error::celu_numba.CompileWarning", "-c", _CONCURRENT_CHILD],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr  # nothing left to compile: no CompileWarning
    assert proc.stdout.split("\n")[:-1] == expected


def test_first_compile_warns_once_and_a_warm_cache_does_not(tmp_path):
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    code = "import numpy as np, celu_numba; celu_numba.celu(np.ones(3)); celu_numba.celu(np.ones(3), 2.0)"
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("CompileWarning: celu_numba: compiling celu ") == 1, first.stderr
    assert str(tmp_path / "cache") in first.stderr
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0 and "CompileWarning" not in second.stderr, second.stderr


@pytest.mark.parametrize("error", [AttributeError("numba moved an internal"), RuntimeError("LLVM said no")])
def test_a_construction_error_reaches_the_caller_as_itself(monkeypatch, error):
    """An exception while building a ufunc surfaces with its own type and message (an
    AttributeError inside the `ufunc` property once became a RecursionError), through every
    way in; nothing half-built is kept, and the next call tries again."""
    from celu_numba import _api, _ufuncs

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(_ufuncs, "_built", {})
    monkeypatch.setattr(_ufunc, "make_ufunc", failing)
    fresh = _api.public_function("celu", "doc")
    x = np.array([-1.0, 1.0])
    for attempt in range(2):
        with pytest.raises(type(error), match=str(error)):
            fresh(x)
        with pytest.raises(type(error), match=str(error)):
            fresh.ufunc
        with pytest.raises(type(error), match=str(error)):
            fresh.types
        with pytest.raises(type(error), match=str(error)):
            _ufuncs.celu
        assert fresh._ufunc is None and _ufuncs._built == {}
    monkeypatch.undo()
    np.testing.assert_array_equal(fresh(x), celu_numba.celu(x))


_LAZY_CHILD = """
import sys
import numpy as np
import celu_numba
from celu_numba import _threads

def compiled():
    return sorted({f.split(".")[0].rsplit("_", 1)[0][len("celu_numba_"):] for f in celu_numba._native._functions})

x = np.linspace(-3, 3, 11)
steps = []
celu_numba.celu(x.astype(np.float32)); steps.append(compiled())
celu_numba._ufuncs.celu_grad(x, 2.0); steps.append(compiled())  # the raw ufunc
celu_numba.celu(np.float32(-1.5)); steps.append(compiled())  # a scalar
y = celu_numba.celu(x[::2].astype(np.float32)[::-1]); steps.append(compiled())  # small, reversed
assert y.tobytes() == celu_numba.celu(x[::2].astype(np.float32)[::-1].copy()).tobytes()
y = celu_numba.celu.outer(x.astype(np.float32), np.float32([1, 2])); steps.append(compiled())  # x of stride 0
assert y.tobytes() == np.stack([celu_numba.celu(x.astype(np.float32), np.float32(a)) for a in (1, 2)], 1).tobytes()
_threads.STATE[2] = _threads.ELEMENTWISE_BUDGET  # as if strided calls had used it up
y = celu_numba.celu(x.astype(np.float32)[::2]); steps.append(compiled())  # past the budget: compiled
assert y.tobytes() == celu_numba.celu(x.astype(np.float32)[::2].copy()).tobytes()
big = np.linspace(-3, 3, 100_000).astype(np.float32)
y = celu_numba.celu(big[::2])
assert y.tobytes() == celu_numba.celu(big[::2].copy()).tobytes()
celu_numba.celu(x.astype(np.int32)); steps.append(compiled())  # int32: read as float64, buffered
print(steps)
"""


def test_a_call_compiles_only_the_loops_it_runs(tmp_path):
    """On an empty cache each call compiles (and writes) what it runs and nothing more: the
    driver with the first ufunc, a kernel's loop for the dtype it computes in, the buffered
    loop for the first operands the contiguous loop cannot take, whichever way the call
    comes (public function, raw ufunc, .outer)."""
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    env.pop("NUMBA_CACHE_DIR", None)
    proc = subprocess.run([sys.executable, "-c", _LAZY_CHILD], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    driver, celu_f, grad_d, strided = "parallel", "loops_celu_f", "loops_celu_grad_d", "strided"
    assert eval(proc.stdout) == [
        sorted([celu_f, driver]),
        sorted([celu_f, grad_d, driver]),
        sorted([celu_f, grad_d, driver]),  # one element: any strides suit the contiguous loop
        sorted([celu_f, grad_d, driver]),  # strided: element by element through the contiguous loop
        sorted([celu_f, grad_d, driver]),
        sorted([celu_f, grad_d, driver, strided]),  # past ELEMENTWISE_BUDGET: worth compiling it
        sorted([celu_f, grad_d, driver, strided, "loops_celu_d"]),
    ]
    # one warning per thing compiled, naming the line of the call that compiled it
    assert proc.stderr.count("CompileWarning") == 4, proc.stderr
    for line, what in [(12, "celu for float32"), (13, "celu_grad for float64"),
                       (20, "the loop for strided and mixed-dtype operands"), (25, "celu for float64")]:
        assert f"<string>:{line}: CompileWarning: celu_numba: compiling {what} (" in proc.stderr, proc.stderr


_BUDGET_CHILD = """
import numpy as np
import celu_numba
from celu_numba import _lazy_loops, _threads

x = np.linspace(-3, 3, 2001)
calls = 0
while _lazy_loops._buffered_address == 0:
    y = celu_numba.celu(x[::2], 0.5)
    calls += 1
    assert y.tobytes() == celu_numba.celu(x[::2].copy(), 0.5).tobytes()
print(calls, int(_threads.STATE[2]), _threads.ELEMENTWISE_BUDGET)
"""

_CACHED_BUFFERED_CHILD = """
import numpy as np
import celu_numba
from celu_numba import _threads
celu_numba.celu(np.linspace(-3, 3, 11)[::2])
print(int(_threads.STATE[2]))
"""


def test_a_cached_buffered_loop_is_linked_not_bypassed(tmp_path):
    """Where the cache holds the buffered loop, a strided call uses it at once (linked
    with the ufunc), never element by element, and nothing compiles."""
    cache = tmp_path / "cache"
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    first = subprocess.run([sys.executable, "-c", _CACHED_BUFFERED_CHILD], env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0 and first.stdout.strip() == "6", first.stderr  # element by element
    assert run_cli_compile(cache, "celu", "float64").returncode == 0
    second = subprocess.run([sys.executable, "-W", "error::celu_numba.CompileWarning", "-c", _CACHED_BUFFERED_CHILD],
                            env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0 and second.stdout.strip() == "0", second.stderr


def test_strided_calls_compile_the_buffered_loop_once_they_add_up(tmp_path):
    """Strided calls run element by element without compiling the buffered loop, until
    ELEMENTWISE_BUDGET elements have gone that way: the next one compiles it."""
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _BUDGET_CHILD], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    calls, elementwise, budget = map(int, proc.stdout.split())
    assert elementwise <= budget < elementwise + 1001 and calls == elementwise // 1001 + 1


_RACING_CHILD = """
import threading
import numpy as np
import celu_numba
x = np.linspace(-30.0, 30.0, 200_001)
calls = [lambda: celu_numba.celu(x), lambda: celu_numba.celu(x.astype(np.float32)),
         lambda: celu_numba.celu(x.astype(np.int32)[::2], 2.0),  # int32: the buffered loop
         lambda: celu_numba.celu_grad(x[::-1].astype(np.float32))] * 2
results = [None] * len(calls)
start = threading.Barrier(len(calls))

def run(i):
    start.wait()
    results[i] = calls[i]()

threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
for t in threads:
    t.start()
for t in threads:
    t.join()
for i in range(len(calls)):  # the same calls again, everything compiled: the same bits
    assert results[i].tobytes() == calls[i]().tobytes(), i
expected = np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
assert np.abs(results[0] - expected).max() < 1e-15
print("ok")
"""


def test_threads_racing_to_the_first_calls(tmp_path):
    """Eight Python threads make their first calls at once on an empty cache, needing the
    same loops and different ones: each loop compiles once, every result is right."""
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _RACING_CHILD], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
    for what in ["celu for float64", "celu for float32", "celu_grad for float32", "the loop for strided"]:
        assert proc.stderr.count(f"compiling {what}") == 1, proc.stderr


_FAILING_CHILD = """
import numpy as np
import celu_numba
from celu_numba import _ufunc

real = _ufunc.contiguous_loop
error = ERROR

def failing(*args, **kwargs):
    raise error

_ufunc.contiguous_loop = failing
x = np.linspace(-3, 3, 100_000)
seen = []
for call in [lambda: celu_numba.celu(x), lambda: celu_numba._ufuncs.celu(x, 1.0),
             lambda: celu_numba.celu.outer(x[:5], [1.0, 2.0]), lambda: celu_numba.celu_backward(x, x)]:
    try:
        call()
        seen.append("no error")
    except BaseException as e:
        seen.append((type(e).__name__, str(e)))
_ufunc.contiguous_loop = real
y = celu_numba.celu(x)  # the next call compiles
assert np.array_equal(y, np.where(x > 0, x, np.expm1(np.minimum(x, 0)))) or np.abs(y - np.where(x > 0, x, np.expm1(np.minimum(x, 0)))).max() < 1e-15
print(seen)
"""


@pytest.mark.parametrize("error", ["RuntimeError('LLVM said no')", "KeyboardInterrupt()", "MemoryError()"])
def test_an_error_while_compiling_a_loop_is_the_calls_error(tmp_path, error):
    """The loops compile inside NumPy's call (a callback from the driver): an exception
    there is raised by the call as itself, however the call came, nothing is left
    half-linked, and the next call compiles."""
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _FAILING_CHILD.replace("ERROR", error)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    name = error.split("(")[0]
    message = "LLVM said no" if name == "RuntimeError" else ""
    assert eval(proc.stdout) == [(name, message)] * 4
    assert "Exception ignored" not in proc.stderr, proc.stderr


_LAYER_CHILD = """
import numba, numpy as np
import celu_numba
x = np.linspace(-30.0, 30.0, 1_000_003)
parallel = [celu_numba.celu(x, 0.75), celu_numba.celu(x[::3], 0.75), celu_numba.celu_and_grads(x.astype(np.float32))]
numba.set_num_threads(1)
serial = [celu_numba.celu(x, 0.75), celu_numba.celu(x[::3], 0.75), celu_numba.celu_and_grads(x.astype(np.float32))]
assert numba.threading_layer() == LAYER, numba.threading_layer()
for p, s in zip(parallel, serial):
    for a, b in zip(p if isinstance(p, tuple) else [p], s if isinstance(s, tuple) else [s]):
        assert a.tobytes() == b.tobytes()
print("ok")
"""


@pytest.mark.parametrize("layer", ["workqueue", "omp", "tbb"])
def test_parallel_calls_on_every_threading_layer(tmp_path, layer):
    """The driver splits large calls through the threading layer's parallel_for: on each
    layer numba offers here, the results are bit-identical to one thread's."""
    if layer == "tbb":
        pytest.importorskip("tbb")
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer, NUMBA_NUM_THREADS="4")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _LAYER_CHILD.replace("LAYER", repr(layer))], env=env,
                          capture_output=True, text=True, timeout=900)
    if "No threading layer could be loaded" in proc.stderr or "ValueError: Cannot load" in proc.stderr:
        pytest.skip(f"numba has no {layer} threading layer here")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_a_missing_internal_is_named_with_the_supported_versions(monkeypatch):
    monkeypatch.setattr(_ufunc, "INTERNALS", (*_ufunc.INTERNALS, ("numba.np.ufunc.parallel", "_gone_in_a_release")))
    with pytest.raises(ImportError) as info:
        _ufunc.check_internals()
    message = str(info.value)
    assert "numba.np.ufunc.parallel._gone_in_a_release" in message
    assert numba.__version__ in message and np.__version__ in message and _ufunc.SUPPORTED in message
    monkeypatch.setattr(_ufunc, "INTERNALS", (("celu_numba_no_such_module", "x"),))
    with pytest.raises(ImportError, match="celu_numba_no_such_module.x"):
        _ufunc.check_internals()


def test_introspection_builds_nothing():
    """help(), inspect and numba's compiler probe attributes of the public objects; only
    np.ufunc's own attributes (which need the ufunc) may build it."""
    code = textwrap.dedent("""
        import inspect, pydoc, sys
        import celu_numba
        from celu_numba import _ufuncs
        inspect.signature(celu_numba.celu)
        pydoc.render_doc(celu_numba.celu_and_grads)
        for name in ["targetoptions", "_partialmethod", "__wrapped__", "not_an_attribute"]:
            assert not hasattr(celu_numba.celu, name), name
        assert _ufuncs._built == {} and "celu_numba._native" not in sys.modules, _ufuncs._built
        assert celu_numba.celu.nin == 2 and set(_ufuncs._built) == {"celu"}
        print("ok")
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
