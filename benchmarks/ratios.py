"""Print the speed ratios that the CPU speed goals name, measured on this machine.

    python benchmarks/ratios.py [--size N] [--repeat R] [--quick]

Same definitions as the asv suite (benchmarks/common.py): contiguous data of --size
elements (default 10M), scalar alpha, preallocated out=, float32 and float64; each
time is the best of --repeat runs (time.perf_counter, one untimed warm-up call first),
the runs of a call and of its reference interleaved.

  function / memory-limit reference   celu, celu_grad, celu_grad_alpha over a prange copy
                                      (read 1, write 1); celu_backward[_from_output] over a
                                      read-2-write-1 loop; celu_and_grads over read-1-write-3
  celu / peers                        torch.ops.aten.elu.out(x, a, 1, 1/a, out=y) (if torch is
                                      importable), the NumPy expression common.numpy_celu
  call overhead                       celu on 1000 elements over one np.expm1(x, out=y)
  layouts                             alpha array, per-channel alpha (C, 1), x[::2] of a 2N
                                      array, x[::-1], each over the contiguous scalar-alpha call

A second table, the compute floor, times each function on data that stays in cache
(CACHE_BYTES_PER_THREAD of operands per thread, on all threads), scales that time to
--size elements and divides it by the memory reference at --size: the ratio the call
would reach if moving its bytes cost nothing.  Where that floor is over the goal, the
goal is out of reach for this arithmetic on this machine, whatever the memory traffic.
A third table times the 1000-element case through the raw ``celu.ufunc`` (no public
object) and through ``np.add(x, alpha, out=y)`` (the same kind of call with no
arithmetic) over the same np.expm1 call, and a fourth the copy reference itself against a
loop with its traffic and ordinary stores (``common.negate``; the copy loop compiles to
memcpy calls): what a loop that computes anything pays over the copy before arithmetic.
A fifth times the peers' bare exp and expm1 (``common.exponential_case``: torch's, and
NumPy's on numba's thread count) over the same copy reference, against the same goal:
what the vectorized arithmetic at the core of celu (expm1) and celu_grad (exp) costs
elsewhere, with no division, no select and no alpha.
"""

import argparse
import datetime
import gc
import os
import sys

if __package__ in (None, ""):  # run as a script: import the suite as the package it is
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import common
else:
    from . import common

import numba
import numpy as np

import celu_numba

#: (goal, what the goal means): the time ratio must be <= goal.
GOAL_MEMORY_1R1W = 1.3
GOAL_MEMORY_FUSED = 1.5
#: celu over torch: float32 (computed in float32 arithmetic) and float64
GOAL_TORCH = {"float32": 0.45, "float64": 0.7}
#: float32 celu over float64 celu: the float32 call moves half the bytes
GOAL_FLOAT32_OVER_FLOAT64 = 0.6
GOAL_NUMPY = 0.15
GOAL_OVERHEAD = 1.5
GOAL_LAYOUT = 2.0
OVERHEAD_SIZE = 1000
#: Operand bytes per thread of the compute-floor runs: well inside a core's L2 cache.
CACHE_BYTES_PER_THREAD = 1 << 20


def _memory_goal(kind):
    """The goal of a function over its memory-limit reference (see TRAFFIC_REFERENCE)."""
    return GOAL_MEMORY_1R1W if kind == "copy" else GOAL_MEMORY_FUSED


def _row(case, dtype, times, goal, note=None):
    """A row of ``table``: (call time, reference time) of one case and its goal."""
    return dict(case=case, dtype=dtype, time=times[0], ref=times[1], goal=goal, note=note)


def _overhead_times(call, dtype, repeat):
    """Best times of ``call(x, ALPHA, out=y)`` and of ``np.expm1(x, out=y)``, x and y of
    OVERHEAD_SIZE elements of ``dtype``: the call-overhead case."""
    x = common.random_x(OVERHEAD_SIZE, dtype)
    y = np.zeros_like(x)
    return common.best_times([(call, (x, common.ALPHA), {"out": y}), (np.expm1, (x,), {"out": y})], repeat)


