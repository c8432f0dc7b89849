"""The parallel driver of every CPU ufunc loop: splits a NumPy inner-loop call over threads.

NumPy calls ``parallel_loop`` for every loop of every ufunc; its ``data`` pointer points
to the loop's record (``_threads.loop_info``), which names the serial driver to run.  Small
calls (below ``PARALLEL_MIN_SIZE`` elements), calls made while another call holds the
threads (concurrent Python threads), forked children of a process that used the threads,
and ``numba.set_num_threads(1)`` run the serial driver directly in the calling thread.
Otherwise the call is cut into one contiguous chunk per numba thread (``prange``), which
uses numba's own threading layer, whichever the user chose.

Compiled from a copy of this file in the cache directory (``_cache.load_copy``), where
numba caches it; the package module itself is only read.
"""

import numpy as np
from numba import njit, prange, types
from numba.np.ufunc import parallel as _numba_parallel

from celu_numba._intrinsics import (
    address, call_loop, clear_fp_exceptions, keep_alive, load_int64, try_lock, unlock, view,
)
from celu_numba._threads import PARALLEL_MIN_SIZE, RECORD_SIZE, SLOT_DRIVER, SLOT_NARGS, SLOT_NIN, SLOT_STATE

#: numba caches the copy's compiled code (beside it, in the cache directory), not this file's
OPTIONS = dict(error_model="numpy", fastmath=False, cache=not __name__.startswith("celu_numba."))


@njit(**OPTIONS)
def _extent(start, step, n):
    """[lo, hi): the bytes n elements of at most 8 bytes from `start` by `step` touch."""
    return start + min(0, (n - 1) * step), start + max(0, (n - 1) * step) + 8


@njit(**OPTIONS)
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


@njit(parallel=True, **OPTIONS)
def _run_chunks(loop, args_address, steps_address, data, nargs, n, nchunks):
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
        call_loop(loop, base, base + 8 * nargs, steps_address, data)
        keep_alive(chunk)  # reached through `base` until here


def parallel_loop(args, dims, steps, data):
    info = view(address(data), RECORD_SIZE, types.int64)
    loop, nargs, state, nin = info[SLOT_DRIVER], info[SLOT_NARGS], info[SLOT_STATE], info[SLOT_NIN]
    n = dims[0]
    nthreads = _numba_parallel._iget_num_threads()
    if (
        n >= PARALLEL_MIN_SIZE
        and nthreads > 1
        and load_int64(state + 8) == 0
        and not _outputs_overlap(address(args), address(steps), nin, nargs, n)
        and try_lock(state)
    ):
        _run_chunks(loop, address(args), address(steps), address(data), nargs, n, nthreads)
        unlock(state)
    else:
        call_loop(loop, address(args), address(dims), address(steps), address(data))
    clear_fp_exceptions()
