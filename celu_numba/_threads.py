"""What the CPU loops share at run time: the loop records, the threads' state, the fork rule.

Every loop of every ufunc is NumPy's call of the driver (``_parallel``) with a record
(``loop_info``) naming the kernel's contiguous loop (``_ufunc``) and the buffered loop for
other layouts (``_strided``), each compiled when a call first needs it (``_lazy_loops``).
``STATE`` holds the process-wide flags the driver reads.
"""

import os

import numpy as np
from numba import types
from numba.np.ufunc import parallel as _numba_parallel

#: Calls of at least this many elements are split over numba's threads; below it the
#: wake-up of the thread pool costs more than it saves (measured: benchmarks/bench_threshold.py).
PARALLEL_MIN_SIZE = 1 << 15

LOOP_SIGNATURE = types.void(
    types.CPointer(types.voidptr),  # char **args
    types.CPointer(types.intp),  # npy_intp const *dimensions
    types.CPointer(types.intp),  # npy_intp const *steps
    types.voidptr,  # void *data
)

#: Elements that strided calls may run element by element through the contiguous loop
#: (about 19 ns each: 0.3 s in all, less over threads) while the buffered loop is not
#: compiled (1.5 s) nor in the cache: past them, the next call that needs it compiles
#: it.  A first call on a strided view or on scalars need not wait for it.
ELEMENTWISE_BUDGET = 1 << 24

#: Process-wide state read by the driver: [threads busy, threads disabled, elements run
#: element by element in place of the buffered loop so far].
STATE = np.zeros(3, dtype=np.int64)


def _disable_threads_in_child():
    # GNU OpenMP aborts a forked child that starts threads once its parent has:
    # a forked child of a process whose numba threads are up computes serially.
    if _numba_parallel._is_initialized:
        STATE[1] = 1


os.register_at_fork(after_in_child=_disable_threads_in_child)


#: Operand kinds in a loop record: float32, float64, and int32 read as float64.
FLOAT32, FLOAT64, INT32 = 0, 1, 2
KIND = {"f": FLOAT32, "d": FLOAT64, "i": INT32}

#: The slots of the int64 record behind a loop's ``data`` pointer (see loop_info): what
#: the driver and the buffered loop (``_strided``) need to know of the loop.  The
#: contiguous and buffered loops' slots hold 0 until ``_lazy_loops`` fills them.
(SLOT_NARGS, SLOT_STATE, SLOT_NIN, SLOT_COMPUTE, SLOT_CONTIGUOUS, SLOT_BUFFERED, SLOT_CHUNKS,
 SLOT_RESOLVE, SLOT_KINDS) = range(9)
RECORD_SIZE = SLOT_KINDS + 5  # a kind per operand: at most 5 (celu_and_grads)


def loop_info(chunks, resolve, nin, nout, compute, kinds):
    """The record of one ufunc loop: the driver's chunk loop (what each thread runs), the
    resolver that compiles what a call needs (an intp(intp, intp) C function), the
    number of operands, the process-wide STATE, nin, the kind of the dtype the kernel
    computes in and the kind of each operand (KIND)."""
    record = np.zeros(RECORD_SIZE, dtype=np.int64)
    record[SLOT_NARGS], record[SLOT_STATE], record[SLOT_NIN] = nin + nout, STATE.ctypes.data, nin
    record[SLOT_COMPUTE], record[SLOT_CHUNKS], record[SLOT_RESOLVE] = compute, chunks, resolve
    record[SLOT_KINDS : SLOT_KINDS + nin + nout] = kinds
    return record
