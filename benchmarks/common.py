"""Shared definitions of the benchmark suite: parameters, data builders, references, timing.

Every benchmark module and ``benchmarks/ratios.py`` take their data, their reference
loops and their peers from here, so that one name (``celu``, ``copy``, ``numpy``,
``strided``...) means the same computation in the asv dashboard and in the ratio table.

Nothing here compiles or starts threads at import time: numba's threads must not be
up before asv forks (a forked child of a process whose numba threads are running
computes serially, see ``celu_numba._threads``), and asv imports every module of the
suite just to discover it.
"""

import time

import numba
import numpy as np
from numba import njit, prange

import celu_numba

#: The public functions, each with (array inputs before alpha, outputs).
FUNCTIONS = {
    "celu": (1, 1),
    "celu_grad": (1, 1),
    "celu_grad_alpha": (1, 1),
    "celu_backward": (2, 1),
    "celu_backward_from_output": (2, 1),
    "celu_and_grads": (1, 3),
}
FUNCTION_NAMES = tuple(FUNCTIONS)
DTYPES = ("float32", "float64")
#: Sizes of the per-function benchmarks: call overhead, in cache, memory-bound.
SIZES = (1_000, 100_000, 10_000_000)
#: The largest size, used where only the memory-bound regime is of interest.
LARGE = 10_000_000
#: Scalar alpha of every benchmark (not 1, so nothing can special-case it).
ALPHA = 1.5
#: Channels of the per-channel alpha layout: x has shape (CHANNELS, n // CHANNELS).
CHANNELS = 100
#: Memory layouts of the input (see ``layout_case``).
LAYOUTS = ("contiguous", "strided", "reversed", "alpha_array", "alpha_per_channel")
#: Seconds before asv gives up on one benchmark; covers a cold compile of the
#: ufunc (~20 s) in ``setup`` when the on-disk cache does not match.
TIMEOUT = 300


def function(name):
    """The public celu_numba object called ``name``."""
    return getattr(celu_numba, name)


# --- data


def random_x(n, dtype, seed=0):
    """``n`` values of ``dtype``, normal with sd 3: half negative, z = x / ALPHA in ~[-10, 10]."""
    rng = np.random.default_rng(seed)
    return (3.0 * rng.standard_normal(n)).astype(dtype)


def numpy_celu(x, alpha, out=None):
    """The NumPy expression of CELU: max(x, 0) + min(0, a * expm1(x / a)) (4 temporaries)."""
    return np.add(np.maximum(x, 0), np.minimum(0, alpha * np.expm1(x / alpha)), out=out)


def make_inputs(name, n, dtype, seed=0):
    """The array inputs (before alpha) of function ``name``: (x,) or (grad_out, x or y)."""
    x = random_x(n, dtype, seed)
    nin, _ = FUNCTIONS[name]
    if nin == 1:
        return (x,)
    grad_out = random_x(n, dtype, seed + 1)
    if name == "celu_backward_from_output":
        return (grad_out, numpy_celu(x, ALPHA).astype(dtype))  # y = celu(x)
    return (grad_out, x)


def make_outputs(name, shape, dtype):
    """Preallocated outputs of function ``name``, pages already touched."""
    _, nout = FUNCTIONS[name]
    return tuple(np.zeros(shape, dtype) for _ in range(nout))


def call(name, inputs, alpha=ALPHA, out=None):
    """``name(*inputs, alpha, out=out)`` through the public object; out=None allocates."""
    if out is None:
        return function(name)(*inputs, alpha)
    return function(name)(*inputs, alpha, out=out)


