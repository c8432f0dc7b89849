"""Throughput of the six functions against the NumPy expression (and torch, jax, CuPy).

Used by ``python -m celu_numba bench`` (the table) and by the main job (one line).
Throughput is millions of elements per second, from the best of repeated calls
after one warm-up call; the peers compute the same formulas, written as a user
would (``maximum(x, 0) + a * expm1(minimum(x, 0) / a)``, one shared ``exp`` for the
gradients), except where the peer has CELU built in (``torch.nn.functional.celu``,
``jax.nn.celu``).
"""

import importlib
import time
from dataclasses import dataclass, field

import numba
import numpy as np

import celu_numba

from ._cli_progress import Progress
from ._ufuncs import KERNELS

FUNCTIONS = tuple(KERNELS)
DTYPES = ("float32", "float64")
TARGETS = ("cpu", "serial", "cuda")
ALPHA = 1.5
#: Each measurement repeats the call for at least this long (seconds).
MIN_TIME = 0.2


class BenchError(Exception):
    """A benchmark that cannot run as asked (e.g. no CUDA); its message is for the user."""


# --- the formulas, for any array library


def expressions(xp, minimum0, maximum0):
    """The six functions written with ``xp`` (numpy, cupy, torch, jax.numpy).

    ``minimum0(x)`` / ``maximum0(x)`` are min(x, 0) / max(x, 0) in that library.
    Each callable takes (x, g, y, alpha) and returns what the function returns.
    """

    def celu(x, g, y, a):
        return maximum0(x) + a * xp.expm1(minimum0(x) / a)

    def celu_grad(x, g, y, a):
        return xp.exp(minimum0(x) / a)

    def celu_grad_alpha(x, g, y, a):
        z = minimum0(x) / a
        return xp.exp(z) * (1 - z) - 1

    def celu_backward(x, g, y, a):
        return g * xp.exp(minimum0(x) / a)

    def celu_backward_from_output(x, g, y, a):
        return g * (minimum0(y) / a + 1)

    def celu_and_grads(x, g, y, a):
        z = minimum0(x) / a
        e = xp.exp(z)
        return maximum0(x) + a * xp.expm1(z), e, e * (1 - z) - 1

    return {
        "celu": celu,
        "celu_grad": celu_grad,
        "celu_grad_alpha": celu_grad_alpha,
        "celu_backward": celu_backward,
        "celu_backward_from_output": celu_backward_from_output,
        "celu_and_grads": celu_and_grads,
    }


def _numpy_expressions():
    exprs = expressions(np, lambda x: np.minimum(x, 0), lambda x: np.maximum(x, 0))

    def quiet(fn):
        def call(*args):
            with np.errstate(all="ignore"):
                return fn(*args)

        return call

    return {name: quiet(fn) for name, fn in exprs.items()}


def _celu_numba_calls():
    def make(name):
        fn = getattr(celu_numba, name)
        if name == "celu_backward":
            return lambda x, g, y, a: fn(g, x, a)
        if name == "celu_backward_from_output":
            return lambda x, g, y, a: fn(g, y, a)
        return lambda x, g, y, a: fn(x, a)

    return {name: make(name) for name in FUNCTIONS}


# --- implementations: how to build inputs and call each library


def _same(array):
    return array


def _nothing(*args):
    return None


@dataclass
class Implementation:
    """One column of the table: a library, how it gets its inputs, how to wait for it.

    ``calls[name](x, g, y, alpha)`` computes function ``name``; ``to_device`` moves a
    NumPy input where the library computes; ``sync(result)`` waits for the result;
    ``setup`` / ``teardown`` bracket the measurements (thread counts).
    """

    name: str
    calls: dict
    to_device: object = _same
    sync: object = _nothing
    note: str = ""
    setup: object = _nothing
    teardown: object = _nothing


def _optional(module):
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a broken install is as good as none
        return None


