"""The driver of every CPU ufunc loop: what NumPy calls, for every loop of every ufunc.

NumPy calls ``parallel_loop`` with a ``data`` pointer to the loop's record
(``_threads.loop_info``).  The driver

* picks the loop for the operands' layout: the kernel's contiguous loop when every operand
  allows it (of the kernel's dtype; unit-stride, alpha unit-stride or a broadcast scalar,
  or a single element): nearly every call; otherwise the buffered loop (``_strided``, any
  layout); element by element for reductions and accumulations (each element reads the
  result before it), and for strided calls of the kernel's dtype while the buffered loop
  is not compiled (``ELEMENTWISE_BUDGET``): each element through the contiguous loop when
  every operand is of the kernel's dtype, else through the buffered loop;
* has that loop compiled first when the record has none yet (``_lazy_loops``: a call into
  Python, once per loop and process; an error there is raised by NumPy as itself);
* splits calls of ``PARALLEL_MIN_SIZE`` elements and more into one contiguous chunk per
  numba thread, through the threading layer's own entry point (the one numba's prange
  uses, on whichever layer the user chose).  Small calls, calls made while another holds
  the threads (concurrent Python threads), forked children of a process that used the
  threads and ``numba.set_num_threads(1)`` run in the calling thread.

Compiled once per machine, its object code kept in the cache directory (``_native``).
"""

from numba import njit, types
from numba.np.ufunc import parallel as _numba_parallel

from celu_numba._intrinsics import (
    address, array_address, call_loop, call_resolver, clear_fp_exceptions, load_int64,
    parallel_for, set_python_error, stack_array, try_lock, unlock, view,
)
from celu_numba._threads import (
    ELEMENTWISE_BUDGET, FLOAT32, PARALLEL_MIN_SIZE, RECORD_SIZE, SLOT_BUFFERED, SLOT_CHUNKS, SLOT_COMPUTE,
    SLOT_CONTIGUOUS, SLOT_KINDS, SLOT_NARGS, SLOT_NIN, SLOT_RESOLVE, SLOT_STATE,
)

OPTIONS = dict(error_model="numpy", fastmath=False)

#: The loops a call can take (see the module docstring): the contiguous loop, the buffered
#: loop, element by element through the buffered or the contiguous loop, and (from
#: _layout only) operands that need the buffered loop or EACH_CONTIGUOUS.
CONTIGUOUS, BUFFERED, ELEMENTWISE, EACH_CONTIGUOUS, STRIDED = range(5)
#: The job a parallel call hands its threads: the call's operands, steps and data, its
#: loop, its length and its number of chunks.
JOB_ARGS, JOB_STEPS, JOB_DATA, JOB_LOOP, JOB_N, JOB_CHUNKS = range(6)


@njit(**OPTIONS)
def _layout(record, args, steps, n):
    """The loop the operands need: CONTIGUOUS, BUFFERED, ELEMENTWISE or, for operands of
    the kernel's dtype, EACH_CONTIGUOUS (reductions, accumulations) or STRIDED."""
    nargs, nin, compute = record[SLOT_NARGS], record[SLOT_NIN], record[SLOT_COMPUTE]
    size = 4 if compute == FLOAT32 else 8
    kernel_dtype, unit = True, True
    for k in range(nargs):
        kernel_dtype = kernel_dtype and record[SLOT_KINDS + k] == compute
        unit = unit and (n == 1 or steps[k] == size or (k == nin - 1 and steps[k] == 0))
    # reduce (output stride 0) and accumulate (output one step ahead of input 0)
    if n > 1 and (steps[nin] == 0 or (steps[0] != 0 and args[nin] == args[0] + steps[0])):
        return EACH_CONTIGUOUS if kernel_dtype else ELEMENTWISE
    if not kernel_dtype:
        return BUFFERED
    return CONTIGUOUS if unit else STRIDED


@njit(**OPTIONS)
def _run(record, loop, args_address, n, steps_address, data):
    """The `loop` over `n` elements of the operands at `args_address`, in this thread."""
    dims = stack_array(1, types.intp)
    dims[0] = n
    if loop == CONTIGUOUS:
        call_loop(record[SLOT_CONTIGUOUS], args_address, array_address(dims), steps_address, data)
    elif loop == BUFFERED:
        call_loop(record[SLOT_BUFFERED], args_address, array_address(dims), steps_address, data)
    else:
        nargs = record[SLOT_NARGS]
        args = view(args_address, nargs, types.intp)
        steps = view(steps_address, nargs, types.intp)
        element = stack_array(5, types.intp)
        dims[0] = 1
        each = record[SLOT_CONTIGUOUS] if loop == EACH_CONTIGUOUS else record[SLOT_BUFFERED]
        for j in range(n):
            for k in range(nargs):
                element[k] = args[k] + j * steps[k]
            call_loop(each, array_address(element), array_address(dims), steps_address, data)