def layout_case(layout, n, dtype, seed=0):
    """(x, alpha, out) of celu for one memory layout, ``n`` elements each.

    contiguous         x contiguous, scalar alpha
    strided            x = base[::2] of a 2n array (stride of two elements)
    reversed           x = base[::-1] (negative stride)
    alpha_array        alpha an array of x's shape, uniform in [0.5, 3]
    alpha_per_channel  x of shape (CHANNELS, n // CHANNELS), alpha of shape (CHANNELS, 1)
    The output is always contiguous.
    """
    rng = np.random.default_rng(seed + 7)
    alpha = ALPHA
    if layout == "contiguous":
        x = random_x(n, dtype, seed)
    elif layout == "strided":
        x = random_x(2 * n, dtype, seed)[::2]
    elif layout == "reversed":
        x = random_x(n, dtype, seed)[::-1]
    elif layout == "alpha_array":
        x = random_x(n, dtype, seed)
        alpha = rng.uniform(0.5, 3.0, n).astype(dtype)
    elif layout == "alpha_per_channel":
        if n % CHANNELS:
            raise ValueError(f"n={n} is not a multiple of {CHANNELS} channels")
        x = random_x(n, dtype, seed).reshape(CHANNELS, n // CHANNELS)
        alpha = rng.uniform(0.5, 3.0, (CHANNELS, 1)).astype(dtype)
    else:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    return x, alpha, np.zeros(x.shape, dtype)


# --- memory-limit references: the least work that moves the same bytes
#
# Parallel numba loops over numba's threads (as many as the celu calls use).  They are
# compiled on first call (and cached on disk); call each once before timing it.


@njit(parallel=True, cache=True)
def copy(x, out):
    """Read one array, write one: the memory traffic of celu(x, a, out=out)."""
    for i in prange(x.size):
        out[i] = x[i]


@njit(parallel=True, cache=True)
def negate(x, out):
    """copy's traffic with ordinary stores and next to no arithmetic (LLVM turns copy's
    loop into memcpy calls): what any computed result costs over the copy."""
    for i in prange(x.size):
        out[i] = -x[i]


@njit(parallel=True, cache=True)
def read2_write1(a, b, out):
    """Read two arrays, write one: the traffic of celu_backward(g, x, a, out=out)."""
    for i in prange(a.size):
        out[i] = a[i] + b[i]


@njit(parallel=True, cache=True)
def read1_write3(x, out0, out1, out2):
    """Read one array, write three: the traffic of celu_and_grads(x, a, out=(...))."""
    for i in prange(x.size):
        v = x[i]
        out0[i] = v
        out1[i] = v
        out2[i] = v


def numpy_expm1(x, out):
    """One NumPy ufunc call of the same size: the reference for call overhead."""
    np.expm1(x, out=out)


#: The reference loops, by name.
REFERENCES = ("copy", "negate", "read2_write1", "read1_write3", "numpy_expm1")


def reference_case(kind, n, dtype, seed=0):
    """(callable, args) of a reference loop on fresh data of ``n`` elements."""
    x = random_x(n, dtype, seed)
    if kind == "copy":
        return copy, (x, np.zeros_like(x))
    if kind == "negate":
        return negate, (x, np.zeros_like(x))
    if kind == "read2_write1":
        return read2_write1, (random_x(n, dtype, seed + 1), x, np.zeros_like(x))
    if kind == "read1_write3":
        return read1_write3, (x, np.zeros_like(x), np.zeros_like(x), np.zeros_like(x))
    if kind == "numpy_expm1":
        return numpy_expm1, (x, np.zeros_like(x))
    raise ValueError(f"unknown reference {kind!r}; expected one of {REFERENCES}")

#: The reference whose traffic matches each function's (reads, writes).
TRAFFIC_REFERENCE = {
    "celu": "copy",
    "celu_grad": "copy",
    "celu_grad_alpha": "copy",
    "celu_backward": "read2_write1",
    "celu_backward_from_output": "read2_write1",
    "celu_and_grads": "read1_write3",
}


# --- peers

PEERS = ("celu_numba", "numpy", "torch", "jax")


def peer_case(peer, n, dtype, seed=0):
    """A zero-argument callable computing celu(x, ALPHA) into a preallocated output.

    Raises NotImplementedError when the peer is not installed (asv's way to skip).
    ``celu_numba``: the public object with out=; ``numpy``: ``numpy_celu``;
    ``torch``: ``torch.ops.aten.elu.out(x, a, 1, 1/a, out=y)`` (CELU as torch computes
    it), on torch's CPU threads set to numba's count; ``jax``: jitted ``jax.nn.celu``
    (it allocates its result; there is no out=).
    """
    x = random_x(n, dtype, seed)
    y = np.zeros_like(x)
    if peer == "celu_numba":
        f = celu_numba.celu
        return lambda: f(x, ALPHA, out=y)
    if peer == "numpy":
        return lambda: numpy_celu(x, ALPHA, out=y)
    if peer == "torch":
        torch = import_optional("torch")
        torch.set_num_threads(numba.get_num_threads())
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        elu_out = torch.ops.aten.elu.out
        return lambda: elu_out(xt, ALPHA, 1, 1.0 / ALPHA, out=yt)
    if peer == "jax":
        jax = import_optional("jax")
        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        xj = jax.device_put(x)
        f = jax.jit(lambda v: jax.nn.celu(v, ALPHA))
        return lambda: f(xj).block_until_ready()
    raise ValueError(f"unknown peer {peer!r}; expected one of {PEERS}")


#: The bare exponentials of the peers (see ``exponential_case``).
EXPONENTIALS = ("torch_exp", "torch_expm1", "numpy_expm1")


def exponential_case(name, n, dtype, seed=0):
    """(callable, (x, out)) of a peer's bare exponential, ``callable(x, out)`` writing
    exp(x) or expm1(x) into out on numba's thread count: the arithmetic at the core of
    celu (expm1) and celu_grad (exp) with no division, no select and no alpha, as the
    peers vectorize it.  Raises NotImplementedError when torch is not installed.

    ``torch_exp`` / ``torch_expm1``: ``torch.exp(x, out=y)`` / ``torch.expm1(x, out=y)``
    on torch's CPU threads set to numba's count; ``numpy_expm1``: ``np.expm1`` (one
    thread per call) on as many equal slices as numba has threads, each from a thread of
    a pool (NumPy releases the GIL in its loops).
    """
    x = random_x(n, dtype, seed)
    threads = numba.get_num_threads()
    if name in ("torch_exp", "torch_expm1"):
        torch = import_optional("torch")
        torch.set_num_threads(threads)
        f = torch.exp if name == "torch_exp" else torch.expm1

        def torch_call(x, out):
            f(torch.from_numpy(x), out=torch.from_numpy(out))

        return torch_call, (x, np.zeros_like(x))
    if name == "numpy_expm1":
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(threads)

        def numpy_call(x, out):
            bounds = np.linspace(0, x.size, threads + 1).astype(int)
            slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
            list(pool.map(lambda s: np.expm1(x[s], out=out[s]), slices))

        return numpy_call, (x, np.zeros_like(x))
    raise ValueError(f"unknown exponential {name!r}; expected one of {EXPONENTIALS}")


def import_optional(module):
    """Import an optional peer, or raise NotImplementedError (asv skips the benchmark)."""
    import importlib

    try:
        return importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install
        raise NotImplementedError(f"{module} not importable: {exc}") from exc


# --- CUDA


def cuda_or_skip():
    """``celu_numba.cuda`` when it reports a usable GPU, else NotImplementedError."""
    try:
        from celu_numba import cuda
    except Exception as exc:
        raise NotImplementedError(f"celu_numba.cuda not importable: {exc}") from exc
    available = getattr(cuda, "is_available", None)
    try:
        if callable(available):
            usable = available()
        else:
            from numba import cuda as numba_cuda

            usable = numba_cuda.is_available()
    except Exception as exc:
        raise NotImplementedError(f"no usable GPU: {exc}") from exc
    if not usable:
        raise NotImplementedError("no usable GPU")
    return cuda


# --- threads


def set_threads(count):
    """numba.set_num_threads(count), with 'all' meaning numba's maximum; returns the old count."""
    old = numba.get_num_threads()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS if count == "all" else int(count))
    return old


