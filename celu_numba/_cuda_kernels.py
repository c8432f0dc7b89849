"""The CUDA kernels: generated per (function, dtypes, operand layout), compiled by numba-cuda.

Every kernel calls the scalar kernel of ``_math`` (the same Python function the CPU
loops compile) once per element, like the CPU loops: its float32 version for float32
loops (float32 arithmetic), else the float64 kernel, the result then converted to the
output dtype.  Only the memory access around that call is generated here:

* ``flat`` kernels: every array operand is contiguous in the output's element order
  (mode ``a``), a single element broadcast everywhere (mode ``o``), or a scalar passed
  as a float64 kernel argument (mode ``s``, e.g. ``alpha=1.5``).  Each thread handles
  a few elements per tile (``TUNING``), all loads issued before any computation
  (memory-level parallelism), with vector loads/stores of up to 16 bytes when the
  pointers are aligned; a grid-stride loop over tiles with one wave of resident blocks.
* ``strided`` kernels: any broadcasting or strides, on a flat index decomposed into
  ``ndim`` coordinates (the host merges dimensions first, so ndim is usually 1-3).

Operands are raw pointers (``CPointer``), not numba arrays, so a launch is a few
integers: no array typing or descriptor building per call, and ``DriverLaunch`` hands
them to the driver in one ``cuLaunchKernel`` call.  Under the CUDA simulator
the same source runs as Python with each "pointer" a NumPy view of the (host) memory.

Why _math needs registering again for CUDA: its functions are registered with numba's
core ``register_jitable`` (with ``forceinline``, LLVM inlining on the CPU), whose
registrations, once used by a CPU compile, are picked up by numba-cuda's typing too and
fail there; registering the same functions with ``numba.cuda.extending.register_jitable``
(NVVM inlines them) gives CUDA overloads.  They are
registered on new function objects made from the same code objects (see
``register_math_for_cuda``), so a CPU compile earlier in the process cannot interfere.
Nothing of the math is copied.

One difference from the CPU remains: NVVM contracts ``a * b + c`` into an FMA (numba-cuda
offers no way to pass it ``-fma=0``), which the CPU loops never do, so a result can
differ from the CPU's in its last bits (more accurate if anything, and within the
accuracy goals; tests/test_cuda_gpu.py measures it).
"""

import ctypes
import os
import struct
import threading
import types as pytypes
from collections import namedtuple

from . import _math
from ._cache import cache_dir, load_module
from ._ufuncs import KERNELS


class Tuning(namedtuple("Tuning", "block items min_blocks")):
    """How a kernel is launched: threads per block, elements per thread per tile, and
    the resident blocks per SM the compiler must allow (launch bounds, which cap the
    registers; None: no minimum)."""


#: Tuning of the flat kernels by loop dtype code, and the functions that do better with
#: another, chosen by the sweep of benchmarks/gpu_check.py on an H100 (2026-11-27, 2**26
#: elements, % of the device copy bandwidth; two runs, 14:49 and 15:05 UTC, the second
#: after float32 celu_grad_alpha lost its series): float32 (256, 4, 3): celu 90-92 (83
#: with (256, 8, None)), celu_grad 91-92, celu_backward 91-93, celu_backward_from_output
#: 91, celu_and_grads 84-87, no setting better than 87; float32 celu_grad_alpha (256, 8,
#: 2): 91 (81 with (256, 4, 3)); float64 (256, 2, 2): celu 92-93, celu_grad 90,
#: celu_grad_alpha 90-91, celu_backward 94-95, celu_backward_from_output 94-95,
#: celu_and_grads 91 (at (256, 4, 2), the setting before: 92 / 89 / 87-88 / 95-96 / 95 / 84).
TUNING = {"f4": Tuning(256, 4, 3), "f8": Tuning(256, 2, 2)}
FUNCTION_TUNING = {("celu_grad_alpha", "f4"): Tuning(256, 8, 2)}
#: Strided kernels: one element per thread per step.
STRIDED_TUNING = Tuning(256, 1, None)
#: Replaces every tuning while not None (for benchmarks/gpu_check.py's sweep).
tuning_override = None
#: Widest vector load/store (sm_90: 16 bytes), and the most elements per vector.
VECTOR_BYTES = 16
VECTOR_ELEMENTS = 4
#: Under the simulator every thread is a Python thread: small blocks, and a grid
#: capped at a few blocks so that tests run the grid-stride loop too.
SIMULATOR_BLOCK_THREADS = 32
SIMULATOR_MAX_BLOCKS = 3

