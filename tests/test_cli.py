"""The command line: the main job, bench, plot, help, errors and exit codes.

Quick paths run in-process through ``_cli.main(argv, out)``; the real entry point
(``python -m celu_numba``) and the runs that must hide a module (matplotlib, mpmath,
numba.cuda) run in a subprocess.  The self-check's mpmath reference is compared with
the independent one in tests/reference.py.
"""

import contextlib
import io
import os
import re
import subprocess
import sys

import mpmath
import numba
import numpy as np
import pytest

import celu_numba
from celu_numba import _cli, _cli_bench, _cli_env, _cli_progress, _selfcheck

sys.path.insert(0, os.path.dirname(__file__))
import reference as R  # noqa: E402
from public_api import NAMES  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTIONS = tuple(NAMES)


def run_cli(*args, hide=(), timeout=300):
    """``python -m celu_numba ARGS`` in a subprocess; modules in ``hide`` cannot be imported."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if hide:
        code = (
            "import sys\n"
            + "".join(f"sys.modules[{name!r}] = None\n" for name in hide)
            + "from celu_numba._cli import main\n"
            + f"sys.exit(main({list(args)!r}))\n"
        )
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, "-m", "celu_numba", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def run_main(*args):
    """In-process: (exit code, stdout, stderr), SystemExit (argparse) included."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # argparse's --help
        try:
            code = _cli.main(list(args), out=out)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(stderr):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert "error" in lines[0]
    return lines[0]


# ------------------------------------------------------------------ the main job


@pytest.fixture(scope="module")
def main_job():
    return run_cli()


def test_main_job_reports_versions_threads_and_cuda(main_job):
    out = main_job.stdout
    assert f"celu_numba {celu_numba.__version__}" in out
    assert f"numba {numba.__version__}" in out
    assert f"numpy {np.__version__}" in out
    threads = re.search(r"CPU threads: (\d+)\s+threading layer: (\S+)", out)
    assert threads, out
    assert int(threads.group(1)) == numba.config.NUMBA_NUM_THREADS
    assert threads.group(2) in {"omp", "tbb", "workqueue"}  # chosen: a loop has run
    usable, text = _cli_env.cuda_status()
    assert re.search(r"^CUDA: (yes|no)", out, re.M), out
    if not usable:
        assert "CUDA: no: " in out


def test_main_job_self_check_table_has_every_function(main_job):
    out = main_job.stdout
    assert "self-check against mpmath" in out
    for name in FUNCTIONS:
        row = re.search(rf"^\s+{name}\s+(\S+)\s+(ok|> \S+!)\s+(\S+)\s+(ok|> \S+!)\s*$", out, re.M)
        assert row, f"no self-check row for {name}:\n{out}"
        for value in (row.group(1), row.group(3)):
            assert float(value) >= 0.0


def test_main_job_exit_code_matches_self_check(main_job):
    out = main_job.stdout
    if "self-check FAILED" in out:
        assert main_job.returncode == 1
    else:
        assert "self-check passed" in out
        assert main_job.returncode == 0, main_job.stderr


def test_main_job_passes(main_job):
    """The README's main job succeeds: every function meets its accuracy goal."""
    assert main_job.returncode == 0, main_job.stdout + main_job.stderr
    assert "self-check passed" in main_job.stdout


def test_main_job_throughput_line(main_job):
    line = re.search(
        r"^throughput: celu on 1,000,000 float64: celu_numba ([\d,]+) M/s .*NumPy expression ([\d,]+) M/s, ([\d.]+)x$",
        main_job.stdout,
        re.M,
    )
    assert line, main_job.stdout
    ours, numpy_ = (float(line.group(i).replace(",", "")) for i in (1, 2))
    assert ours > 0 and numpy_ > 0


def test_main_job_without_mpmath_says_so_and_succeeds():
    result = run_cli(hide=("mpmath",))
    assert result.returncode == 0, result.stderr
    assert "self-check: skipped, it needs mpmath" in result.stdout
    assert "throughput:" in result.stdout