def _fmt_time(seconds):
    if seconds != seconds:
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def measure(size, repeat, dtypes=common.DTYPES):
    """Rows (case, dtype, time, reference time, ratio, goal) for every goal.

    Each call is timed together with its reference (``common.best_times``: interleaved
    runs, best of ``repeat`` each), so both see the same state of the machine.
    """
    rows = []
    a = common.ALPHA
    celu = celu_numba.celu

    def pair(call, reference):
        return common.best_times([call, reference], repeat)

    def row(case, dtype, times, goal, note=None):
        rows.append(_row(case, dtype, times, goal, note))

    for dtype in dtypes:
        # each function over the memory-limit reference of the same traffic
        for name in common.FUNCTION_NAMES:
            kind = common.TRAFFIC_REFERENCE[name]
            ref_fn, ref_args = common.reference_case(kind, size, dtype)
            inputs = common.make_inputs(name, size, dtype)
            out = common.make_outputs(name, size, dtype)
            times = pair((common.function(name), (*inputs, a), {"out": out}), (ref_fn, ref_args, {}))
            row(f"{name} / {kind}", dtype, times, _memory_goal(kind))
            ref_args = inputs = out = None
            gc.collect()

        # celu over its peers
        x = common.random_x(size, dtype)
        y = np.zeros_like(x)
        celu_call = (celu, (x, a), {"out": y})
        try:
            torch_call = common.peer_case("torch", size, dtype)
        except NotImplementedError:
            nan = float("nan")
            row("celu / torch aten.elu.out", dtype, (nan, nan), GOAL_TORCH[dtype], "n/a (torch not installed)")
        else:
            row("celu / torch aten.elu.out", dtype, pair(celu_call, (torch_call, (), {})), GOAL_TORCH[dtype])
            torch_call = None
        numpy_call = common.peer_case("numpy", size, dtype)
        row("celu / numpy expression", dtype, pair(celu_call, (numpy_call, (), {})), GOAL_NUMPY)
        x = y = celu_call = numpy_call = None
        gc.collect()

        # call overhead: 1000 elements through the public object vs one NumPy ufunc call
        times = _overhead_times(celu, dtype, repeat)
        row(f"celu n={OVERHEAD_SIZE} / np.expm1 n={OVERHEAD_SIZE}", dtype, times, GOAL_OVERHEAD)

        # each layout over the contiguous scalar-alpha call
        x0, alpha0, out0 = common.layout_case("contiguous", size, dtype)
        for layout in common.LAYOUTS[1:]:
            x, alpha, out = common.layout_case(layout, size, dtype)
            times = pair((celu, (x, alpha), {"out": out}), (celu, (x0, alpha0), {"out": out0}))
            row(f"celu {layout} / contiguous", dtype, times, GOAL_LAYOUT)
            x = alpha = out = None
            gc.collect()
        x0 = alpha0 = out0 = None

    # float32 celu over float64 celu, on the same values
    if set(dtypes) == {"float32", "float64"}:
        calls = []
        for dtype in ("float32", "float64"):
            x = common.random_x(size, dtype)
            calls.append((celu, (x, a), {"out": np.zeros_like(x)}))
        row("celu float32 / celu float64", "float32", pair(*calls), GOAL_FLOAT32_OVER_FLOAT64)
        calls = x = None
        gc.collect()
    return rows


def compute_floor(size, repeat, dtypes=common.DTYPES):
    """Rows (case, dtype, n, time, reference time, goal): each function on ``n`` elements
    that stay in cache, on all of numba's threads, its time scaled to ``size`` elements,
    timed together with the memory reference of ``measure`` at ``size``."""
    rows = []
    threads = numba.get_num_threads()
    for dtype in dtypes:
        for name in common.FUNCTION_NAMES:
            nin, nout = common.FUNCTIONS[name]
            n = threads * CACHE_BYTES_PER_THREAD // ((nin + nout) * np.dtype(dtype).itemsize)
            kind = common.TRAFFIC_REFERENCE[name]
            ref_fn, ref_args = common.reference_case(kind, size, dtype)
            inputs = common.make_inputs(name, n, dtype)
            out = common.make_outputs(name, n, dtype)
            call = (common.function(name), (*inputs, common.ALPHA), {"out": out})
            in_cache, ref = common.best_times([call, (ref_fn, ref_args, {})], repeat)
            rows.append(
                dict(case=f"{name} / {kind}", dtype=dtype, n=n, time=in_cache * size / n, ref=ref, goal=_memory_goal(kind))
            )
            ref_args = inputs = out = call = None
            gc.collect()
    return rows


def ufunc_overhead(repeat, dtypes=common.DTYPES):
    """Rows of ``table``: the call-overhead case through the raw ``celu.ufunc`` (no
    public object: no alpha default, no argument check) over the same np.expm1 call, and
    through ``np.add`` (NumPy's own ufunc of the same two inputs, x and a Python float,
    with no arithmetic to speak of): what any such call costs, over that np.expm1 call."""
    rows = []
    for dtype in dtypes:
        for label, call in (("celu.ufunc", celu_numba.celu.ufunc), ("np.add", np.add)):
            times = _overhead_times(call, dtype, repeat)
            rows.append(_row(f"{label} n={OVERHEAD_SIZE} / np.expm1 n={OVERHEAD_SIZE}", dtype, times, GOAL_OVERHEAD))
    return rows


