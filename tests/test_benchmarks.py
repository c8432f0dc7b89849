"""The asv suite in benchmarks/ runs: each benchmark once, at its smallest size.

A benchmark that breaks (an API change, a bad parameter) fails the normal test suite
here, not only the asv run.  Nothing is timed and no speed is asserted.  Benchmarks may
skip themselves only the asv way (NotImplementedError in setup) and only for a reason
listed in ALLOWED_SKIPS (an optional peer, or no GPU).
"""

import importlib
import importlib.util
import inspect
import itertools
import math
import os
import pkgutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import benchmarks  # noqa: E402

PREFIXES = ("time_", "timeraw_", "mem_", "peakmem_", "track_")
#: Largest size the test uses for a parameter named "n" (the suite's smallest sizes are
#: below it, except peakmem's, which only makes sense at 1e7).
MAX_TEST_SIZE = 100_000
#: (benchmark class, skip reason fragment) pairs that may skip.
ALLOWED_SKIPS = {
    "TimePeers": ("torch not importable", "jax not importable"),
    "TimeExponentials": ("torch not importable",),
    "TimeCuda": ("celu_numba.cuda not importable", "no usable GPU"),
    "TrackAccuracy": ("mpmath is not installed",),
}

MODULES = sorted(
    name for _, name, _ in pkgutil.iter_modules(benchmarks.__path__) if name.startswith("bench_")
)


def _benchmarks():
    """(module name, class name, method name) of every benchmark in the suite."""
    found = []
    for module_name in MODULES:
        module = importlib.import_module(f"benchmarks.{module_name}")
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or cls_name.startswith("_"):
                continue
            for method in sorted(vars(cls)) + sorted(
                m for base in cls.__mro__[1:] for m in vars(base) if m.startswith(PREFIXES)
            ):
                if method.startswith(PREFIXES):
                    found.append((module_name, cls_name, method))
    return sorted(set(found))


BENCHMARKS = _benchmarks()


def test_suite_is_discovered():
    assert MODULES == sorted(
        ["bench_accuracy", "bench_first_call", "bench_functions", "bench_layouts", "bench_memory",
         "bench_numba_interop", "bench_peers", "bench_reference", "bench_targets", "bench_threshold"]
    )
    assert {m for m, _, _ in BENCHMARKS} == set(MODULES)  # every module has benchmarks


def _param_grid(cls):
    params = getattr(cls, "params", ())
    names = getattr(cls, "param_names", ())
    if not params:
        return [()]
    if not isinstance(params[0], (list, tuple)):  # a single parameter
        params = (params,)
    assert len(names) == len(params), f"{cls.__name__}: param_names do not match params"
    values = []
    for name, options in zip(names, params):
        options = list(options)
        assert options, f"{cls.__name__}: no values for {name}"
        if name == "n":
            options = [min(min(options), MAX_TEST_SIZE)]
        values.append(options)
    return list(itertools.product(*values))