def _torch(target):
    torch = _optional("torch")
    if torch is None:
        return None
    if target == "cuda" and not torch.cuda.is_available():
        return None
    device = "cuda" if target == "cuda" else "cpu"
    exprs = expressions(torch, lambda x: torch.clamp(x, max=0), lambda x: torch.clamp(x, min=0))
    exprs["celu"] = lambda x, g, y, a: torch.nn.functional.celu(x, a)
    saved = {}

    def setup():
        saved["threads"] = torch.get_num_threads()
        if target == "serial":
            torch.set_num_threads(1)

    def teardown():
        torch.set_num_threads(saved["threads"])

    def sync(result):
        if device == "cuda":
            torch.cuda.synchronize()

    def call(fn):
        def run(*args):
            with torch.no_grad():
                return fn(*args)

        return run

    return Implementation(
        "torch",
        {name: call(fn) for name, fn in exprs.items()},
        to_device=lambda array: torch.from_numpy(array).to(device),
        sync=sync,
        setup=setup,
        teardown=teardown,
    )


def _jax(target):
    jax = _optional("jax")
    if jax is None:
        return None
    jnp = jax.numpy
    jax.config.update("jax_enable_x64", True)  # else float64 inputs become float32
    try:
        device = jax.devices("gpu" if target == "cuda" else "cpu")[0]
    except Exception:  # noqa: BLE001 - no such backend
        return None
    exprs = expressions(jnp, lambda x: jnp.minimum(x, 0), lambda x: jnp.maximum(x, 0))
    exprs["celu"] = lambda x, g, y, a: jax.nn.celu(x, a)
    note = "jax: all threads (XLA's thread count is fixed at start)" if target == "serial" else ""
    return Implementation(
        "jax",
        {name: jax.jit(fn) for name, fn in exprs.items()},
        to_device=lambda array: jax.device_put(array, device),
        sync=lambda result: jax.block_until_ready(result),
        note=note,
    )


def _cupy(target):
    if target != "cuda":
        return None
    cupy = _optional("cupy")
    if cupy is None:
        return None
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001
        return None
    exprs = expressions(cupy, lambda x: cupy.minimum(x, 0), lambda x: cupy.maximum(x, 0))
    return Implementation(
        "cupy",
        exprs,
        to_device=cupy.asarray,
        sync=lambda result: cupy.cuda.Device().synchronize(),
    )


def _celu_numba(target):
    calls = _celu_numba_calls()
    if target != "cuda":
        saved = {}

        def setup():
            saved["threads"] = numba.get_num_threads()
            numba.set_num_threads(1 if target == "serial" else numba.config.NUMBA_NUM_THREADS)

        def teardown():
            numba.set_num_threads(saved["threads"])

        return Implementation("celu_numba", calls, setup=setup, teardown=teardown)

    from numba import cuda

    return Implementation(
        "celu_numba",
        calls,
        to_device=cuda.to_device,
        sync=lambda result: cuda.synchronize(),
    )


def check_target(target):
    """Raise BenchError unless ``target`` can run here."""
    if target not in TARGETS:
        raise BenchError(f"unknown target {target!r} (choose from {', '.join(TARGETS)})")
    if target == "cuda":
        from ._cli_env import cuda_status

        usable, text = cuda_status()
        if not usable:
            raise BenchError(f"--target cuda: CUDA is not usable here: {text}")


def implementations(target, peers=True):
    """The columns: celu_numba, the NumPy expression (always on the CPU), installed peers."""
    check_target(target)
    numpy_note = "numpy: on the CPU, as the baseline" if target == "cuda" else ""
    impls = [_celu_numba(target), Implementation("numpy", _numpy_expressions(), note=numpy_note)]
    if peers:
        impls += [impl for impl in (_torch(target), _jax(target), _cupy(target)) if impl is not None]
    return impls


# --- measuring


