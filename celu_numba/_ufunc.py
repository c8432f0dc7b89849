"""How a scalar kernel from ``_math`` becomes a true ``np.ufunc`` on the CPU.

Why this module exists: ``numba.vectorize`` builds real ufuncs, but

* its generated loop takes the vectorizable path only when every operand is
  unit-strided, so the main call ``celu(x, 1.0)`` (alpha broadcast, stride 0)
  runs a scalar loop 7-9x slower;
* its ufuncs reject ``where=`` (numba's C helper flags the outputs
  READWRITE|UPDATEIFCOPY, see numba/np/ufunc/_internal.c);
* ``target='parallel'`` was 5x slower under the OpenMP threading layer.

So each loop here is numba ``@cfunc`` code with NumPy's inner-loop signature, and the
ufunc is made by NumPy itself, ``PyUFunc_FromFuncAndData`` from the ``_UFUNC_API``
capsule (the C-API table every C extension uses), which supports every ufunc
feature.  Every loop of every ufunc is the same three layers: the driver
(``_parallel``: picks the loop for the layout, splits large inputs over numba's threads),
the buffered loop (``_strided``: any layout, through small contiguous blocks), and the
kernel's contiguous loop, generated here: the only code compiled per kernel and dtype.
The driver is compiled with the first ufunc; the others when a call first needs them
(``_lazy_loops``), so that a first call compiles what it runs and no more.

The numba/NumPy internals touched here are guarded by tests/test_internals.py.
"""

import ctypes
import importlib

import numba
import numpy as np
from numba import cfunc

from . import _cache, _lazy_loops, _math, _native, _threads

#: Options of every compiled loop: NumPy's floating-point semantics (x / 0 gives inf or
#: NaN, never an exception), no fastmath (which drops NaN and inf), both said explicitly:
#: a loop first compiled inside a user's numba compile would otherwise take its options.
#: No numba cache: _native keeps the loops' object code
OPTIONS = dict(error_model="numpy", fastmath=False)

# --- code generation
#
# The contiguous loop of a kernel and float dtype: every operand unit-stride, alpha
# unit-stride or a broadcast scalar (stride 0), the two layouts of nearly every call
# (the buffered loop brings every other layout to them, block by block).  Two loops
# over the kernel, inlined, which LLVM vectorizes.  Generated from a template (the loop
# depends on the arity and dtype; the scalar math itself is never copied) and written
# to a file in the cache directory, beside its object code (_native).

_CONTIGUOUS_TEMPLATE = """
@cfunc(LOOP_SIGNATURE, **OPTIONS)
def contiguous_{code}(args, dims, steps, data):
    prefer_wide_vectors()
    n = dims[0]
{body}
"""

_HEADER = """from numba import cfunc, types

from celu_numba._intrinsics import address, prefer_wide_vectors, view
from celu_numba._threads import LOOP_SIGNATURE
from celu_numba._ufunc import OPTIONS
"""


def _indent(blocks, depth):
    """Join source blocks (each one or more lines), every line indented by `depth`."""
    return "\n".join("    " * depth + line for block in blocks for line in block.split("\n"))


def _store_results(nout, call, target, index):
    """`target{o}[index] = ...` for each of the kernel's nout results."""
    if nout == 1:
        return f"{target}0[{index}] = {call}"
    names = ", ".join(f"r{o}" for o in range(nout))
    stores = "; ".join(f"{target}{o}[{index}] = r{o}" for o in range(nout))
    return f"{names} = {call}\n{stores}"


def _contiguous_source(code, nin, nout):
    """The kernel's contiguous loop for the float dtype `code` ("f" or "d"): every operand
    unit-stride, alpha (the last input) unit-stride or a broadcast scalar (stride 0)."""
    type_ = _NUMBA_TYPES[code]
    kernel = "kernel_float32" if code == "f" else "kernel"
    a = nin - 1  # alpha, the last input
    body = [f"x{i} = view(address(args[{i}]), n, types.{type_})" for i in range(a)]
    body += [f"out{o} = view(address(args[{nin + o}]), n, types.{type_})" for o in range(nout)]
    args = [f"x{i}[j]" for i in range(a)]
    branches = []
    for alpha_is_scalar in (True, False):
        if alpha_is_scalar:
            lines = [f"alpha = view(address(args[{a}]), 1, types.{type_})[0]"]
        else:
            lines = [f"x{a} = view(address(args[{a}]), n, types.{type_})"]
        call = f"{kernel}({', '.join(args + ['alpha' if alpha_is_scalar else f'x{a}[j]'])})"
        lines += ["for j in range(n):", _indent([_store_results(nout, call, "out", "j")], 1)]
        branches.append(lines)
    body += [f"if steps[{a}] == 0:", _indent(branches[0], 1), "else:", _indent(branches[1], 1)]
    return _CONTIGUOUS_TEMPLATE.format(code=code, body=_indent(body, 1))