#: numba type names of the element types a kernel reads or writes, by dtype code
#: (kind + itemsize).  bool is read as its byte.
ELEMENT_TYPES = {
    "b1": "uint8",
    "i1": "int8",
    "u1": "uint8",
    "i2": "int16",
    "u2": "uint16",
    "i4": "int32",
    "u4": "uint32",
    "i8": "int64",
    "u8": "uint64",
    "f2": "float16",
    "f4": "float32",
    "f8": "float64",
}

#: The NumPy type of each float dtype code, for the casts of results.
_FLOAT_CASTS = {"f2": "np.float16", "f4": "np.float32", "f8": "np.float64"}


class KernelKey(namedtuple("KernelKey", "name inputs loop outputs layout")):
    """What a compiled kernel is specialized on.

    name    -- the function of ``_math`` ("celu", ...)
    inputs  -- per input: a dtype code ("f4", "i8", "b1", ...) or "s" for a scalar
    loop    -- the loop's float dtype code, "f4" or "f8" (results are rounded to it)
    outputs -- per output: a float dtype code (results go loop -> output dtype)
    layout  -- ("flat", modes, vector): modes per input "a" (array), "o" (one
               element), "s" (scalar); vector: 16-byte loads/stores
               ("strided", ndim): any strides, ndim coordinates
    """


def dtype_code(dtype):
    """"f4", "i8", "b1", ... for a NumPy dtype (native byte order assumed)."""
    return f"{dtype.kind}{dtype.itemsize}"


def flat_tuning(name, loop):
    """The Tuning of the flat kernels of function `name` with this loop dtype code."""
    return tuning_override or FUNCTION_TUNING.get((name, loop)) or TUNING[loop]


def tuning(key):
    """The Tuning of the kernel for `key` (threads per block: fewer under the simulator)."""
    chosen = flat_tuning(key.name, key.loop) if key.layout[0] == "flat" else STRIDED_TUNING
    return chosen._replace(block=SIMULATOR_BLOCK_THREADS, min_blocks=None) if simulator() else chosen