@njit(**OPTIONS)
def _outputs_overlap(args, steps, nin, nargs, n):
    """True for a reduction (an output of stride 0) and for an output sharing memory with
    another operand other than as the very same view (in place).  NumPy passes such
    operands only when a sequential, element by element loop gives the right answer
    (out one element behind an input; reduce, accumulate), so the call must not be split."""
    for k in range(nin, nargs):
        if steps[k] == 0:
            return True
        # [lo, hi): the bytes n elements of at most 8 bytes from args[k] by steps[k] touch
        lo_k = args[k] + min(0, (n - 1) * steps[k])
        hi_k = args[k] + max(0, (n - 1) * steps[k]) + 8
        for i in range(nargs):
            if i == k or (args[i] == args[k] and steps[i] == steps[k]):
                continue
            lo_i = args[i] + min(0, (n - 1) * steps[i])
            hi_i = args[i] + max(0, (n - 1) * steps[i]) + 8
            if lo_k < hi_i and lo_i < hi_k:
                return True
    return False


def chunk_loop(offsets, dims, steps, job_address):
    """What each thread runs: chunks c .. c + dims[0] - 1 of the job, where the threading
    layer hands a thread its first chunk c as the offset offsets[0] = 8 c."""
    job = view(address(job_address), 6, types.intp)
    record = view(job[JOB_DATA], RECORD_SIZE, types.int64)
    nargs, n, nchunks = record[SLOT_NARGS], job[JOB_N], job[JOB_CHUNKS]
    args = view(job[JOB_ARGS], nargs, types.intp)
    arg_steps = view(job[JOB_STEPS], nargs, types.intp)
    chunk = stack_array(5, types.intp)
    first = address(offsets[0]) // 8
    for c in range(first, first + dims[0]):
        lo, hi = n * c // nchunks, n * (c + 1) // nchunks
        for k in range(nargs):
            chunk[k] = args[k] + lo * arg_steps[k]
        _run(record, job[JOB_LOOP], array_address(chunk), hi - lo, job[JOB_STEPS], job[JOB_DATA])


def parallel_loop(args_ptr, dims, steps_ptr, data):
    record = view(address(data), RECORD_SIZE, types.int64)
    n, nargs, nin, state = dims[0], record[SLOT_NARGS], record[SLOT_NIN], record[SLOT_STATE]
    args = view(address(args_ptr), nargs, types.intp)
    steps = view(address(steps_ptr), nargs, types.intp)
    loop = _layout(record, args, steps, n)
    if loop == STRIDED:
        loop = BUFFERED
        elementwise = view(state + 16, 1, types.int64)  # STATE[2]
        if record[SLOT_BUFFERED] == 0 and elementwise[0] + n <= ELEMENTWISE_BUDGET:
            elementwise[0] += n
            loop = EACH_CONTIGUOUS
    buffered = loop == BUFFERED or loop == ELEMENTWISE
    if record[SLOT_CONTIGUOUS] == 0 or (buffered and record[SLOT_BUFFERED] == 0):
        error = call_resolver(record[SLOT_RESOLVE], address(data), 1 if buffered else 0)
        if error != 0:
            set_python_error(error)
            return
    nthreads = _numba_parallel._iget_num_threads()
    if (
        n >= PARALLEL_MIN_SIZE
        and nthreads > 1
        and load_int64(state + 8) == 0
        and not _outputs_overlap(args, steps, nin, nargs, n)
        and try_lock(state)
    ):
        job = stack_array(6, types.intp)
        job[JOB_ARGS], job[JOB_STEPS], job[JOB_DATA] = address(args_ptr), address(steps_ptr), address(data)
        job[JOB_LOOP], job[JOB_N], job[JOB_CHUNKS] = loop, n, nthreads
        # one operand, the chunk offsets: from address 0 by 8 bytes; dims: the chunks
        offsets, offset_step, chunks = stack_array(1, types.intp), stack_array(1, types.intp), stack_array(1, types.intp)
        offsets[0], offset_step[0], chunks[0] = 0, 8, nthreads
        parallel_for(record[SLOT_CHUNKS], array_address(offsets), array_address(chunks),
                     array_address(offset_step), array_address(job), 1, nthreads)
        unlock(state)
    else:
        _run(record, loop, address(args_ptr), n, address(steps_ptr), address(data))
    clear_fp_exceptions()
