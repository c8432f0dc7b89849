"""The buffered loop of every CPU ufunc: any operand layout, through small blocks.

One NumPy inner loop, compiled once and shared by every kernel and loop signature, run
by the driver (``_parallel``) for the calls the kernel's contiguous loop cannot take
(strided, broadcast or negative-stride operands, operands of another dtype than the
kernel's, reductions element by element).  It reads what a loop is from its data record
(``_threads.loop_info``: the kernel's contiguous loop, the dtype it computes in, each
operand's kind), gathers blocks of ``BLOCK`` elements into buffers of the kernel's dtype
(converting the integer loop's int32 inputs), computes each block with the contiguous
loop and scatters the results (a unit-stride output of the kernel's dtype takes them
directly).

Only the contiguous loops are compiled per kernel (``_ufunc``): this code depends on no
kernel, so numba compiles it once per machine, and only when a call first needs it
(``_lazy_loops``); its object code is kept in the cache directory (``_native``).
"""

from numba import njit, types

from celu_numba._intrinsics import address, array_address, call_loop, prefetch, stack_array, view
from celu_numba._threads import (
    FLOAT32, FLOAT64, RECORD_SIZE, SLOT_COMPUTE, SLOT_CONTIGUOUS, SLOT_KINDS, SLOT_NARGS, SLOT_NIN,
)

#: Elements per block: 5 operands of float64 fit in L1.
BLOCK = 256
#: float64 elements of the blocks' buffers (5 operands at most), and intp elements of
#: the contiguous loop's call (5 addresses, the length, 5 steps).
BUFFERS, CALL = 5 * BLOCK, 11

OPTIONS = dict(error_model="numpy", fastmath=False)


@njit(**OPTIONS)
def _gather(source, step, size, source_type, buffer, buffer_type, m):
    """Elements 0..m-1 of the operand at `source` (stride `step`, itemsize `size`) into
    the unit-stride `buffer`, converted to buffer_type."""
    out = view(buffer, m, buffer_type)
    if step == size:
        block = view(source, m, source_type)
        for j in range(m):
            out[j] = block[j]
    elif step == -size:
        block = view(source + (m - 1) * step, m, source_type)
        for j in range(m):
            out[j] = block[m - 1 - j]
    elif step > 0 and step % size == 0:
        every = step // size
        block = view(source, (m - 1) * every + 1, source_type)
        for j in range(m):
            out[j] = block[j * every]
    else:
        for j in range(m):
            out[j] = view(source + j * step, 1, source_type)[0]


@njit(**OPTIONS)
def _scatter(buffer, buffer_type, target, step, size, target_type, m):
    """The m elements of the unit-stride `buffer` to the operand at `target` (stride
    `step`, itemsize `size`), converted to target_type."""
    values = view(buffer, m, buffer_type)
    if step == size:
        block = view(target, m, target_type)
        for j in range(m):
            block[j] = values[j]
    elif step == -size:
        block = view(target + (m - 1) * step, m, target_type)
        for j in range(m):
            block[m - 1 - j] = values[j]
    else:
        for j in range(m):
            view(target + j * step, 1, target_type)[0] = values[j]


def buffered_loop(args, dims, steps_ptr, data):
    record = view(address(data), RECORD_SIZE, types.int64)
    nargs, nin, n = record[SLOT_NARGS], record[SLOT_NIN], dims[0]
    addr = view(address(args), nargs, types.intp)
    steps = view(address(steps_ptr), nargs, types.intp)
    contiguous, compute = record[SLOT_CONTIGUOUS], record[SLOT_COMPUTE]
    size = 4 if compute == FLOAT32 else 8
    base = array_address(stack_array(BUFFERS, types.float64))  # float32 blocks: the first half
    # the contiguous loop's operands: addresses, the length, the steps
    call = stack_array(CALL, types.intp)
    for k in range(nargs):
        call[nargs + 1 + k] = size
    # a broadcast alpha of the kernel's dtype is passed as it is, not gathered, so that
    # the contiguous loop hoists the work on alpha alone out of its loop
    a = nin - 1
    alpha_direct = steps[a] == 0 and record[SLOT_KINDS + a] == compute
    if alpha_direct:
        call[a] = addr[a]
        call[nargs + 1 + a] = 0
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        # the next block's inputs are prefetched (a line each) before this block is
        # gathered: the computation then overlaps their loading (benchmarks/ratios.py,
        # float64 x[::2] over the contiguous call: 2.09 before, 1.72 after)
        for i in range(nin):
            if steps[i] != 0:
                for j in range(start + BLOCK, min(start + 2 * BLOCK, n), max(1, 64 // abs(steps[i]))):
                    prefetch(addr[i] + j * steps[i])
        for i in range(nin):
            if not (i == a and alpha_direct):
                kind, source, buffer = record[SLOT_KINDS + i], addr[i] + start * steps[i], base + i * BLOCK * 8
                if kind == FLOAT32:
                    _gather(source, steps[i], 4, types.float32, buffer, types.float32, m)
                elif kind == FLOAT64:
                    _gather(source, steps[i], 8, types.float64, buffer, types.float64, m)
                else:
                    _gather(source, steps[i], 4, types.int32, buffer, types.float64, m)
                call[i] = buffer
        for k in range(nin, nargs):
            kind = record[SLOT_KINDS + k]
            direct = kind == compute and steps[k] == size
            call[k] = addr[k] + start * size if direct else base + k * BLOCK * 8
        call[nargs] = m
        at = array_address(call)
        call_loop(contiguous, at, at + 8 * nargs, at + 8 * (nargs + 1), 0)
        for k in range(nin, nargs):
            kind = record[SLOT_KINDS + k]
            if not (kind == compute and steps[k] == size):
                target = addr[k] + start * steps[k]
                if kind == FLOAT32:
                    _scatter(call[k], types.float32, target, steps[k], 4, types.float32, m)
                else:
                    _scatter(call[k], types.float64, target, steps[k], 8, types.float64, m)