def vector_width(code, items):
    """Elements per vector load of an operand of this dtype code (items per thread)."""
    return min(items, VECTOR_BYTES // int(code[1:]), VECTOR_ELEMENTS)


def alignment(code, name, loop):
    """Bytes an operand's address must be a multiple of for a flat kernel's vector access."""
    return vector_width(code, flat_tuning(name, loop).items) * int(code[1:])


# --- source generation


def math_name(key):
    """The function of _math a kernel calls: its float32 version for float32 loops (as
    the CPU loops do), else the float64 kernel."""
    return _math.float32_name(key.name) if key.loop == "f4" else key.name


def _operand(key):
    """The cast that makes an operand the scalar kernel's argument type."""
    return "np.float32" if key.loop == "f4" else "np.float64"


def _cast(expr, loop, out):
    """expr (the kernel's result) rounded to the loop dtype, then converted to the
    output dtype."""
    expr = f"{_FLOAT_CASTS[loop]}({expr})" if loop != "f8" else expr
    return f"{_FLOAT_CASTS[out]}({expr})" if out != loop else expr


def _call(nin, nout, args, suffix):
    """`r0_j, r1_j = scalar_kernel(...)` for one element."""
    results = ", ".join(f"r{o}_{suffix}" for o in range(nout))
    return f"{results} = scalar_kernel({', '.join(args)})"


def _flat_source(key, block, items):
    nin, nout, _ = KERNELS[key.name]
    _, modes, vector = key.layout
    ins = [f"x{k}" for k in range(nin)]
    outs = [f"out{o}" for o in range(nout)]
    lane_stride, item_stride = (items, 1) if vector else (1, block)
    lines = [
        f"def kernel(n, {', '.join(ins + outs)}):",
        f"    tile = {block * items}",
        "    start = cuda.blockIdx.x * tile",
        "    step = cuda.gridDim.x * tile",
        f"    lane = cuda.threadIdx.x * {lane_stride}",
    ]
    # operands that are the same for every element: read once
    cast = _operand(key)
    for k, mode in enumerate(modes):
        if mode == "s":  # a float64 argument (cast for the simulator's Python math too)
            lines.append(f"    v{k} = {cast}(x{k})")
        elif mode == "o":
            lines.append(f"    v{k} = {cast}(x{k}[0])")

    def element_args(j):
        return [f"{cast}(a{k}_{j})" if m == "a" else f"v{k}" for k, m in enumerate(modes)]

    lines += [
        "    for base in range(start, n, step):",
        "        i = base + lane",
        "        if base + tile <= n:",
    ]
    # full tile: every load first, then the math, then every store
    for k, mode in enumerate(modes):
        if mode != "a":
            continue
        if vector:
            width = vector_width(key.inputs[k], items)
            for j0 in range(0, items, width):
                names = ", ".join(f"a{k}_{j}" for j in range(j0, j0 + width))
                lines.append(f"            {names}, = load{width}(x{k}, i + {j0})")
        else:
            lines += [f"            a{k}_{j} = x{k}[i + {j * item_stride}]" for j in range(items)]
    lines += ["            " + _call(nin, nout, element_args(j), j) for j in range(items)]
    for o in range(nout):
        casts = [_cast(f"r{o}_{j}", key.loop, key.outputs[o]) for j in range(items)]
        if vector:
            width = vector_width(key.outputs[o], items)
            for j0 in range(0, items, width):
                values = ", ".join(casts[j0 : j0 + width])
                lines.append(f"            store{width}(out{o}, i + {j0}, ({values},))")
        else:
            lines += [f"            out{o}[i + {j * item_stride}] = {casts[j]}" for j in range(items)]
    # the last, partial tile
    lines += [
        "        else:",
        f"            for j in range({items}):",
        f"                e = i + j * {item_stride}",
        "                if e < n:",
    ]
    tail_args = [f"{cast}(x{k}[e])" if m == "a" else f"v{k}" for k, m in enumerate(modes)]
    lines.append("                    " + _call(nin, nout, tail_args, "t"))
    lines += [
        f"                    out{o}[e] = {_cast(f'r{o}_t', key.loop, key.outputs[o])}"
        for o in range(nout)
    ]
    return "\n".join(lines) + "\n"


def _strided_source(key):
    nin, nout, _ = KERNELS[key.name]
    _, ndim = key.layout
    dims = [f"d{d}" for d in range(ndim)]
    params = ["n", *dims]
    arrays = []  # (pointer, origin, strides) of every array operand, inputs then outputs
    for k, code in enumerate(key.inputs):
        if code == "s":
            params.append(f"x{k}")
        else:
            strides = [f"t{k}_{d}" for d in range(ndim)]
            params += [f"x{k}", f"o{k}", *strides]
            arrays.append((f"x{k}", f"o{k}", strides))
    for o in range(nout):
        strides = [f"tout{o}_{d}" for d in range(ndim)]
        params += [f"out{o}", f"oout{o}", *strides]
    lines = [
        f"def kernel({', '.join(params)}):",
        "    for flat in range(cuda.grid(1), n, cuda.gridsize(1)):",
        "        rem = flat",
    ]
    for d in range(ndim - 1, 0, -1):
        lines += [f"        q = rem // d{d}", f"        c{d} = rem - q * d{d}", "        rem = q"]
    lines.append("        c0 = rem")

    def offset(origin, strides):
        return " + ".join([origin] + [f"c{d} * {s}" for d, s in enumerate(strides)])

    args, cast = [], _operand(key)
    for k, code in enumerate(key.inputs):
        element = f"x{k}" if code == "s" else f"x{k}[{offset(f'o{k}', [f't{k}_{d}' for d in range(ndim)])}]"
        args.append(f"{cast}({element})")
    lines.append("        " + _call(nin, nout, args, "0"))
    for o in range(nout):
        target = offset(f"oout{o}", [f"tout{o}_{d}" for d in range(ndim)])
        lines.append(f"        out{o}[{target}] = {_cast(f'r{o}_0', key.loop, key.outputs[o])}")
    return "\n".join(lines) + "\n"


_HEADER = '''\
import numpy as np
from numba import cuda

from celu_numba._cuda_kernels import scalar_kernel as _scalar_kernel
from celu_numba._cuda_kernels import vector_ops

scalar_kernel = _scalar_kernel({name!r})

load1, load2, load4, store1, store2, store4 = vector_ops()


'''


def kernel_source(key, chosen):
    """The Python source of the kernel for `key` (a function named ``kernel``) as
    launched with the Tuning `chosen`."""
    if key.layout[0] == "flat":
        return _flat_source(key, chosen.block, chosen.items)
    return _strided_source(key)


def signature(key):
    """The numba argument types of the kernel for `key`, in its parameter order."""
    from numba.core import types

    nin, nout, _ = KERNELS[key.name]
    index = types.int64
    strided = key.layout[0] == "strided"
    ndim = key.layout[1] if strided else 0
    args = [index] + [index] * ndim
    for code in key.inputs:
        if code == "s":
            args.append(types.float64)
        else:
            args.append(types.CPointer(getattr(types, ELEMENT_TYPES[code])))
            if strided:
                args += [index] * (1 + ndim)
    for code in key.outputs:
        args.append(types.CPointer(getattr(types, ELEMENT_TYPES[code])))
        if strided:
            args += [index] * (1 + ndim)
    return tuple(args)


# --- vector loads and stores


def _python_vector_ops():
    """Plain Python versions (the simulator): tuples of consecutive elements."""

    def loader(width):
        def load(pointer, index):
            return tuple(pointer[index + k] for k in range(width))

        return load

    def storer(width):
        def store(pointer, index, values):
            for k in range(width):
                pointer[index + k] = values[k]

        return store

    return tuple(loader(w) for w in (1, 2, 4)) + tuple(storer(w) for w in (1, 2, 4))


def _cuda_vector_ops():
    """numba-cuda intrinsics: one aligned ld.global.v{w} / st.global.v{w} each."""
    from llvmlite import ir
    from numba.core import types
    from numba.cuda.extending import intrinsic

    def vector_pointer(context, builder, pointer_type, pointer, index, width):
        element = context.get_data_type(pointer_type.dtype)
        address = builder.gep(pointer, [index])
        return builder.bitcast(address, ir.VectorType(element, width).as_pointer())

    def alignment(context, pointer_type, width):
        return context.get_abi_sizeof(context.get_data_type(pointer_type.dtype)) * width

    def loader(width):
        @intrinsic
        def load(typingctx, pointer, index):
            sig = types.UniTuple(pointer.dtype, width)(pointer, index)

            def codegen(context, builder, signature, args):
                vptr = vector_pointer(context, builder, pointer, args[0], args[1], width)
                vector = builder.load(vptr, align=alignment(context, pointer, width))
                items = [builder.extract_element(vector, ir.Constant(ir.IntType(32), k)) for k in range(width)]
                return context.make_tuple(builder, signature.return_type, items)

            return sig, codegen

        return load

    def storer(width):
        @intrinsic
        def store(typingctx, pointer, index, values):
            sig = types.void(pointer, index, values)

            def codegen(context, builder, signature, args):
                vptr = vector_pointer(context, builder, pointer, args[0], args[1], width)
                element = context.get_data_type(pointer.dtype)
                vector = ir.Constant(ir.VectorType(element, width), ir.Undefined)
                for k in range(width):
                    value = builder.extract_value(args[2], k)
                    vector = builder.insert_element(vector, value, ir.Constant(ir.IntType(32), k))
                builder.store(vector, vptr, align=alignment(context, pointer, width))
                return context.get_dummy_value()

            return sig, codegen

        return store

    return tuple(loader(w) for w in (1, 2, 4)) + tuple(storer(w) for w in (1, 2, 4))


_vector_ops = {}


def vector_ops():
    """(load1, load2, load4, store1, store2, store4) for the current numba.cuda mode."""
    mode = "simulator" if simulator() else "cuda"
    if mode not in _vector_ops:
        _vector_ops[mode] = _python_vector_ops() if mode == "simulator" else _cuda_vector_ops()
    return _vector_ops[mode]


def simulator():
    """True when numba.cuda is the CUDA simulator (NUMBA_ENABLE_CUDASIM=1)."""
    from numba.core import config

    return bool(config.ENABLE_CUDASIM)


# --- registering _math for numba-cuda


def _jitable_functions(roots):
    """Every function registered with core numba's register_jitable that `roots` call
    (transitively, through their globals), including `roots`."""
    from numba.core.typing.templates import builtin_registry

    registered = {}
    for function, function_type in builtin_registry.globals:
        templates = getattr(function_type, "templates", ())
        if any(
            getattr(getattr(t, "_overload_func", None), "__qualname__", "").startswith("register_jitable.")
            for t in templates
        ):
            registered[id(function)] = function
    found, todo = {}, list(roots)
    while todo:
        function = todo.pop()
        if id(function) in found or id(function) not in registered:
            continue
        found[id(function)] = function
        for name in function.__code__.co_names:
            value = function.__globals__.get(name)
            if isinstance(value, pytypes.FunctionType):
                todo.append(value)
    return list(found.values())


_cuda_math = {}


def register_math_for_cuda():
    """name -> the scalar kernel of _math to call from CUDA kernels.

    Under the simulator these are _math's own functions (plain Python).  For a GPU,
    each jitable function of _math is re-created from its own code object (the same
    code, new function objects whose globals point at each other) and registered with
    numba-cuda's register_jitable: the core registrations of the originals, once used
    by a CPU compile, would otherwise be picked up by numba-cuda's typing too and fail.
    """
    with _lock:
        if not _cuda_math:
            names = [*KERNELS, *map(_math.float32_name, KERNELS)]
            roots = [getattr(_math, name) for name in names]
            if simulator():
                _cuda_math.update(zip(names, roots))
                return _cuda_math
            from numba.cuda.extending import register_jitable

            originals = _jitable_functions(roots)
            copies = {}
            for f in originals:
                namespace = dict(f.__globals__)
                copies[id(f)] = (f, namespace, pytypes.FunctionType(
                    f.__code__, namespace, f.__name__, f.__defaults__, f.__closure__))
            for f, namespace, copy in copies.values():
                for name in f.__code__.co_names:
                    value = f.__globals__.get(name)
                    if id(value) in copies:
                        namespace[name] = copies[id(value)][2]
                register_jitable(copy)
            _cuda_math.update((name, copies[id(f)][2]) for name, f in zip(names, roots))
    return _cuda_math


def scalar_kernel(name):
    """The scalar kernel `name` as CUDA kernels call it (see register_math_for_cuda)."""
    return register_math_for_cuda()[name]


# --- compiling and launching

_lock = threading.RLock()
_compiled = {}


def _numba_cuda_version():
    try:
        from importlib.metadata import version

        return version("numba-cuda")
    except Exception:  # not installed as a distribution
        return "unknown"


def _load_kernel_module(key, chosen):
    """Import the generated module of the kernel for `key`, from the cache's cuda/
    directory (_cache.load_module).  Its first line names what its compiled code depends
    on beyond its text (numba-cuda's cache does not tell apart compile options such as
    launch bounds), so that the digest in the module's name covers them."""
    depends = f"# {key!r}, numba-cuda {_numba_cuda_version()}, options {jit_options(chosen)!r}\n"
    source = depends + _HEADER.format(name=math_name(key)) + kernel_source(key, chosen)
    directory = os.path.join(cache_dir(), "cuda")
    os.makedirs(directory, exist_ok=True)
    return load_module(f"cuda_{key.name}", source, directory, dependencies=("_cuda_kernels.py",))


class Kernel:
    """A compiled kernel and its launch configuration.

    ``kernel(n, args, stream)`` launches it over n elements; `args` are the kernel's
    arguments after ``n`` (pointers as ints, or NumPy views under the simulator),
    `stream` a raw CUDA stream handle (int; 0 is the default stream).
    """

    def __init__(self, key):
        self.key = key
        self.simulated = simulator()
        self.tuning = tuning(key)
        self.block = self.tuning.block
        self.elements_per_block = self.block * self.tuning.items
        from numba import cuda

        module = _load_kernel_module(key, self.tuning)
        if self.simulated:
            self.dispatcher = cuda.jit(module.kernel)
            self.max_blocks = SIMULATOR_MAX_BLOCKS
        else:
            options = jit_options(self.tuning)
            self.dispatcher = cuda.jit(signature(key), cache=True, **options)(module.kernel)
            self._compiled = next(iter(self.dispatcher.overloads.values()))
            self.max_blocks = self._compiled.max_cooperative_grid_blocks(self.block)
            self._launch = DriverLaunch(self._compiled, signature(key))

    def blocks(self, n):
        """Blocks to launch for n elements: enough for one pass, at most one full wave."""
        return max(1, min(-(-n // self.elements_per_block), self.max_blocks))

    def __call__(self, n, args, stream=0):
        blocks = self.blocks(n)
        if self.simulated:
            self.dispatcher[blocks, self.block](n, *args)
        else:
            self._launch(blocks, self.block, stream, (n, *args))


#: CUresult of a launch from a thread where no CUDA context is current yet
CUDA_ERROR_INVALID_CONTEXT = 201


class CudaLaunchError(RuntimeError):
    """cuLaunchKernel refused a kernel launch (the CUresult is in the message)."""


class DriverLaunch:
    """Launches one compiled kernel with a single ``cuLaunchKernel`` call (ctypes).

    numba-cuda's launch converts every argument to a ctypes object and goes through
    cuda.core's launch, about 25 us per call.  These kernels take only 8-byte scalars
    (int64, pointers, float64), so one ``struct.pack`` of all of them into one buffer,
    an array of their addresses and the driver call do.  The handle is the kernel's
    context-independent CUkernel, which cuLaunchKernel accepts as a CUfunction and runs
    in the calling thread's current context (numba's, made current on first use).
    """

    def __init__(self, compiled, argument_types):
        from numba.core import types
        from numba.cuda.cudadrv import devices

        self.handle = int(compiled._codelibrary.get_cufunc().handle)
        codes = {types.float64: "d", types.int64: "q"}
        self.format = "=" + "".join(codes.get(t, "Q") for t in argument_types)  # Q: a pointer
        self.addresses = ctypes.c_void_p * len(argument_types)
        self.offsets = range(0, 8 * len(argument_types), 8)
        self.driver = _driver_launch_function()
        self.make_context_current = devices.get_context

    def __call__(self, blocks, threads, stream, args):
        buffer = ctypes.create_string_buffer(struct.pack(self.format, *args))
        base = ctypes.addressof(buffer)
        params = self.addresses(*[base + offset for offset in self.offsets])
        result = self.driver(self.handle, blocks, 1, 1, threads, 1, 1, 0, stream, params, None)
        if result == CUDA_ERROR_INVALID_CONTEXT:  # a new Python thread: numba's context first
            self.make_context_current()
            result = self.driver(self.handle, blocks, 1, 1, threads, 1, 1, 0, stream, params, None)
        if result != 0:
            raise CudaLaunchError(f"cuLaunchKernel failed with CUresult {result}")


_cu_launch_kernel = None


def _driver_launch_function():
    """cuLaunchKernel of the CUDA driver library that numba-cuda uses, through ctypes."""
    global _cu_launch_kernel
    if _cu_launch_kernel is None:
        library = ctypes.CDLL("nvcuda.dll" if os.name == "nt" else "libcuda.so.1")
        function = library.cuLaunchKernel
        unsigned = ctypes.c_uint
        function.argtypes = [ctypes.c_void_p] + [unsigned] * 7 + [ctypes.c_void_p] * 3
        function.restype = ctypes.c_int
        _cu_launch_kernel = function
    return _cu_launch_kernel


def jit_options(chosen):
    """numba-cuda options of a kernel launched with the Tuning `chosen` (besides its signature)."""
    if chosen.min_blocks is None:
        return {"launch_bounds": chosen.block}
    return {"launch_bounds": (chosen.block, chosen.min_blocks)}


def ptx(key, cc=(9, 0)):
    """The PTX of the kernel for `key` for compute capability `cc`, as a GPU would compile it.

    Needs NVVM (and, in numba-cuda, NVRTC) but no GPU, except that the device
    functions it calls are compiled for the current device's compute capability.
    """
    from numba import cuda

    chosen = tuning(key)
    module = _load_kernel_module(key, chosen)
    text, _ = cuda.compile_ptx(module.kernel, signature(key), cc=cc, **jit_options(chosen))
    return text


def get_kernel(key):
    """The compiled Kernel for `key` (compiled on first use, then cached)."""
    kernel = _compiled.get(key)
    if kernel is None:
        with _lock:
            kernel = _compiled.get(key)
            if kernel is None:
                kernel = _compiled[key] = Kernel(key)
    return kernel
