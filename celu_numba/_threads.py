"""One parallel driver for every CPU loop: splits a NumPy inner-loop call over threads.

NumPy calls ``parallel_loop`` for every loop of every ufunc; its ``data`` pointer
points to a ``LoopInfo`` record naming the serial loop to run.  Small calls (below
``PARALLEL_MIN_SIZE`` elements), calls made while another call holds the threads
(concurrent Python threads), forked children of a process that used the threads,
and ``numba.set_num_threads(1)`` run the serial loop directly in the calling thread.
Otherwise the call is cut into one contiguous chunk per numba thread (``prange``),
which uses numba's own threading layer, whichever the user chose.

The driver is compiled once (cached by numba); the math lives in the serial loops.
"""

import functools
import os

import numpy as np
from llvmlite import ir
from numba import cfunc, njit, prange, types
from numba.extending import intrinsic
from numba.np.ufunc import parallel as _numba_parallel

from ._intrinsics import address, clear_fp_exceptions, load_int64, try_lock, unlock, view

#: Calls of at least this many elements are split over numba's threads; below it the
#: wake-up of the thread pool costs more than it saves (measured: benchmarks/bench_threshold.py).
PARALLEL_MIN_SIZE = 1 << 15

LOOP_SIGNATURE = types.void(
    types.CPointer(types.voidptr),  # char **args
    types.CPointer(types.intp),  # npy_intp const *dimensions
    types.CPointer(types.intp),  # npy_intp const *steps
    types.voidptr,  # void *data
)

#: Process-wide flags read by the driver: [threads busy, threads disabled].
STATE = np.zeros(2, dtype=np.int64)


def _disable_threads_in_child():
    # GNU OpenMP aborts a forked child that starts threads once its parent has:
    # a forked child of a process whose numba threads are up computes serially.
    if _numba_parallel._is_initialized:
        STATE[1] = 1


os.register_at_fork(after_in_child=_disable_threads_in_child)


def loop_info(serial_loop, nin, nout):
    """The record behind a loop's `data` pointer: [serial loop, nargs, STATE, nin]."""
    return np.array([serial_loop.address, nin + nout, STATE.ctypes.data, nin], dtype=np.int64)


@njit(error_model="numpy", cache=True)
def _extent(start, step, n):
    """[lo, hi): the bytes n elements of at most 8 bytes from `start` by `step` touch."""
    return start + min(0, (n - 1) * step), start + max(0, (n - 1) * step) + 8


@njit(error_model="numpy", cache=True)
def _outputs_overlap(args_address, steps_address, nin, nargs, n):
    """True for a reduction (an output of stride 0) and for an output sharing memory with
    another operand other than as the very same view (in place).  NumPy passes such
    operands only when a sequential, element by element loop gives the right answer
    (out one element behind an input; reduce, accumulate), so the call must not be split."""
    args = view(args_address, nargs, types.intp)
    steps = view(steps_address, nargs, types.intp)
    for k in range(nin, nargs):
        if steps[k] == 0:
            return True
        lo_k, hi_k = _extent(args[k], steps[k], n)
        for i in range(nargs):
            if i == k or (args[i] == args[k] and steps[i] == steps[k]):
                continue
            lo_i, hi_i = _extent(args[i], steps[i], n)
            if lo_k < hi_i and lo_i < hi_k:
                return True
    return False


@intrinsic
def _call_loop(typingctx, loop, args, dims, steps, data):
    """Call the NumPy inner loop at address `loop` (all arguments are addresses)."""
    sig = types.void(loop, args, dims, steps, data)

    def codegen(context, builder, signature, values):
        bytes_ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [bytes_ptr] * 4)
        fn = builder.inttoptr(values[0], fnty.as_pointer())
        builder.call(fn, [builder.inttoptr(v, bytes_ptr) for v in values[1:]])
        return context.get_dummy_value()

    return sig, codegen


@njit(parallel=True, error_model="numpy", cache=True)
def _run_chunks(loop, args_address, steps_address, nargs, n, nchunks):
    args = view(args_address, nargs, types.intp)
    steps = view(steps_address, nargs, types.intp)
    for c in prange(nchunks):
        lo = n * c // nchunks
        hi = n * (c + 1) // nchunks
        chunk = np.empty(nargs + 1, np.intp)  # nargs pointers, then the length
        for k in range(nargs):
            chunk[k] = args[k] + lo * steps[k]
        chunk[nargs] = hi - lo
        base = chunk.ctypes.data
        _call_loop(loop, base, base + 8 * nargs, steps_address, 0)


def _parallel_loop(args, dims, steps, data):
    info = view(address(data), 4, types.int64)
    loop, nargs, state, nin = info[0], info[1], info[2], info[3]
    n = dims[0]
    nthreads = _numba_parallel._iget_num_threads()
    if (
        n >= PARALLEL_MIN_SIZE
        and nthreads > 1
        and load_int64(state + 8) == 0
        and not _outputs_overlap(address(args), address(steps), nin, nargs, n)
        and try_lock(state)
    ):
        _run_chunks(loop, address(args), address(steps), nargs, n, nthreads)
        unlock(state)
    else:
        _call_loop(loop, address(args), address(dims), address(steps), 0)
    clear_fp_exceptions()


@functools.cache
def parallel_loop():
    """The compiled driver (a NumPy inner loop); compiled on first use, then cached."""
    _numba_parallel._launch_threads()
    return cfunc(LOOP_SIGNATURE, error_model="numpy", cache=True)(_parallel_loop)