def compute_code(signature):
    """The float dtype a loop computes in: "f" for the float32 loop, else "d"."""
    return "f" if signature[0] == "f" else "d"


def contiguous_loop(kernel_name, code, nin, nout, directory=None, before_compiling=None):
    """The contiguous loop of the kernel `kernel_name` for the float dtype `code` ("f":
    its float32 version, "d": the float64 kernel), as _native.Compiled: compiled, or
    linked from the cache; `directory` and `before_compiling` as for _native.functions."""
    kernel = _math.float32_name(kernel_name) if code == "f" else kernel_name
    source = _HEADER + f"from celu_numba._math import {kernel} as {'kernel_float32' if code == 'f' else 'kernel'}\n"
    source += _contiguous_source(code, nin, nout)
    prefix = f"loops_{kernel_name}_{code}"

    def compile_():
        return [getattr(_cache.load_module(prefix, source, directory), f"contiguous_{code}")]

    return _native.functions(prefix, source, [f"contiguous_{code}"], compile_, directory, before_compiling)[0]


_drivers = None  # the first drivers compiled (or linked), which every ufunc uses


def drivers(directory=None):
    """(parallel, chunks), as _native.Compiled: the driver NumPy calls for every loop and
    the part of it each thread runs (``_parallel``), compiled on first use (or linked
    from the cache); a `directory` other than the default puts them there."""
    global _drivers
    with _cache.lock:
        if directory is None and _drivers is not None:
            return _drivers
        names = ["parallel_loop", "chunk_loop"]

        def compile_():
            from . import _parallel  # its njit functions start numba's compiler: only to compile

            return [cfunc(_threads.LOOP_SIGNATURE, **OPTIONS)(getattr(_parallel, name)) for name in names]

        compiled = tuple(_native.functions("parallel", "", names, compile_, directory))
        if _drivers is None:
            _drivers = compiled
        return compiled


def buffered_loop(directory=None, before_compiling=None, cached_only=False):
    """The buffered loop shared by every ufunc (``_strided``), as _native.Compiled:
    compiled, or linked from the cache in `directory` (default: the cache directory);
    `cached_only`: None where it would have to be compiled."""

    def compile_():
        from . import _strided  # as _parallel above

        return [cfunc(_threads.LOOP_SIGNATURE, **OPTIONS)(_strided.buffered_loop)]

    found = _native.functions("strided", "", ["buffered_loop"], None if cached_only else compile_, directory,
                              before_compiling)
    return None if found is None else found[0]


# --- the ufunc itself, made by NumPy

_NUMBA_TYPES = {"f": "float32", "d": "float64"}


def _pyufunc_from_func_and_data():
    """NumPy's C function PyUFunc_FromFuncAndData, slot 1 of the _UFUNC_API table."""
    capsule = np._core._multiarray_umath._UFUNC_API
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    table = ctypes.cast(get_pointer(capsule, None), ctypes.POINTER(ctypes.c_void_p))
    prototype = ctypes.PYFUNCTYPE(
        ctypes.py_object,  # the new ufunc
        ctypes.c_void_p,  # PyUFuncGenericFunction *func
        ctypes.c_void_p,  # void **data
        ctypes.c_char_p,  # char *types
        ctypes.c_int,  # ntypes
        ctypes.c_int,  # nin
        ctypes.c_int,  # nout
        ctypes.c_int,  # identity
        ctypes.c_char_p,  # name
        ctypes.c_char_p,  # doc
        ctypes.c_int,  # unused
    )
    return prototype(table[1])