def check_parallel_enabled():
    """Raise if celu_numba's driver runs serially in this process (a forked child of a
    process whose numba threads were up): the timings would not be those of users."""
    state = getattr(getattr(celu_numba, "_threads", None), "STATE", None)
    if state is not None and state[1] != 0:
        raise RuntimeError("celu_numba computes serially in this forked process; use spawn")


# --- timing (ratios.py; asv does its own)


def best_time(fn, *args, repeat=10, min_sample=0.01, **kwargs):
    """Best-of-``repeat`` seconds per call of ``fn(*args, **kwargs)``, by time.perf_counter.

    One warm-up call first (compilation, page faults, thread start-up: never timed).
    Fast calls are timed in batches of calls lasting >= ``min_sample`` s.
    """
    return best_times([(fn, args, kwargs)], repeat, min_sample)[0]


def best_times(calls, repeat=10, min_sample=0.01):
    """``best_time`` of several ``(fn, args, kwargs)`` calls, their runs interleaved
    (one sample of each per round) so that a change in the machine's load during the
    measurement affects all of them alike: the way to time a call and its reference."""
    numbers = []
    for fn, args, kwargs in calls:
        fn(*args, **kwargs)  # warm-up
        number = 1
        while True:
            elapsed = _sample(fn, args, kwargs, number)
            if elapsed >= min_sample or number >= 1 << 20:
                break
            number *= max(2, min(10, int(min_sample / max(elapsed, 1e-9)) + 1))
        numbers.append(number)
    best = [float("inf")] * len(calls)
    for _ in range(repeat):
        for i, ((fn, args, kwargs), number) in enumerate(zip(calls, numbers)):
            best[i] = min(best[i], _sample(fn, args, kwargs, number) / number)
    return best


def _sample(fn, args, kwargs, number):
    start = time.perf_counter()
    for _ in range(number):
        fn(*args, **kwargs)
    return time.perf_counter() - start


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (or platform.processor())."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"