def store_reference(size, repeat, dtypes=common.DTYPES):
    """Rows of ``table``: ``common.negate`` over ``common.copy`` at ``size`` elements."""
    rows = []
    for dtype in dtypes:
        calls = [(*common.reference_case(kind, size, dtype), {}) for kind in ("negate", "copy")]
        times = common.best_times(calls, repeat)
        rows.append(_row("negate / copy", dtype, times, GOAL_MEMORY_1R1W))
        calls = None
        gc.collect()
    return rows


def exponential_peers(size, repeat, dtypes=common.DTYPES):
    """Rows of ``table``: each of ``common.EXPONENTIALS`` over the copy reference at
    ``size`` elements (a row says n/a where torch is not installed)."""
    rows = []
    for dtype in dtypes:
        for name in common.EXPONENTIALS:
            try:
                fn, args = common.exponential_case(name, size, dtype)
            except NotImplementedError:
                nan = float("nan")
                rows.append(_row(f"{name} / copy", dtype, (nan, nan), GOAL_MEMORY_1R1W, "n/a (torch not installed)"))
                continue
            ref_fn, ref_args = common.reference_case("copy", size, dtype)
            times = common.best_times([(fn, args, {}), (ref_fn, ref_args, {})], repeat)
            rows.append(_row(f"{name} / copy", dtype, times, GOAL_MEMORY_1R1W))
            args = ref_args = None
            gc.collect()
    return rows


def floor_table(rows):
    lines = [
        "| case | dtype | in-cache elements | in-cache time x size / elements | reference time | floor ratio | goal | floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q = r["time"] / r["ref"]
        verdict = "under the goal" if q <= r["goal"] else "OVER the goal"
        lines.append(
            f"| {r['case']} | {r['dtype']} | {r['n']:,} | {_fmt_time(r['time'])} | {_fmt_time(r['ref'])} "
            f"| {q:.3f} | <= {r['goal']} | {verdict} |"
        )
    return "\n".join(lines)


def table(rows):
    lines = [
        "| case | dtype | time | reference time | ratio | goal | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["note"]:
            ratio, result = r["note"], "n/a"
        else:
            q = r["time"] / r["ref"]
            ratio, result = f"{q:.3f}", ("PASS" if q <= r["goal"] else "MISS")
        lines.append(
            f"| {r['case']} | {r['dtype']} | {_fmt_time(r['time'])} | {_fmt_time(r['ref'])} "
            f"| {ratio} | <= {r['goal']} | {result} |"
        )
    return "\n".join(lines)


def machine():
    try:
        import torch

        torch_version = torch.__version__
    except Exception:
        torch_version = "not installed"
    return (
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}\n"
        f"- CPU: {common.cpu_model()}; {os.cpu_count()} logical cores; "
        f"numba threads: {numba.get_num_threads()} (threading layer {numba.threading_layer()})\n"
        f"- celu_numba {celu_numba.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
        f"torch {torch_version}, Python {sys.version.split()[0]}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=None, help="elements per array (default 10M; 1M with --quick)")
    parser.add_argument("--repeat", type=int, default=None, help="best of this many runs (default 20; 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smaller and fewer runs: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    size = args.size or (1_000_000 if args.quick else common.LARGE)
    repeat = args.repeat or (3 if args.quick else 20)
    if size % common.CHANNELS:
        parser.error(f"--size must be a multiple of {common.CHANNELS} (the per-channel layout)")
    common.check_parallel_enabled()
    rows = measure(size, repeat)
    print(f"# celu_numba speed ratios: {size:,} elements, best of {repeat}\n")
    print(machine() + "\n")
    print(table(rows))
    measured = [r for r in rows if not r["note"]]
    passed = sum(1 for r in measured if r["time"] / r["ref"] <= r["goal"])
    print(f"\n{passed} of {len(measured)} measured ratios at or under their goal")
    floor = compute_floor(size, repeat)
    print(f"\n## Compute floor: each call on data in cache ({CACHE_BYTES_PER_THREAD >> 20} MiB of operands per thread), "
          f"scaled to {size:,} elements, over the memory reference\n")
    print(floor_table(floor))
    raw = ufunc_overhead(repeat)
    print("\n## Call overhead without the public object (the raw ufunc), and of np.add(x, alpha)\n")
    print(table(raw))
    stores = store_reference(size, repeat)
    print("\n## The copy reference against the same traffic with ordinary stores (out = -x)\n")
    print(table(stores))
    peers = exponential_peers(size, repeat)
    print("\n## The peers' bare exp and expm1 over the same copy reference (no division, no select, no alpha)\n")
    print(table(peers))
    return rows, floor, raw, stores, peers


if __name__ == "__main__":
    main()