def test_package_does_not_import_mpmath_or_matplotlib():
    code = (
        "import sys, numpy as np, celu_numba\n"
        "celu_numba.celu(np.linspace(-1, 1, 5))\n"
        "import celu_numba.__main__, celu_numba._cli\n"
        "bad = [m for m in ('mpmath', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------ CUDA status


def test_cuda_status_never_raises_and_explains():
    usable, text = _cli_env.cuda_status()
    assert isinstance(usable, bool)
    assert text and "\n" not in text


def test_cuda_status_uses_celu_numba_cuda_when_present(monkeypatch):
    class FakeCuda:
        @staticmethod
        def is_available():
            return True

        @staticmethod
        def status():
            return "Fake GPU 9000 (compute capability 9.0)"

    monkeypatch.setattr(celu_numba, "cuda", FakeCuda, raising=False)
    assert _cli_env.cuda_status() == (True, "Fake GPU 9000 (compute capability 9.0)")
    assert _cli_env.cuda_line() == "CUDA: yes, Fake GPU 9000 (compute capability 9.0)"


def test_cuda_status_survives_a_failing_celu_numba_cuda(monkeypatch):
    class BrokenCuda:
        @staticmethod
        def is_available():
            raise RuntimeError("driver exploded\nsecond line")

    monkeypatch.setattr(celu_numba, "cuda", BrokenCuda, raising=False)
    usable, text = _cli_env.cuda_status()
    assert usable is False
    assert text == "celu_numba.cuda failed: driver exploded"


def test_main_job_without_numba_cuda_says_why():
    result = run_cli(hide=("numba.cuda", "numba_cuda", "celu_numba.cuda"))
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    line = re.search(r"^CUDA: no: (.+)$", result.stdout, re.M)
    assert line, result.stdout
    assert "cannot be imported" in line.group(1) or "not installed" in line.group(1)


# ------------------------------------------------------------------ the self-check itself


def test_selfcheck_reference_agrees_with_tests_reference():
    """Two independent mpmath references give the same correctly rounded values."""
    for dtype in (np.float32, np.float64):
        x, a, _ = _selfcheck.sample(dtype)
        pick = slice(None, None, 7)
        for ours, theirs in (
            (_selfcheck.exact_celu, "celu"),
            (_selfcheck.exact_grad, "grad"),
            (_selfcheck.exact_grad_alpha, "grad_alpha"),
        ):
            got = np.array([R.round_mpf(ours(mpmath, xi, ai), dtype) for xi, ai in zip(x[pick], a[pick])])
            want = R.reference(theirs, x[pick], a[pick], dtype)
            np.testing.assert_array_equal(got, want)


def test_selfcheck_ulp_error_units():
    one = mpmath.mpf(1)
    assert _selfcheck.ulp_error(mpmath, 1.0 + 2.0**-52, one, np.float64) == 1.0
    assert _selfcheck.ulp_error(mpmath, 1.0 - 2.0**-53, one, np.float64) == 0.5  # ulp taken at the exact value
    assert _selfcheck.ulp_error(mpmath, np.float32(1.0) + np.float32(2.0**-23), one, np.float32) == 1.0
    assert _selfcheck.ulp_error(mpmath, 5e-324, mpmath.mpf(0), np.float64) == 1.0
    assert _selfcheck.ulp_error(mpmath, np.nan, mpmath.mpf("nan"), np.float64) == 0.0
    assert _selfcheck.ulp_error(mpmath, 1.0, mpmath.mpf("nan"), np.float64) == np.inf
    assert _selfcheck.ulp_error(mpmath, -np.inf, mpmath.mpf("-inf"), np.float64) == 0.0
    assert _selfcheck.ulp_error(mpmath, np.inf, mpmath.mpf("-inf"), np.float64) == np.inf


def test_selfcheck_sample_covers_both_branches_and_specials():
    for dtype in (np.float32, np.float64):
        x, a, g = _selfcheck.sample(dtype)
        assert x.dtype == a.dtype == g.dtype == dtype
        assert (x < 0).sum() > 100 and (x > 0).sum() > 100
        assert np.isnan(x).any() and np.isinf(x).any() and (a == 0).any() and np.isinf(a).any()
        z = x[np.isfinite(x) & (a > 0) & np.isfinite(a)] / a[np.isfinite(x) & (a > 0) & np.isfinite(a)]
        assert z.min() < -80 and (np.abs(z[z < 0]) < 1e-8).any()  # the deep tail and near 0


def test_selfcheck_catches_an_inaccurate_function(monkeypatch):
    """A function off by ~1e4 ULP, or one that misses a special value, fails the check."""
    real_celu, real_grad = celu_numba.celu, celu_numba.celu_grad

    def sloppy_celu(x, alpha=1.0):
        return real_celu(x, alpha) * (1 + 1e4 * np.finfo(np.asarray(x).dtype).eps)

    def grad_without_limits(x, alpha=1.0):
        out = real_grad(x, alpha)
        return np.where(np.asarray(alpha) == np.inf, np.nan, out)

    monkeypatch.setattr(celu_numba, "celu", sloppy_celu)
    monkeypatch.setattr(celu_numba, "celu_grad", grad_without_limits)
    results = {(r.name, r.dtype): r for r in _selfcheck.check(("float64",))}
    assert not results["celu", "float64"].ok
    assert results["celu", "float64"].worst_ulp > 1e3
    assert results["celu_grad", "float64"].worst_ulp == np.inf
    assert results["celu_grad_alpha", "float64"].ok  # untouched functions are unaffected


def test_selfcheck_covers_every_point_of_the_sample():
    results = {(r.name, r.dtype): r for r in _selfcheck.check(("float64",))}
    sample_size = _selfcheck.sample(np.float64)[0].size
    assert sample_size > 200
    for name in _selfcheck.FUNCTIONS:
        assert results[name, "float64"].points == sample_size, name
        assert results[name, "float64"].ok, results[name, "float64"]


def test_selfcheck_result_table_marks_failures():
    results = [
        _selfcheck.Result("celu", "float64", 0.5, -1.0, 1.0, 2.0, 10),
        _selfcheck.Result("celu", "float32", 7.0, -1.0, 1.0, 1.0, 10),
    ]
    text = _selfcheck.format_results(results)
    row = [line for line in text.splitlines() if line.strip().startswith("celu")][0]
    assert "7" in row and "> 1!" in row and "ok" in row


# ------------------------------------------------------------------ bench


def test_bench_numpy_expressions_compute_the_same_functions():
    """The baseline computes what celu_numba computes (so the comparison is fair)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-6, 3, 2000)
    x = x[np.abs(x) > 0.1]  # the naive closed form of d/dalpha cancels near 0
    g = rng.standard_normal(x.size)
    alpha = 1.5
    y = celu_numba.celu(x, alpha)
    exprs = _cli_bench._numpy_expressions()
    ours = _cli_bench._celu_numba_calls()
    for name in FUNCTIONS:
        want = ours[name](x, g, y, alpha)
        got = exprs[name](x, g, y, alpha)
        for w, v in zip(*(r if isinstance(r, tuple) else (r,) for r in (want, got))):
            np.testing.assert_allclose(v, w, rtol=1e-11, atol=1e-14, err_msg=name)


def test_bench_table_tiny():
    code, out, err = run_main("bench", "--size", "2000", "--min-time", "0.001", "--no-peers", "--dtype", "float32")
    assert code == 0, err
    lines = out.splitlines()
    assert "2,000 elements" in lines[0] and "target cpu" in lines[0]
    assert lines[1].split() == ["function", "dtype", "celu_numba", "numpy", "vs", "numpy"]
    rows = [line.split() for line in lines[3:] if line.split() and line.split()[0] in FUNCTIONS]
    assert [r[0] for r in rows] == list(FUNCTIONS)
    for row in rows:
        assert row[1] == "float32"
        ours, numpy_, ratio = float(row[2]), float(row[3]), float(row[4].rstrip("x"))
        assert ours > 0 and numpy_ > 0
        assert ratio == pytest.approx(ours / numpy_, rel=0.06, abs=0.06)


def test_bench_function_and_dtype_selection_and_1e3_size():
    code, out, err = run_main(
        "bench", "--size", "1e3", "--min-time", "0.001", "--no-peers", "--function", "celu_grad",
        "--function", "celu_and_grads",
    )
    assert code == 0, err
    rows = [line.split()[:2] for line in out.splitlines() if line.split() and line.split()[0] in FUNCTIONS]
    assert rows == [
        ["celu_grad", "float32"], ["celu_grad", "float64"],
        ["celu_and_grads", "float32"], ["celu_and_grads", "float64"],
    ]
    assert "1,000 elements" in out


def test_bench_serial_target_restores_threads():
    before = numba.get_num_threads()
    code, out, err = run_main(
        "bench", "--size", "1000", "--min-time", "0.001", "--no-peers", "--target", "serial",
        "--function", "celu", "--dtype", "float64",
    )
    assert code == 0, err
    assert "target serial (1 thread)" in out
    assert numba.get_num_threads() == before


def test_bench_serial_runs_with_one_thread(monkeypatch):
    seen = []
    real = _cli_bench._celu_numba_calls

    def spying_calls():
        calls = real()
        return {name: (lambda fn: lambda *a: (seen.append(numba.get_num_threads()), fn(*a))[1])(fn)
                for name, fn in calls.items()}

    monkeypatch.setattr(_cli_bench, "_celu_numba_calls", spying_calls)
    _cli_bench.run(("celu",), ("float64",), 100, "serial", peers=False, min_time=0.0,
                   progress=_cli_progress.Progress(1, enabled=False))
    assert seen and set(seen) == {1}


def test_bench_peers_appear_when_installed():
    peers = [name for name in ("torch", "jax") if _cli_bench._optional(name) is not None]
    if not peers:
        pytest.skip("neither torch nor jax is installed")
    table = _cli_bench.run(("celu",), ("float64",), 1000, "cpu", peers=True, min_time=0.001,
                           progress=_cli_progress.Progress(1, enabled=False))
    for peer in peers:
        assert peer in table.columns
        assert table.rows[0][2][peer] > 0


def test_bench_cuda_target_unavailable_is_one_line_error():
    if _cli_env.cuda_status()[0]:
        pytest.skip("CUDA is usable here")
    code, out, err = run_main("bench", "--target", "cuda", "--size", "100")
    assert code == 1
    line = assert_one_line_error(err)
    assert "--target cuda" in line and "CUDA is not usable" in line


@pytest.mark.parametrize("args, fragment", [
    (("bench", "--dtype", "float8"), "invalid choice: 'float8'"),
    (("bench", "--size", "0"), "must be a whole number >= 1"),
    (("bench", "--size", "lots"), "not a number"),
    (("bench", "--target", "tpu"), "invalid choice: 'tpu'"),
    (("bench", "--function", "relu"), "invalid choice: 'relu'"),
    (("bench", "--min-time", "-1"), "must be > 0"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    (("plot",), "the following arguments are required: -o/--output"),
    (("plot", "-o", "x.png", "--alphas", "1,-2"), "every alpha must be > 0"),
    (("--bogus",), "unrecognized arguments: --bogus"),
])
def test_usage_errors_are_one_line_exit_2(args, fragment):
    code, out, err = run_main(*args)
    assert code == 2
    line = assert_one_line_error(err)
    assert fragment in line
    assert "--help" in line


def test_unknown_subcommand_from_the_shell():
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in assert_one_line_error(result.stderr)


@pytest.mark.parametrize("args, fragments", [
    ((), ["bench", "plot", "self-check"]),
    (("bench",), ["--size", "--dtype", "--target", "serial", "cuda"]),
    (("plot",), ["-o", "--alphas", "matplotlib"]),
])
def test_help(args, fragments):
    code, out, err = run_main(*args, "--help")
    assert code == 0
    assert out.startswith("usage: python -m celu_numba")
    for fragment in fragments:
        assert fragment in out


def test_version():
    code, out, _ = run_main("--version")
    assert code == 0
    assert out.strip() == f"celu_numba {celu_numba.__version__}"


# ------------------------------------------------------------------ progress bar and timing


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_is_silent_for_quick_runs():
    stream, clock = io.StringIO(), FakeClock()
    with _cli_progress.Progress(3, stream=stream, enabled=True, clock=clock) as bar:
        for _ in range(3):
            clock.now += 0.2
            bar.advance("step")
    assert stream.getvalue() == ""


def test_progress_draws_after_a_second_and_erases_itself():
    stream, clock = io.StringIO(), FakeClock()
    with _cli_progress.Progress(4, stream=stream, width=8, enabled=True, clock=clock) as bar:
        clock.now = 0.5
        bar.advance("a")
        assert stream.getvalue() == ""
        clock.now = 1.5
        bar.advance("b")
        assert stream.getvalue() == "\r[####....] 2/4 b"
        clock.now = 2.0
        bar.advance("c")
    text = stream.getvalue()
    assert "\r[######..] 3/4 c" in text
    assert text.endswith("\r" + " " * len("[######..] 3/4 c") + "\r")


def test_progress_off_when_not_a_terminal():
    stream, clock = io.StringIO(), FakeClock()  # StringIO.isatty() is False
    bar = _cli_progress.Progress(2, stream=stream, clock=clock)
    clock.now = 5.0
    bar.advance()
    bar.close()
    assert stream.getvalue() == ""


def test_time_call_takes_the_best_of_repeats():
    clock = FakeClock()
    durations = iter([9.0, 3.0, 1.0, 2.0, 5.0])  # first is the warm-up (not timed)
    state = {}

    def fn():
        state["d"] = next(durations)

    def sync(_):
        clock.now += state["d"]

    best = _cli_bench.time_call(fn, (), sync, min_time=7.0, clock=clock)
    assert best == 1.0


# ------------------------------------------------------------------ plot


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "figure.png"
    code, out, err = run_main("plot", "-o", str(path), "--dpi", "50")
    assert code == 0, err
    assert out.strip() == f"wrote {path}"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (500, 375)  # 10 x 7.5 inches at 50 dpi


def test_plot_figure_content():
    """Two rows (ELU, CELU) x (value, d/dx); a curve per alpha; the jump only for ELU."""
    pytest.importorskip("matplotlib")
    from celu_numba import _plot

    alphas = (0.5, 1.0, 2.0)
    fig = _plot.figure(alphas)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["ELU(x, α)", "dELU(x, α) / dx", "CELU(x, α)", "dCELU(x, α) / dx"]
    for ax in axes:
        curves = [line for line in ax.get_lines() if line.get_label().startswith("α = ")]
        assert [line.get_label() for line in curves] == ["α = 0.5", "α = 1", "α = 2"]
    for ax, name in ((axes[1], "ELU"), (axes[3], "CELU")):
        for line, alpha in zip([l for l in ax.get_lines() if l.get_label().startswith("α")], alphas):
            x, y = (np.asarray(v, dtype=float) for v in line.get_data())
            i_left = np.nanargmax(np.where(x < 0, x, -np.inf))  # last point left of 0
            x_left, left = x[i_left], y[i_left]
            right = y[np.nanargmin(np.where(x >= 0, x, np.inf))]  # the value at 0
            assert -0.05 < x_left < 0 and right == 1.0
            if name == "ELU":
                assert left == pytest.approx(alpha * np.exp(x_left), rel=1e-12)
                if alpha != 1.0:
                    assert abs(left - right) > 0.4  # the jump, from ~alpha to 1
            else:
                assert left == pytest.approx(np.exp(x_left / alpha), rel=1e-12)
                assert abs(left - right) < 0.05  # continuous
    # values: ELU(x, a) = a (e^x - 1) and CELU(x, a) = a (e^(x/a) - 1) for x < 0
    for ax, value in ((axes[0], lambda x, a: a * np.expm1(x)), (axes[2], lambda x, a: a * np.expm1(x / a))):
        line = [l for l in ax.get_lines() if l.get_label() == "α = 2"][0]
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        neg = x < 0
        np.testing.assert_allclose(y[neg], value(x[neg], 2.0), rtol=1e-12)
        np.testing.assert_array_equal(y[~neg], x[~neg])


def test_readme_figure_is_the_one_plot_makes(tmp_path):
    """docs/celu_figure.png (in the README) is what `plot -o` draws with its defaults;
    pixels may differ a little across matplotlib versions (text antialiasing), no more."""
    pytest.importorskip("matplotlib")
    import matplotlib.image

    path = tmp_path / "figure.png"
    code, _, err = run_main("plot", "-o", str(path))
    assert code == 0, err
    made = matplotlib.image.imread(str(path))
    committed = matplotlib.image.imread(os.path.join(ROOT, "docs", "celu_figure.png"))
    assert made.shape == committed.shape
    differ = np.abs(made - committed).max(axis=-1) > 0.25
    assert differ.mean() < 0.002, f"{differ.mean():.2%} of the pixels differ: rerun plot -o docs/celu_figure.png"


def test_plot_without_matplotlib_is_a_clear_error(tmp_path):
    path = tmp_path / "figure.png"
    result = run_cli("plot", "-o", str(path), hide=("matplotlib",))
    assert result.returncode == 1
    line = assert_one_line_error(result.stderr)
    assert "matplotlib" in line and "celu-numba[plot]" in line
    assert not path.exists()


def test_plot_to_a_missing_directory_is_a_clear_error(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "no" / "such" / "dir" / "figure.png"
    code, out, err = run_main("plot", "-o", str(path), "--dpi", "20")
    assert code == 1
    assert "cannot write" in assert_one_line_error(err)


def test_compile_fills_the_given_cache_and_a_second_run_loads_it(tmp_path):
    cache = tmp_path / "shared cache"
    first = run_cli("compile", "--cache-dir", str(cache), "--function", "celu", "--dtype", "float32")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [line.split(" in ")[0] for line in lines[:2]] == ["compiled drivers", "compiled celu float32"]
    assert lines[-1] == f"cached in {cache}"
    objects = sorted(re.sub(r"_[0-9a-f]{20}\.", ".", p.name.split("-")[0]) for p in cache.glob("celu_numba_*.o"))
    assert objects == ["celu_numba_loops_celu_f.contiguous_f", "celu_numba_parallel.chunk_loop",
                       "celu_numba_parallel.parallel_loop", "celu_numba_strided.buffered_loop"]
    second = run_cli("compile", "--cache-dir", str(cache), "--function", "celu", "--dtype", "float32")
    assert second.returncode == 0, second.stderr
    assert [line.split(" in ")[0] for line in second.stdout.splitlines()[:2]] == ["loaded drivers", "loaded celu float32"]
    code = "import numpy as np, celu_numba; print(celu_numba.celu(np.float32([-1, 2]), np.float32(1)))"
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=str(cache), PYTHONPATH=ROOT)
    use = subprocess.run([sys.executable, "-W", "error::celu_numba.CompileWarning", "-c", code.replace(
        "print(", "celu_numba.compile(['celu'], ['float32']); print(")], env=env, capture_output=True, text=True)
    assert use.returncode == 0 and use.stdout.strip() == "[-0.63212055  2.        ]", use.stderr


def test_compile_rejects_an_unusable_directory_and_unknown_names(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    proc = run_cli("compile", "--cache-dir", str(blocker / "cache"), "--function", "celu")
    assert proc.returncode == 1 and "cannot use the cache directory" in proc.stderr
    proc = run_cli("compile", "--function", "relu")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    with pytest.raises(ValueError, match="unknown function or dtype: float16"):
        celu_numba.compile(["celu"], ["float16"])