_PY_UFUNC_NONE = -1  # PyUFunc_None: no identity
_KEEP_ALIVE = []  # NumPy keeps pointers to these buffers, never copies


def loop_types(nin, nout):
    """The loops of every ufunc, in NumPy's search order.

    Integers and bools take the float64 loop (the first one, whose integer inputs
    catch every integer type that float32 would otherwise take); float16 the float32
    one.  The float32 loop calls _math's float32 kernel (float32 arithmetic), the others
    the float64 kernel.
    """
    return [
        "i" * (nin - 1) + "d->" + "d" * nout,
        "f" * nin + "->" + "f" * nout,
        "d" * nin + "->" + "d" * nout,
    ]


#: The NumPy and numba internals the CPU ufuncs use, as (module, attribute): what each
#: one does is checked by tests/test_internals.py, that it exists by check_internals.
INTERNALS = (
    ("numpy._core._multiarray_umath", "_UFUNC_API"),
    ("numba.np.ufunc.parallel", "_launch_threads"),
    ("numba.np.ufunc.parallel", "_iget_num_threads"),
    ("numba.np.ufunc.parallel", "_is_initialized"),
    ("numba.core.base", "_load_global_helpers"),
    ("numba.core.runtime._nrt_python", "c_helpers"),
    ("numba.core.codegen", "get_host_cpu_features"),
)
#: The versions the test suite passes with (pyproject.toml's dependencies).
SUPPORTED = "numba >= 0.67 with NumPy >= 2.0"


def check_internals():
    """Raise ImportError naming every internal of INTERNALS that this numba or NumPy lacks
    (an upgrade that moved one), rather than failing somewhere inside a build."""
    missing = []
    for module, attribute in INTERNALS:
        try:
            found = hasattr(importlib.import_module(module), attribute)
        except ImportError:
            found = False
        if not found:
            missing.append(f"{module}.{attribute}")
    if missing:
        raise ImportError(
            f"celu_numba cannot build its ufuncs with numba {numba.__version__} and NumPy "
            f"{np.__version__}: {', '.join(missing)} is missing.  It supports {SUPPORTED}."
        )


def make_ufunc(name, nin, nout, doc, module, announce=None):
    """A true np.ufunc computing the kernel `name` of _math (nin float64 -> nout float64)
    elementwise, and its float32 version ``<name>_float32`` in the float32 loop.

    Only the drivers are compiled here: each loop is compiled when a call first needs it
    (``_lazy_loops``).  `module` is the module that holds the ufunc under `name`, so that
    it pickles by reference; `announce(what)` is called before something is compiled
    (not loaded from the cache), with what it is ("celu for float32").
    """
    check_internals()
    signatures = loop_types(nin, nout)
    parallel, chunks = drivers()  # not announced: a fraction of a second, then the loop's warning
    _lazy_loops.link_cached_buffered_loop()
    records = []
    for sig in signatures:
        code = compute_code(sig)
        kinds = [_threads.KIND[c] for c in sig.replace("->", "")]
        record = _threads.loop_info(chunks.address, _lazy_loops.RESOLVER_ADDRESS, nin, nout, _threads.KIND[code], kinds)
        _lazy_loops.register(record, name, code, nin, nout, announce)
        records.append(record)
    ntypes = len(signatures)
    funcs = (ctypes.c_void_p * ntypes)(*[parallel.address] * ntypes)
    data = (ctypes.c_void_p * ntypes)(*[record.ctypes.data for record in records])
    typecodes = (ctypes.c_char * ((nin + nout) * ntypes))(
        *[np.dtype(c).num for sig in signatures for c in sig.replace("->", "")]
    )
    name_bytes, doc_bytes = name.encode(), doc.encode()
    ufunc = _pyufunc_from_func_and_data()(
        funcs, data, typecodes, ntypes, nin, nout, _PY_UFUNC_NONE, name_bytes, doc_bytes, 0
    )
    _KEEP_ALIVE.append((records, funcs, data, typecodes, name_bytes, doc_bytes))
    try:
        ufunc.__module__ = module  # pickled by reference to `module` (NumPy >= 2.2)
        ufunc.__qualname__ = name
    except AttributeError:
        pass  # older NumPy: pickle finds the ufunc by searching the loaded modules for it
    return ufunc
