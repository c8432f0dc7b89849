"""One prepared check of celu_numba.cuda on a lent GPU: tests, values, bandwidth, call cost.

Not an asv benchmark (nothing here is named time_*): a script for a session that gets
a GPU for a few minutes.  It finishes in under 5 minutes on an H100 and prints one
markdown report (also written to --out):

1. the device, the versions, ``celu_numba.cuda.status()``;
2. ``pytest tests/test_cuda_gpu.py`` (accuracy against mpmath, agreement with the CPU,
   broadcasting, strides, dtypes, numba/CuPy/PyTorch arrays, streams, PTX);
3. all six functions, float32 and float64, 2**24 and 2**28 (float32) / 2**27 (float64)
   elements, scalar alpha: time, GB/s, % of the device copy bandwidth (the same bytes
   moved by a device-to-device copy), the time of a peer (torch.nn.functional.celu,
   aten.elu_backward, a CuPy ElementwiseKernel) and the ratio to it, and a value check
   against the CPU ufuncs (max ULP distance, share of identical results);
4. the cost of one call on 1024 elements (numba, CuPy and PyTorch arrays; back to back
   and with a synchronization each), the cost of the bare kernel launch, and a host
   profile of the call;
5. the registers, occupancy and float64 instructions per element of every kernel compiled;
6. if time is left, a sweep of threads per block, elements per thread and minimum
   resident blocks per SM for all six functions (what ``_cuda_kernels.TUNING`` is
   chosen from; ``--sweep-only`` runs just this, in about 30 s).

Goals (issue "CUDA target"): >= 90% of copy bandwidth for every function at >= 2**24
elements, celu <= 1.1x torch's time, <= 40 us per call on 1024 elements.

How to run it with the device tool (an H100 image with numba 0.68.0, numba-cuda 0.30.4,
numpy 2.5.2, torch, CuPy, pytest and mpmath; numba-cuda 0.30.4 fails on numpy 2.5 with
np.row_stack, so a numpy 2.4 wheel travels with the working tree).  Here, once, from the
repository root::

    echo /.whl/ >> .git/info/exclude
    pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 -d .whl numpy==2.4.6

Then one device call with ``carry: [".whl"]``, timeout_s 300 (on 2026-11-27 it took
197-215 s, 112-128 s of them compiling the CPU ufuncs that the value checks compare with,
in parallel on 16 cores; 116-149 s with ``--no-sweep``)::

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && \
    export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 && \
    python3 benchmarks/gpu_check.py --out $OUT/gpu_check.md

``--smoke`` runs every step on tiny sizes without the tests, e.g. under the CUDA simulator
(NUMBA_ENABLE_CUDASIM=1) to check this script itself on a machine without a GPU.
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import celu_numba  # noqa: E402
from benchmarks import ptx_ceilings  # noqa: E402
from benchmarks.common import FUNCTION_NAMES as NAMES  # noqa: E402
from benchmarks.common import FUNCTIONS as ARRAYS  # noqa: E402  (array inputs, outputs) with a scalar alpha

sys.path.insert(0, os.path.join(ROOT, "tests"))
from reference import ulp_distance  # noqa: E402  (exact, in float64 too)

ALPHA = 1.0
DEADLINE_S = 270  # optional steps are skipped past this many seconds


class Report:
    """Collects the markdown report; prints each part as it comes."""

    def __init__(self):
        self.parts = []
        self.start = time.perf_counter()

    def elapsed(self):
        return time.perf_counter() - self.start

    def add(self, text=""):
        print(text, flush=True)
        self.parts.append(text)

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |")
        self.add("|" + "|".join("---" for _ in header) + "|")
        for row in rows:
            self.add("| " + " | ".join(str(cell) for cell in row) + " |")
        self.add()

    def text(self):
        return "\n".join(self.parts) + "\n"


# --- the array library and its clock


class Library:
    """Makes GPU arrays and times GPU work: PyTorch, else CuPy, else numba."""

    def __init__(self, simulated):
        self.simulated = simulated
        self.torch = self.cupy = None
        if not simulated:
            try:
                import torch

                if torch.cuda.is_available():
                    self.torch = torch
            except ImportError:
                pass
            try:
                import cupy

                cupy.cuda.runtime.getDeviceCount()
                self.cupy = cupy
            except Exception:  # noqa: BLE001 - no CuPy, or no CUDA for it
                pass
        self.name = "torch" if self.torch else "cupy" if self.cupy else "numba"

    def uniform(self, n, dtype, low, high, seed):
        if self.torch is not None:
            generator = self.torch.Generator(device="cuda").manual_seed(seed)
            t = self.torch.empty(n, dtype=getattr(self.torch, np.dtype(dtype).name), device="cuda")
            return t.uniform_(low, high, generator=generator)
        if self.cupy is not None:
            rng = self.cupy.random.default_rng(seed)
            return (rng.random(n, dtype=np.float64) * (high - low) + low).astype(dtype)
        from numba import cuda

        rng = np.random.default_rng(seed)
        return cuda.to_device(rng.uniform(low, high, n).astype(dtype))

    def empty_like(self, a):
        if self.torch is not None:
            return self.torch.empty_like(a)
        if self.cupy is not None:
            return self.cupy.empty_like(a)
        from numba import cuda

        return cuda.device_array_like(a)

    def copy(self, src, dst):
        if self.torch is not None:
            dst.copy_(src)
        elif self.cupy is not None:
            dst[...] = src
        else:
            dst.copy_to_device(src)

    def to_host(self, a):
        if self.torch is not None and isinstance(a, self.torch.Tensor):
            return a.cpu().numpy()
        if self.cupy is not None and isinstance(a, self.cupy.ndarray):
            return a.get()
        return a.copy_to_host()

    def synchronize(self):
        if self.simulated:
            return
        from numba import cuda

        cuda.synchronize()

    def measure(self, call, target_s=0.02, repeats=5):
        """Seconds per call: median over `repeats` batches, timed with CUDA events."""
        call()
        call()  # warm: compiled, allocator primed
        self.synchronize()
        start = time.perf_counter()
        call()
        self.synchronize()
        single = max(time.perf_counter() - start, 1e-6)
        count = max(3, min(1000, int(target_s / single)))
        if self.simulated:
            count, repeats = 1, 1
        times = []
        for _ in range(repeats):
            times.append(self._batch(call, count) / count)
        return float(np.median(times))

    def _batch(self, call, count):
        if self.torch is not None:
            begin, end = self.torch.cuda.Event(enable_timing=True), self.torch.cuda.Event(enable_timing=True)
            begin.record()
            for _ in range(count):
                call()
            end.record()
            end.synchronize()
            return begin.elapsed_time(end) / 1e3
        if self.cupy is not None:
            begin, end = self.cupy.cuda.Event(), self.cupy.cuda.Event()
            begin.record()
            for _ in range(count):
                call()
            end.record()
            end.synchronize()
            return self.cupy.cuda.get_elapsed_time(begin, end) / 1e3
        start = time.perf_counter()
        for _ in range(count):
            call()
        self.synchronize()
        return time.perf_counter() - start


# --- steps


def environment(report, simulated):
    import numba

    import celu_numba.cuda as gpu

    versions = [f"celu_numba {celu_numba.__version__}", f"numba {numba.__version__}", f"numpy {np.__version__}"]
    for module in ("numba_cuda", "torch", "cupy"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except Exception:  # noqa: BLE001
            versions.append(f"{module} -")
    report.add(f"# celu_numba.cuda GPU check, {datetime.datetime.now().isoformat(timespec='seconds')}")
    report.add()
    report.add(f"- device: {gpu.status()}")
    report.add(f"- versions: {', '.join(versions)}, Python {platform.python_version()}")
    report.add(f"- simulator: {simulated}")
    report.add()
    return gpu.is_available()


def warm_cpu_ufuncs(report):
    """Compile (or load) the six CPU ufuncs in parallel processes: the value checks need them."""
    start = time.perf_counter()
    code = "import sys, celu_numba._ufuncs as u; getattr(u, sys.argv[1])"
    children = [subprocess.Popen([sys.executable, "-c", code, name], cwd=ROOT) for name in NAMES]
    codes = [child.wait() for child in children]
    report.add(f"- CPU ufuncs compiled or loaded in {time.perf_counter() - start:.1f} s (exit codes {codes})")


def run_tests(report):
    import pytest

    start = time.perf_counter()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "-rs", os.path.join(ROOT, "tests", "test_cuda_gpu.py")])
    report.add()
    report.add(f"## tests/test_cuda_gpu.py: exit code {int(code)} ({'passed' if code == 0 else 'FAILED'}), "
               f"{time.perf_counter() - start:.0f} s")
    report.add()
    return int(code)


def check_values(lib, name, inputs, result, dtype):
    """(max ULP distance to the CPU ufunc, share identical) on a sample of the elements."""
    n = inputs[0].shape[0]
    rng = np.random.default_rng(0)
    sample = np.unique(np.concatenate([np.arange(min(n, 1 << 16)), rng.integers(0, n, 1 << 16)]))
    host_inputs = [lib.to_host(v)[sample] for v in inputs]
    want = getattr(celu_numba, name)(*host_inputs, ALPHA)
    results = result if isinstance(result, tuple) else (result,)
    wants = want if isinstance(want, tuple) else (want,)
    worst, identical = 0.0, 1.0
    for got, expected in zip(results, wants):
        distance = ulp_distance(lib.to_host(got)[sample], expected)
        worst = max(worst, float(distance.max()))
        identical = min(identical, float(np.mean(distance == 0)))
    return worst, identical


def peers(lib, name, inputs):
    """(label, call) of a peer computing the same thing, or None."""
    torch = lib.torch
    if torch is not None and lib.name == "torch":
        ops = torch.ops.aten
        if name == "celu":
            return "torch celu", lambda: torch.nn.functional.celu(inputs[0], ALPHA)
        if name == "celu_backward":
            return "aten.elu_backward", lambda: ops.elu_backward(inputs[0], ALPHA, 1, 1 / ALPHA, False, inputs[1])
        if name == "celu_backward_from_output":
            return "aten.elu_backward", lambda: ops.elu_backward(inputs[0], ALPHA, 1, 1 / ALPHA, True, inputs[1])
    return None


def cupy_kernel(lib):
    if lib.cupy is None:
        return None
    return lib.cupy.ElementwiseKernel(
        "T x, T alpha", "T y", "y = x >= 0 ? x : alpha * expm1(x / alpha)", "celu_elementwise"
    )


def array_inputs(name, x, g, y):
    """The array inputs of function `name` (alpha apart): x; or grad_out g and x (y = celu(x)
    for celu_backward_from_output)."""
    if ARRAYS[name][0] == 1:
        return [x]
    return [g, y if name == "celu_backward_from_output" else x]


def bandwidth(report, lib, sizes, dtypes):
    import celu_numba.cuda as gpu

    kernel = cupy_kernel(lib)
    rows = []
    problems = []
    for dtype in dtypes:
        for n in sizes[np.dtype(dtype).name]:
            itemsize = np.dtype(dtype).itemsize
            x = lib.uniform(n, dtype, -4.0, 4.0, seed=1)  # half of it on each branch
            g = lib.uniform(n, dtype, -1.0, 1.0, seed=2)
            y = gpu.celu(x, ALPHA)
            copy_to = lib.empty_like(x)
            copy_s = lib.measure(lambda: lib.copy(x, copy_to))
            copy_bw = 2 * n * itemsize / copy_s
            rows.append(["device copy", np.dtype(dtype).name, _n(n), f"{copy_s * 1e3:.3f}",
                         f"{copy_bw / 1e9:.0f}", "100%", "", ""])
            for name in NAMES:
                arrays, outputs = ARRAYS[name]
                inputs = array_inputs(name, x, g, y)
                function = getattr(gpu, name)
                seconds = lib.measure(lambda: function(*inputs, ALPHA))
                moved = (arrays + outputs) * n * itemsize
                share = moved / seconds / copy_bw
                peer = peers(lib, name, inputs)
                versus = ""
                if peer is not None:
                    label, call = peer
                    peer_s = lib.measure(call)
                    versus = f"{seconds / peer_s:.2f}x {label} ({peer_s * 1e3:.3f} ms)"
                if name == "celu" and kernel is not None:
                    cx = lib.cupy.asarray(x)
                    ek_s = lib.measure(lambda: kernel(cx, cx.dtype.type(ALPHA)))
                    versus += f"{'; ' if versus else ''}{seconds / ek_s:.2f}x CuPy kernel ({ek_s * 1e3:.3f} ms)"
                check = ""
                if n == min(sizes[np.dtype(dtype).name]):
                    worst, identical = check_values(lib, name, inputs, function(*inputs, ALPHA), dtype)
                    bound = 1 if dtype == np.float32 else 4
                    check = f"{'ok' if worst <= bound else 'FAIL'}: max {worst:g} ULP, {identical:.2%} same"
                    if worst > bound:
                        problems.append(f"{name} {np.dtype(dtype).name}: {worst} ULP from the CPU")
                if share < 0.9 and not lib.simulated:
                    problems.append(f"{name} {np.dtype(dtype).name} n={_n(n)}: {share:.0%} of copy bandwidth")
                rows.append([name, np.dtype(dtype).name, _n(n), f"{seconds * 1e3:.3f}",
                             f"{moved / seconds / 1e9:.0f}", f"{share:.0%}", versus, check])
            x = g = y = copy_to = inputs = None  # free the GPU memory before the next size
    report.add("## Bandwidth (scalar alpha; GB/s of the bytes each function must move)")
    report.add()
    report.table(["function", "dtype", "n", "time (ms)", "GB/s", "% of copy", "vs peers", "values vs CPU"], rows)
    return problems


def _n(n):
    return f"2**{int(np.log2(n))}" if n & (n - 1) == 0 else str(n)


def call_cost(report, lib):
    """Microseconds per call on 1024 elements: back to back, and with a sync after each."""
    import celu_numba.cuda as gpu
    from celu_numba import _cuda_kernels

    makers = {}
    if lib.torch is not None:
        makers["torch"] = lambda: lib.torch.linspace(-4, 4, 1024, device="cuda", dtype=lib.torch.float32)
    if lib.cupy is not None:
        makers["cupy"] = lambda: lib.cupy.linspace(-4, 4, 1024, dtype=lib.cupy.float32)

    def numba_array():
        from numba import cuda

        return cuda.to_device(np.linspace(-4, 4, 1024, dtype=np.float32))

    makers["numba"] = numba_array
    rows = []
    count = 4 if lib.simulated else 2000
    for kind, make in makers.items():
        x = make()
        calls = [("celu", gpu.celu), ("celu_and_grads", gpu.celu_and_grads),
                 ("celu_numba.celu (public)", celu_numba.celu)]
        if kind == "torch":
            calls.append(("torch.nn.functional.celu (the peer)", lib.torch.nn.functional.celu))
        for name, function in calls:
            function(x, ALPHA)
            lib.synchronize()
            start = time.perf_counter()
            for _ in range(count):
                function(x, ALPHA)
            lib.synchronize()
            pipelined = (time.perf_counter() - start) / count
            samples = []
            for _ in range(count // 4):
                start = time.perf_counter()
                function(x, ALPHA)
                lib.synchronize()
                samples.append(time.perf_counter() - start)
            rows.append([kind, name, f"{pipelined * 1e6:.1f}", f"{np.median(samples) * 1e6:.1f}"])
    # the bare launch of the same kernel, for the Python overhead around it
    captured = {}
    original = _cuda_kernels.Kernel.__call__

    def capture(self, n, args, stream=0):
        captured.update(kernel=self, n=n, args=args, stream=stream)
        return original(self, n, args, stream)

    _cuda_kernels.Kernel.__call__ = capture
    try:
        x = numba_array()
        out = gpu.celu(x, ALPHA)
        gpu.celu(x, ALPHA, out=out)
    finally:
        _cuda_kernels.Kernel.__call__ = original
    kernel, n, args, stream = captured["kernel"], captured["n"], captured["args"], captured["stream"]
    start = time.perf_counter()
    for _ in range(count):
        kernel(n, args, stream)
    lib.synchronize()
    rows.append(["numba", "celu: kernel launch only", f"{(time.perf_counter() - start) / count * 1e6:.1f}", ""])
    start = time.perf_counter()
    for _ in range(count):
        gpu.celu(x, ALPHA, out=out)
    lib.synchronize()
    rows.append(["numba", "celu(out=) (no allocation)", f"{(time.perf_counter() - start) / count * 1e6:.1f}", ""])
    report.add("## One call on 1024 float32 elements (goal <= 40 us)")
    report.add()
    report.table(["arrays", "call", "us/call back to back", "us/call with sync"], rows)
    profile_call(report, lib, makers["torch" if lib.torch is not None else "numba"](), count)


def profile_call(report, lib, x, count):
    """Where the time of celu_numba.cuda.celu(x) goes on the host (cProfile, top 12)."""
    import cProfile
    import io
    import pstats

    import celu_numba.cuda as gpu

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        gpu.celu(x, ALPHA)
    profiler.disable()
    lib.synchronize()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    lines = [line for line in text.getvalue().splitlines() if line.strip()][-14:]
    report.add(f"Host profile of {count} calls of celu_numba.cuda.celu on {type(x).__name__}:")
    report.add("```")
    for line in lines:
        report.add(line)
    report.add("```")
    report.add()


#: FP64 FMA lanes per SM (H100 and A100 are the FP64-capable parts; others: 2)
FP64_LANES = {(9, 0): 64, (8, 0): 32}


def kernels(report):
    """Registers, resident blocks and FP64 work of the kernels the benchmark compiled.

    "FP64-bound GB/s": the bandwidth at which the kernel's FP64 instructions would keep
    the FP64 units of every SM busy (at the base clock); below the copy bandwidth means
    the function cannot reach it.
    """
    from numba import cuda

    from celu_numba import _cuda_kernels

    device = cuda.get_current_device()
    cc = device.compute_capability
    peak = device.MULTIPROCESSOR_COUNT * FP64_LANES.get(cc, 2) * device.CLOCK_RATE * 1e3
    rows = []
    for key, kernel in sorted(_cuda_kernels._compiled.items(), key=lambda item: repr(item[0])):
        compiled = getattr(kernel, "_compiled", None)
        regs = getattr(compiled, "regs_per_thread", "-")
        ops, bound = "-", "-"
        if key.layout[0] == "flat" and key.layout[2] and compiled is not None:
            try:
                per_element = ptx_ceilings.per_element(compiled.inspect_asm(cc), kernel.tuning.items)["f64"]
            except Exception:  # noqa: BLE001 - a diagnostic only
                per_element = None
            if per_element:
                moved = sum(int(c[1:]) for c in key.inputs if c != "s") + sum(int(c[1:]) for c in key.outputs)
                ops = f"{per_element:.1f}"
                bound = f"{peak / per_element * moved / 1e9:.0f}"
        rows.append([key.name, ",".join(key.inputs), key.loop, ",".join(key.outputs), str(key.layout),
                     tuple(kernel.tuning), regs, kernel.max_blocks, ops, bound])
    report.add(f"## Compiled kernels (FP64 peak {peak / 1e12:.1f} T instructions/s: "
               f"{device.MULTIPROCESSOR_COUNT} SMs x {FP64_LANES.get(cc, 2)} lanes x {device.CLOCK_RATE / 1e6:.2f} GHz)")
    report.add()
    report.table(["function", "inputs", "loop", "outputs", "layout", "tuning", "registers", "resident blocks",
                  "FP64 ops/element", "FP64-bound GB/s"], rows)


def sweep(report, lib, n):
    """% of copy bandwidth of the six functions for other threads per block, elements
    per thread and minimum resident blocks per SM (launch bounds: fewer or more registers)."""
    import celu_numba.cuda as gpu
    from celu_numba import _cuda_kernels

    configs = ((256, 4, None), (256, 4, 2), (256, 4, 3), (256, 2, None), (256, 2, 2), (256, 2, 3), (128, 4, None),
               (256, 8, None), (256, 8, 2))
    rows = []
    try:
        for dtype in (np.float32, np.float64):
            forget_kernels()
            x = lib.uniform(n, dtype, -4.0, 4.0, seed=1)
            g = lib.uniform(n, dtype, -1.0, 1.0, seed=2)
            y = gpu.celu(x, ALPHA)
            copy_to = lib.empty_like(x)
            copy_bw = 2 * n * np.dtype(dtype).itemsize / lib.measure(lambda: lib.copy(x, copy_to))
            for block, items, min_blocks in configs:
                if report.elapsed() > DEADLINE_S:
                    break
                _cuda_kernels.tuning_override = _cuda_kernels.Tuning(block, items, min_blocks)
                forget_kernels()
                cells = [np.dtype(dtype).name, block, items, min_blocks or "-"]
                for name in NAMES:
                    arrays, outputs = ARRAYS[name]
                    inputs = array_inputs(name, x, g, y)
                    function = getattr(gpu, name)
                    seconds = lib.measure(lambda: function(*inputs, ALPHA))
                    kernel = next(iter(_cuda_kernels._compiled.values()))
                    regs = getattr(getattr(kernel, "_compiled", None), "regs_per_thread", "?")
                    moved = (arrays + outputs) * n * np.dtype(dtype).itemsize
                    cells.append(f"{moved / seconds / copy_bw:.0%} ({regs} regs)")
                    forget_kernels()
                rows.append(cells)
    finally:
        _cuda_kernels.tuning_override = None
        forget_kernels()
    report.add(f"## Sweep at n = {_n(n)} (% of copy bandwidth, registers per thread)")
    report.add()
    report.table(["dtype", "threads/block", "elements/thread", "min blocks/SM", *NAMES], rows)


def forget_kernels():
    """Drop the compiled kernels and the call plans that hold them (the next call compiles)."""
    import celu_numba.cuda as gpu
    from celu_numba import _cuda_kernels

    _cuda_kernels._compiled.clear()
    gpu._plans.clear()


def step(report, problems, label, function, *args):
    """Run one step; an exception is reported (with its traceback) and the check goes on."""
    try:
        return function(*args)
    except Exception:  # noqa: BLE001 - one failing step must not lose the others' results
        import traceback

        report.add(f"## {label}: FAILED")
        report.add("```")
        report.add(traceback.format_exc().rstrip())
        report.add("```")
        problems.append(f"{label} raised")
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="also write the markdown report here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no tests (checks this script)")
    parser.add_argument("--no-tests", action="store_true", help="skip pytest tests/test_cuda_gpu.py")
    parser.add_argument("--no-sweep", action="store_true", help="skip the block/items sweep")
    parser.add_argument("--sweep-only", action="store_true", help="only the sweep (no tests, no CPU values)")
    parser.add_argument("--sweep-size", type=int, default=1 << 26, help="elements of the sweep's arrays")
    args = parser.parse_args(argv)
    simulated = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    report = Report()
    problems = []
    try:
        if not environment(report, simulated):
            report.add("celu_numba.cuda is not available here: nothing to check.")
            return 2
        if args.sweep_only:
            step(report, problems, "sweep", sweep, report, Library(simulated), args.sweep_size)
            return 1 if problems else 0
        if not args.smoke:
            step(report, problems, "CPU ufuncs", warm_cpu_ufuncs, report)
        if not (args.smoke or args.no_tests):
            if step(report, problems, "tests", run_tests, report) != 0:
                problems.append("tests/test_cuda_gpu.py failed")
        lib = Library(simulated)
        report.add(f"- arrays for the benchmark: {lib.name}")
        report.add()
        if args.smoke:
            sizes = {"float32": [1 << 10], "float64": [1 << 9]}
        else:
            sizes = {"float32": [1 << 24, 1 << 28], "float64": [1 << 24, 1 << 27]}
        problems += step(report, problems, "bandwidth", bandwidth, report, lib, sizes, (np.float32, np.float64)) or []
        step(report, problems, "call cost", call_cost, report, lib)
        if not simulated:
            step(report, problems, "kernels", kernels, report)
        if not (args.smoke or args.no_sweep) and report.elapsed() < DEADLINE_S - 60:
            step(report, problems, "sweep", sweep, report, lib, args.sweep_size)
        report.add(f"## Summary: {'all goals and checks met' if not problems else '; '.join(problems)}")
        report.add(f"(total {report.elapsed():.0f} s)")
        return 1 if problems else 0
    finally:
        if args.out:
            with open(args.out, "w") as f:
                f.write(report.text())


if __name__ == "__main__":
    sys.exit(main())
