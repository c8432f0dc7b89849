"""What the CPU loops share at run time: the loop records, the threads' state, the fork rule.

Every loop of every ufunc is NumPy's call of the parallel driver (``_parallel``) with a
record (``loop_info``) naming the serial driver (``_strided``) and the kernel's contiguous
loop (``_ufunc``).  ``STATE`` holds the process-wide flags the parallel driver reads.
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

#: Process-wide flags read by the driver: [threads busy, threads disabled].
STATE = np.zeros(2, dtype=np.int64)


def _disable_threads_in_child():
    # GNU OpenMP aborts a forked child that starts threads once its parent has:
    # a forked child of a process whose numba threads are up computes serially.
    if _numba_parallel._is_initialized:
        STATE[1] = 1


os.register_at_fork(after_in_child=_disable_threads_in_child)


#: The slots of the int64 record behind a loop's ``data`` pointer (see loop_info): what
#: the parallel driver and the serial one (``_strided``) need to know of the loop.
SLOT_DRIVER, SLOT_NARGS, SLOT_STATE, SLOT_NIN, SLOT_CONTIGUOUS, SLOT_COMPUTE, SLOT_KINDS = range(7)
RECORD_SIZE = SLOT_KINDS + 5  # a kind per operand: at most 5 (celu_and_grads)


def loop_info(driver, nin, nout, contiguous, compute, kinds):
    """The record of one ufunc loop: its serial driver (a NumPy inner loop), the number
    of operands, the process-wide STATE, nin, the kernel's contiguous loop, the kind of
    the dtype it computes in and the kind of each operand (``_strided.KIND``)."""
    record = np.zeros(RECORD_SIZE, dtype=np.int64)
    record[:SLOT_KINDS] = [driver.address, nin + nout, STATE.ctypes.data, nin, contiguous.address, compute]
    record[SLOT_KINDS : SLOT_KINDS + nin + nout] = kinds
    return record
