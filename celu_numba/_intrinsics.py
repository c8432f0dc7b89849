"""LLVM-level helpers for the CPU inner loops: raw memory, stack scratch, calls through
addresses (loops, the threading layer, the resolver), an atomic lock, FP flags.

Each is a numba ``@intrinsic``: a few LLVM instructions that numba has no Python
spelling for.  Used only by the drivers and the loops that ``_ufunc`` generates.
"""

import platform

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

@intrinsic
def address(typingctx, ptr):
    """The integer address held by a pointer."""
    sig = types.intp(ptr)

    def codegen(context, builder, signature, args):
        return builder.ptrtoint(args[0], context.get_value_type(types.intp))

    return sig, codegen


@intrinsic
def view(typingctx, address, count, dtype):
    """A 1-d C-contiguous array of `count` elements of `dtype` at `address`."""
    elem = dtype.dtype
    arrty = types.Array(elem, 1, "C")
    sig = arrty(address, count, dtype)

    def codegen(context, builder, signature, args):
        address, count, _ = args
        data = builder.inttoptr(address, context.get_value_type(types.CPointer(elem)))
        return _array_value(context, builder, arrty, data, count)

    return sig, codegen


def _array_value(context, builder, arrty, data, count):
    """The value of the 1-d C-contiguous array of type `arrty` with `count` elements at the
    pointer `data` (no owner: numba frees nothing)."""
    elem = context.get_data_type(arrty.dtype)
    ary = context.make_array(arrty)(context, builder)
    itemsize = context.get_constant(types.intp, context.get_abi_sizeof(elem))
    context.populate_array(
        ary,
        data=data,
        shape=cgutils.pack_array(builder, [count]),
        strides=cgutils.pack_array(builder, [itemsize]),
        itemsize=itemsize,
        meminfo=None,
    )
    return ary._getvalue()


@intrinsic
def call_loop(typingctx, loop, args, dims, steps, data):
    """Call the NumPy inner loop at address `loop` (every argument is an address)."""
    sig = types.void(loop, args, dims, steps, data)

    def codegen(context, builder, signature, values):
        bytes_ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [bytes_ptr] * 4)
        fn = builder.inttoptr(values[0], fnty.as_pointer())
        builder.call(fn, [builder.inttoptr(v, bytes_ptr) for v in values[1:]])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def try_lock(typingctx, address):
    """Atomically set the int64 at `address` from 0 to 1; True if this call did."""
    sig = types.boolean(address)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        ptr = builder.inttoptr(args[0], i64.as_pointer())
        pair = builder.cmpxchg(ptr, i64(0), i64(1), "acquire", "monotonic")
        return builder.extract_value(pair, 1)

    return sig, codegen


@intrinsic
def unlock(typingctx, address):
    sig = types.void(address)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        ptr = builder.inttoptr(args[0], i64.as_pointer())
        builder.store_atomic(i64(0), ptr, "release", 8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def load_int64(typingctx, address):
    sig = types.int64(address)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        return builder.load_atomic(builder.inttoptr(args[0], i64.as_pointer()), "monotonic", 8)

    return sig, codegen


@intrinsic
def prefetch(typingctx, address):
    """Ask the CPU to bring the cache line at `address` in (a hint: never faults)."""
    sig = types.void(address)

    def codegen(context, builder, signature, args):
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read, high temporal locality, data cache
        builder.call(fn, [builder.inttoptr(args[0], i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


@intrinsic
def clear_fp_exceptions(typingctx):
    """Clear the SSE exception flags, so NumPy reports no spurious RuntimeWarning.

    The kernels compute both branches of every select, so flags raised by the
    discarded branch (overflow of x / alpha for x >= 0, inf * 0, comparisons with NaN)
    say nothing about the result.  Only x86 has the flags in MXCSR; elsewhere a no-op.
    """
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _X86:
            i32 = ir.IntType(32)
            slot = cgutils.alloca_once(builder, i32)
            ptr = builder.bitcast(slot, ir.IntType(8).as_pointer())
            fnty = ir.FunctionType(ir.VoidType(), [ptr.type])
            store = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.stmxcsr")
            load = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.ldmxcsr")
            builder.call(store, [ptr])
            builder.store(builder.and_(builder.load(slot), i32(~0x3F)), slot)
            builder.call(load, [ptr])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefer_wide_vectors(typingctx):
    """Let LLVM vectorize the calling function with the widest registers (AVX-512).

    LLVM's tuning for recent Intel cores caps vectors at 256 bits by default; the
    kernels are compute-bound there, and 512-bit vectors ran them ~30% faster
    (benchmarks/ratios.py).  A no-op on CPUs without wider registers.  llvmlite knows
    no string-valued function attributes, so the attribute is added as raw text.
    """
    sig = types.void()

    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def stack_array(typingctx, count, dtype):
    """A 1-d array of `count` (a constant) elements of `dtype` on the calling function's
    stack: scratch memory without an allocation (valid until the function returns)."""
    if not isinstance(count, types.IntegerLiteral):
        return None
    elem = dtype.dtype
    arrty = types.Array(elem, 1, "C")
    sig = arrty(count, dtype)

    def codegen(context, builder, signature, args):
        n = count.literal_value
        slot = cgutils.alloca_once(builder, context.get_data_type(elem), size=n)
        return _array_value(context, builder, arrty, slot, context.get_constant(types.intp, n))

    return sig, codegen


@intrinsic
def array_address(typingctx, array):
    """The address of an array's first element (``.ctypes.data`` without the object)."""
    sig = types.intp(array)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.ptrtoint(data, context.get_value_type(types.intp))

    return sig, codegen


@intrinsic
def parallel_for(typingctx, loop, args, dims, steps, data, count, nthreads):
    """Run the NumPy inner loop at `loop` over dims[0] (the outer length) on `nthreads` of
    numba's threads, through the threading layer's own entry point (what numba's prange
    calls): each thread calls it on a sub-range, its `count` operands advanced by their
    steps.  Every argument is an address or an integer."""
    sig = types.void(loop, args, dims, steps, data, count, nthreads)

    def codegen(context, builder, signature, values):
        bytes_ptr, intp = ir.IntType(8).as_pointer(), context.get_value_type(types.intp)
        fnty = ir.FunctionType(ir.VoidType(), [bytes_ptr] * 5 + [intp] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_parallel_for")
        pointers = [builder.inttoptr(v, bytes_ptr) for v in values[:5]]
        builder.call(fn, pointers + [intp(0), values[5], values[6]])  # no inner dimensions
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def call_resolver(typingctx, resolver, record, buffered):
    """Call the C function at `resolver`, intp(intp, intp), with `record` and `buffered`."""
    sig = types.intp(resolver, record, buffered)

    def codegen(context, builder, signature, values):
        intp = context.get_value_type(types.intp)
        fn = builder.inttoptr(values[0], ir.FunctionType(intp, [intp, intp]).as_pointer())
        return builder.call(fn, [values[1], values[2]])

    return sig, codegen


@intrinsic
def set_python_error(typingctx, exception):
    """Make the Python exception object at address `exception` (kept alive by its owner)
    the calling thread's pending error, taking the GIL for it: NumPy raises it when the
    inner loop returns."""
    sig = types.void(exception)

    def codegen(context, builder, signature, args):
        pyapi = context.get_python_api(builder)
        state = pyapi.gil_ensure()
        value = builder.inttoptr(args[0], pyapi.pyobj)
        pyapi.err_set_object(pyapi.get_type(value), value)
        pyapi.gil_release(state)
        return context.get_dummy_value()

    return sig, codegen