def inputs(size, dtype, seed=0):
    """(x, g, y): x uniform in [-4, 4] (half on each branch), g normal, y = celu(x, ALPHA)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4.0, 4.0, size).astype(dtype)
    g = rng.standard_normal(size).astype(dtype)
    y = celu_numba.celu(x, ALPHA)
    return x, g, y


def time_call(fn, args, sync, min_time=MIN_TIME, clock=time.perf_counter):
    """Best seconds per call of ``fn(*args)`` (then ``sync(result)``), after one warm-up."""
    sync(fn(*args))
    best = float("inf")
    spent = 0.0
    calls = 0
    while spent < min_time or calls < 3:
        start = clock()
        sync(fn(*args))
        elapsed = clock() - start
        best = min(best, elapsed)
        spent += elapsed
        calls += 1
    return best


@dataclass
class Table:
    """Throughput (million elements per second) per (function, dtype) and column."""

    size: int
    target: str
    columns: list
    rows: list = field(default_factory=list)  # (function, dtype, {column: Melem/s or None})
    notes: list = field(default_factory=list)


def run(functions=FUNCTIONS, dtypes=DTYPES, size=1_000_000, target="cpu", peers=True,
        min_time=MIN_TIME, progress=None):
    """Measure every (function, dtype, implementation) and return a Table."""
    impls = implementations(target, peers)
    table = Table(size, target, [impl.name for impl in impls])
    table.notes = [impl.note for impl in impls if impl.note]
    total = len(functions) * len(dtypes) * len(impls)
    bar = progress if progress is not None else Progress(total)
    with bar:
        data = {dtype: inputs(size, dtype) for dtype in dtypes}
        results = {}
        for impl in impls:
            impl.setup()
            try:
                for dtype in dtypes:
                    moved = tuple(impl.to_device(array) for array in data[dtype])
                    for name in functions:
                        fn = impl.calls.get(name)
                        if fn is None:
                            results[name, dtype, impl.name] = None
                        else:
                            args = (*moved, ALPHA)
                            seconds = time_call(fn, args, impl.sync, min_time)
                            results[name, dtype, impl.name] = size / seconds / 1e6
                        bar.advance(f"{impl.name} {name} {dtype}")
            finally:
                impl.teardown()
    for name in functions:
        for dtype in dtypes:
            table.rows.append((name, dtype, {c: results[name, dtype, c] for c in table.columns}))
    return table


def thread_description(target):
    if target == "serial":
        return "1 thread"
    if target == "cuda":
        return "GPU"
    return f"{numba.config.NUMBA_NUM_THREADS} threads"


def format_table(table):
    """The table as text, with the speed-up of celu_numba over the NumPy expression."""
    head = (
        f"throughput, million elements per second (higher is better); {table.size:,} elements, "
        f"alpha={ALPHA}, target {table.target} ({thread_description(table.target)})"
    )
    name_w = max(len("function"), *(len(r[0]) for r in table.rows))
    col_w = max(10, *(len(c) for c in table.columns))
    header = f"{'function':<{name_w}}  {'dtype':<7}  " + "  ".join(
        f"{c:>{col_w}}" for c in table.columns
    ) + f"  {'vs numpy':>8}"
    lines = [head, header, "-" * len(header)]
    for name, dtype, cells in table.rows:
        text = "  ".join(
            f"{'-':>{col_w}}" if cells[c] is None else f"{cells[c]:>{col_w}.1f}" for c in table.columns
        )
        ours, numpy_ = cells.get("celu_numba"), cells.get("numpy")
        ratio = f"{ours / numpy_:>7.1f}x" if ours and numpy_ else f"{'-':>8}"
        lines.append(f"{name:<{name_w}}  {dtype:<7}  {text}  {ratio}")
    lines += [f"note: {note}" for note in table.notes]
    return "\n".join(lines)


def summary_line(size=1_000_000, dtype="float64", min_time=0.1):
    """One line: celu on ``size`` elements, celu_numba vs the NumPy expression."""
    table = run(("celu",), (dtype,), size, "cpu", peers=False, min_time=min_time)
    _, _, cells = table.rows[0]
    ours, numpy_ = cells["celu_numba"], cells["numpy"]
    return (
        f"throughput: celu on {size:,} {dtype}: celu_numba {ours:,.0f} M/s "
        f"({thread_description('cpu')}), NumPy expression {numpy_:,.0f} M/s, {ours / numpy_:.1f}x"
    )