@pytest.mark.parametrize("module_name, cls_name, method", BENCHMARKS)
def test_benchmark_runs(module_name, cls_name, method):
    module = importlib.import_module(f"benchmarks.{module_name}")
    cls = getattr(module, cls_name)
    assert getattr(cls, "timeout", 0) > 0, f"{cls_name} has no timeout"
    ran, skipped = 0, []
    for combo in _param_grid(cls):
        bench = cls()
        try:
            if hasattr(bench, "setup"):
                bench.setup(*combo)
        except NotImplementedError as exc:
            allowed = ALLOWED_SKIPS.get(cls_name, ())
            assert any(reason in str(exc) for reason in allowed), (
                f"{cls_name}{combo} skipped for an unexpected reason: {exc}"
            )
            skipped.append(combo)
            continue
        try:
            result = getattr(bench, method)(*combo)
        finally:
            if hasattr(bench, "teardown"):
                bench.teardown(*combo)
        if method.startswith("timeraw_"):  # asv runs setup, then code, in a fresh interpreter
            code, setup = result if isinstance(result, tuple) else (result, "")
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
            proc = subprocess.run([sys.executable, "-c", setup + "\n" + code], env=env,
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr
        if method.startswith("track_"):
            assert isinstance(result, (int, float)) and math.isfinite(result) and result >= 0, (
                f"{cls_name}.{method}{combo} returned {result!r}"
            )
        ran += 1
    if cls_name not in ("TimeCuda",):  # the GPU benchmarks may all skip on a CPU machine
        assert ran > 0, f"{cls_name}.{method}: every case skipped ({skipped})"


def test_threads_restored_after_serial_benchmark():
    import numba

    from benchmarks import bench_targets

    before = numba.get_num_threads()
    bench = bench_targets.TimeCpuThreads()
    combo = ("serial", "float64", 1000)
    bench.setup(*combo)
    assert numba.get_num_threads() == 1
    bench.time_celu(*combo)
    bench.teardown(*combo)
    assert numba.get_num_threads() == before


def test_track_allocated_counts_outputs():
    """The allocation tracker sees NumPy's arrays: 1 output array when allocating, 0 with out=."""
    from benchmarks import bench_memory

    results = {}
    for mode in ("allocate", "out"):
        bench = bench_memory.TrackAllocated()
        combo = ("celu", "float64", mode, 100_000)
        bench.setup(*combo)
        results[mode] = bench.track_allocated(*combo)
    assert 0.99 <= results["allocate"] <= 1.1
    assert results["out"] < 0.01


@pytest.mark.parametrize("kind", ["copy", "negate", "read2_write1", "read1_write3", "numpy_expm1"])
def test_reference_loops_compute_what_they_say(kind):
    """Each memory-limit reference writes what its docstring says, over every element
    (its inputs first, its outputs after, as reference_case returns them)."""
    import numpy as np

    from benchmarks import common

    assert kind in common.REFERENCES
    fn, args = common.reference_case(kind, 100_003, np.float32)
    fn(*args)
    x = args[0]
    want = {
        "copy": [x],
        "negate": [-x],
        "read2_write1": [args[0] + args[1]],
        "read1_write3": [x, x, x],
        "numpy_expm1": [np.expm1(x)],
    }[kind]
    for got, expected in zip(args[len(args) - len(want):], want):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("torch_installed", [True, False])
def test_ratios_script_prints_the_table(capsys, monkeypatch, torch_installed):
    import numba
    import numpy as np

    from benchmarks import common, ratios

    if not torch_installed:
        real_import = common.import_optional

        def no_torch(module):
            if module == "torch":
                raise NotImplementedError("torch not importable: hidden by the test")
            return real_import(module)

        monkeypatch.setattr(common, "import_optional", no_torch)
    elif importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (an optional peer)")
    rows, floor, raw, stores, peers = ratios.main(["--size", "10000", "--repeat", "1"])
    text = capsys.readouterr().out
    assert "| case | dtype | time | reference time | ratio | goal | result |" in text
    assert "threading layer" in text and "numba" in text
    assert {r["dtype"] for r in rows} == {"float32", "float64"}
    # per dtype: 6 functions, torch, numpy, call overhead, 4 layouts; float32 over float64
    assert len(rows) == 2 * 13 + 1
    assert [r["goal"] for r in rows if "torch" in r["case"]] == [0.45, 0.7]
    assert [r["case"] for r in rows][-1] == "celu float32 / celu float64"
    for r in rows:
        assert r["note"] or (r["time"] > 0 and r["ref"] > 0), r
        assert r["case"] in text
    torch_rows = [r for r in rows if "torch" in r["case"]]
    assert len(torch_rows) == 2
    assert all(bool(r["note"]) != torch_installed for r in torch_rows)
    # n/a: torch's celu row and its exp and expm1 rows, per dtype
    assert text.count("n/a (torch not installed)") == (0 if torch_installed else 2 * 3)
    assert text.count("PASS") + text.count("MISS") == len(rows) + 6 + len(peers) - text.count("n/a (torch not installed)")
    # the compute floor: every function and dtype, in-cache data scaled to --size
    assert "| case | dtype | in-cache elements |" in text
    assert [(r["case"].split(" / ")[0], r["dtype"]) for r in floor] == [
        (name, dtype) for dtype in common.DTYPES for name in common.FUNCTION_NAMES
    ]
    for r in floor:
        nin, nout = common.FUNCTIONS[r["case"].split(" / ")[0]]
        operand_bytes = r["n"] * (nin + nout) * np.dtype(r["dtype"]).itemsize
        assert operand_bytes <= numba.get_num_threads() * ratios.CACHE_BYTES_PER_THREAD
        assert r["n"] > 10_000 and r["time"] > 0 and r["ref"] > 0
    assert text.count("under the goal") + text.count("OVER the goal") == len(floor)
    # the call overhead of the raw ufunc and of np.add: one row each per dtype, in the main
    # table's format
    assert [(r["case"].split()[0], r["dtype"]) for r in raw] == [
        (call, dtype) for dtype in common.DTYPES for call in ("celu.ufunc", "np.add")
    ]
    assert all(r["case"] in text and r["time"] > 0 and r["ref"] > 0 for r in raw)
    # the copy reference against ordinary stores: one row per dtype
    assert "ordinary stores" in text and [r["dtype"] for r in stores] == list(common.DTYPES)
    assert all(r["case"] == "negate / copy" and r["time"] > 0 and r["ref"] > 0 for r in stores)
    # the peers' bare exponentials: each over the copy reference, per dtype
    assert "bare exp and expm1" in text
    assert [(r["case"], r["dtype"]) for r in peers] == [
        (f"{name} / copy", dtype) for dtype in common.DTYPES for name in common.EXPONENTIALS
    ]
    for r in peers:
        assert r["case"] in text
        assert bool(r["note"]) == (not torch_installed and r["case"].startswith("torch")), r
        assert r["note"] or (r["time"] > 0 and r["ref"] > 0), r


@pytest.mark.parametrize("name", ["torch_exp", "torch_expm1", "numpy_expm1"])
def test_exponential_peers_compute_what_they_say(name):
    """Each peer exponential writes exp(x) or expm1(x) over every element of its output
    (NumPy's in float64 for comparison; the peers' own accuracy is theirs)."""
    import numpy as np

    from benchmarks import common

    assert name in common.EXPONENTIALS
    try:
        fn, (x, out) = common.exponential_case(name, 100_003, np.float32)
    except NotImplementedError:
        pytest.skip("torch is not installed (an optional peer)")
    fn(x, out)
    exact = (np.exp if name == "torch_exp" else np.expm1)(x.astype(np.float64))
    np.testing.assert_allclose(out, exact, rtol=2e-6, atol=1e-37)


def test_first_call_script_prints_the_table(capsys):
    """benchmarks/first_call.py, pointed at this session's (warm) cache so that it is quick:
    two fresh processes, each row three positive times, the table the README shows."""
    import numpy as np

    import celu_numba
    from benchmarks import first_call
    from celu_numba import _cache

    celu_numba.celu(np.ones(2), 1.0)
    celu_numba.celu_and_grads(np.ones(2, np.float32))  # both in the cache before the children start
    rows = first_call.main(["--cache", _cache.cache_dir()])
    assert [label for label, _ in rows] == ["empty (first use on a machine)", "warm (every later process)"]
    assert all(len(times) == 3 and all(t > 0 for t in times) for _, times in rows)
    assert rows[1][1][1] < 30  # a warm cache: loaded, not compiled
    out = capsys.readouterr().out
    assert "| cache | import | first `celu` call | first `celu_and_grads` call |" in out


def test_ptx_ceilings_counts_per_element_on_the_main_path():
    """ptx_ceilings.per_element counts float32 and float64 arithmetic between the first
    vector load and the last vector store, divided by the elements per thread."""
    from benchmarks import ptx_ceilings

    ptx = "\n".join([
        "rcp.rn.f64 %fd1, %fd2;",  # before the main path: alpha's work, not counted
        "ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd1];",
        "fma.rn.f32 %f5, %f1, %f2, %f3;", "mul.rn.f32 %f6, %f5, %f5;", "setp.gt.f32 %p1, %f6, %f5;",
        "selp.f32 %f7, %f6, %f5, %p1;",  # a select: not arithmetic
        "fma.rn.f64 %fd3, %fd1, %fd1, %fd1;", "cvt.rn.f32.f64 %f8, %fd3;",
        "st.global.v4.f32 [%rd2], {%f5, %f6, %f7, %f8};",
        "add.f64 %fd4, %fd3, %fd3;",  # after the main path
    ])
    assert ptx_ceilings.per_element(ptx, 2) == {"f32": 2.0, "f64": 0.5}
    # a card's ceiling: 1 / (n32 / R32 + n64 / R64), R = FLOP/s over 2
    fp32, fp64, _ = ptx_ceilings.CARDS["T4"]
    assert ptx_ceilings.ceiling(10, 0, "T4") == pytest.approx(fp32 * 1e12 / 2 / 10)
    assert ptx_ceilings.ceiling(0, 30, "T4") == pytest.approx(fp64 * 1e12 / 2 / 30)
    assert ptx_ceilings.ceiling(10, 30, "T4") < ptx_ceilings.ceiling(0, 30, "T4")


def test_alternate_times_two_checkouts(capsys):
    """benchmarks/alternate.py times every function in each checkout, alternating."""
    from benchmarks import alternate

    results = alternate.main([ROOT, ROOT, "--rounds", "1", "--size", "2000", "--repeat", "2"])
    text = capsys.readouterr().out
    assert set(results) == {"old", "new"} and len(results["old"]) == len(results["new"]) == 1
    for name in ("celu", "celu_grad", "celu_grad_alpha", "celu_backward", "celu_backward_from_output",
                 "celu_and_grads", "celu, alpha array"):
        assert results["old"][0][name] > 0 and results["new"][0][name] > 0
        assert f"| {name} |" in text
