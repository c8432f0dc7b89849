"""celu_numba's functions inside users' own numba code: @njit, @vectorize, @guvectorize,
@cuda.jit.

``celu_numba.celu(x, alpha)`` (and the other five, and their ``.ufunc``) typed and
compiled by numba, calling the scalar kernels of ``_math`` (the same functions the CPU
ufunc loops and the CUDA kernels compile: the math is not copied), inlined into the
caller's loop.

Registered through numba's extension entry points (``import celu_numba`` does not import
numba), which numba calls before its first compile::

    [project.entry-points.numba_extensions]
    init = "celu_numba._overloads:init"
    [project.entry-points.numba_cuda_extensions]
    init = "celu_numba._overloads:init_cuda"

Rules (those of the ufunc, as far as numba can tell them):

* dtype: the float32 kernel when every operand is float32, else the float64 kernel
  (integers and bools too); the result has the kernel's dtype.  A float64 *scalar*
  counts as a Python float (weak, NEP 50): ``celu(x_float32, 1.0)`` is float32, as it is
  from Python; numba cannot tell a Python float from an ``np.float64`` scalar (from which
  NumPy makes a float64 result).  Integer scalars are not weak: ``celu(x_float32, 2)`` is
  float64 (NumPy: float32 for a Python int), write ``2.0``.  float16 is not a numba CPU type (CUDA
  takes it: computed in float32, like the ufunc's float32 loop).
* alpha defaults to 1.0; an invalid alpha (negative or NaN) gives NaN, as NumPy's own
  functions inside njit give for a domain error (the Python-level functions raise
  ValueError for an invalid scalar alpha).
* arrays (CPU): broadcasting, a new array or ``out=``; ``celu_and_grads`` returns a
  tuple.  Scalars return scalars.
* the implementation is compiled with NumPy's error model and without fastmath whatever
  the caller's options, so that results are the ufunc's, bit for bit.
"""

import sys

import numpy as np

from . import _ufuncs
from ._api import CeluFunction
from ._ufuncs import KERNELS

#: The options of every implementation: those of the ufunc loops (``_ufunc.OPTIONS``),
#: set explicitly so that the caller's (error_model="python", fastmath=True, ...) are
#: not inherited, and forceinline as _math's functions have it.
JIT_OPTIONS = {"error_model": "numpy", "fastmath": False, "forceinline": True}

#: What the functions accept, for the error messages.
ACCEPTS = "float32, float64, integer or bool scalars or arrays (CPU); scalars (CUDA)"

_initialized = set()


def init():
    """numba's ``numba_extensions`` entry point: the CPU registrations, and the CUDA ones
    if numba.cuda is already imported."""
    if "cpu" not in _initialized:
        _initialized.add("cpu")
        _register_cpu()
    if "numba.cuda" in sys.modules or "numba_cuda" in sys.modules:
        init_cuda()


def init_cuda():
    """numba-cuda's ``numba_cuda_extensions`` entry point: the CUDA registrations (no-op
    under the simulator, whose kernels call the Python functions themselves)."""
    if "cuda" in _initialized:
        return
    _initialized.add("cuda")
    from numba.core import config

    if not config.ENABLE_CUDASIM:
        _register_cuda()


# --- types of the operands (shared by both targets)


def _parameters(name, raw):
    """The parameter list of the function `name` (raw: its ufunc, alpha required)."""
    nin = KERNELS[name][0]
    inputs = ["x"] if nin == 2 else ["grad_out", "x"]
    return [*inputs, "alpha" if raw else "alpha=1.0", "out=None"]


def _is_absent(ty, types):
    """An argument left out: its default (numba passes the value itself, or Omitted)."""
    return not isinstance(ty, types.Type) or isinstance(ty, (types.Omitted, types.NoneType))


class Operand:
    """How one input enters the kernel: kind "array", "scalar" or "default" (alpha left
    out), its element type, whether it is weak (a float64 scalar, taken for a Python
    float) and its layout (arrays)."""

    def __init__(self, kind, dtype, weak, layout=None):
        self.kind, self.dtype, self.weak, self.layout = kind, dtype, weak, layout


def _operands(name, argtypes, types, errors, arrays_allowed, float16_allowed):
    """Operand per input type, or a TypingError naming the function and what it accepts."""
    operands = []
    for ty in argtypes:
        if _is_absent(ty, types):
            operands.append(Operand("default", types.float64, True))
            continue
        array = isinstance(ty, types.Array)
        dtype = ty.dtype if array else ty
        if isinstance(ty, types.Literal):
            dtype = ty.literal_type if not isinstance(ty, types.BooleanLiteral) else types.boolean
        numeric = isinstance(dtype, (types.Float, types.Integer, types.Boolean))
        if not numeric or (array and not arrays_allowed) or (dtype == types.float16 and not float16_allowed):
            raise errors.TypingError(
                f"celu_numba.{name}() got unsupported argument types "
                f"({', '.join(str(t) for t in argtypes)}); it accepts {ACCEPTS}"
                + ("" if float16_allowed else ", float16 only on CUDA (numba has no float16 on the CPU)")
            )
        weak = not array and dtype == types.float64
        operands.append(Operand("array" if array else "scalar", dtype, weak, ty.layout if array else None))
    return operands


def loop_dtype(operands, types):
    """The kernel's dtype: float32 when every strong operand (all but float64 scalars)
    is float32 or float16, else float64 (the ufunc's loops: integers and bools take
    float64; weak scalars follow the others, NEP 50)."""
    strong = [op.dtype for op in operands if not op.weak]
    if strong and all(dtype in (types.float32, types.float16) for dtype in strong):
        return types.float32
    return types.float64


def _kernel_name(name, dtype, types):
    from . import _math

    return _math.float32_name(name) if dtype == types.float32 else name


# --- CPU: code generation of the implementations

# Scalars: the implementation is inlined into the caller's numba IR (the "scalar" template)
# and calls ``scalar``, the kernel on the cast operands, compiled with JIT_OPTIONS (the
# caller's flags are not inherited) and inlined by LLVM.  prefer_wide_vectors() marks
# the caller's function as the ufunc loops are marked: 512-bit vectors where the CPU has
# them (~1.4x faster loops on AVX-512; it changes no result).
_SCALAR_TEMPLATE = """
def scalar({inputs}):
    return kernel({args})

def impl({params}):
    prefer_wide_vectors()
    return scalar({values})
"""


def _scalar_source(name, raw, operands, cast):
    params = ", ".join(_parameters(name, raw))
    names = _parameters(name, True)[: len(operands)]
    values = ["1.0" if op.kind == "default" else n for n, op in zip(names, operands)]
    args = [f"{cast}({n})" for n in names]
    return _SCALAR_TEMPLATE.format(params=params, inputs=", ".join(names), args=", ".join(args), values=", ".join(values))


def _array_source(name, raw, operands, cast, out_kind, all_c):
    """An implementation over arrays: inputs broadcast together (and with out=), a new
    array (or out=) per result, a flat loop where every array has the result's shape
    (when every array is typed C-contiguous), else a loop over the indices of the shape."""
    nout = KERNELS[name][1]
    params = ", ".join(_parameters(name, raw))
    names = _parameters(name, True)[: len(operands)]
    lines = [f"def impl({params}):"]
    arrays = []
    for k, (n, op) in enumerate(zip(names, operands)):
        if op.kind == "array":
            lines.append(f"    a{k} = {n}")
            arrays.append(k)
        else:
            value = "1.0" if op.kind == "default" else n
            lines.append(f"    s{k} = {cast}({value})")
    shapes = [f"a{k}.shape" for k in arrays]
    if out_kind == "array":
        lines.append("    o0 = out")
    elif out_kind == "tuple":
        lines += [f"    o{o} = out[{o}]" for o in range(nout)]
    if out_kind:
        shapes += [f"o{o}.shape" for o in range(nout)]
    lines.append(f"    shape = np.broadcast_shapes({', '.join(shapes)})")
    if out_kind:
        lines += [
            f"    if o{o}.shape != shape:\n"
            f"        raise ValueError('celu_numba.{name}: out= does not have the broadcast shape of the inputs')"
            for o in range(nout)
        ]
    else:
        lines += [f"    o{o} = np.empty(shape, dtype)" for o in range(nout)]
    outs = [f"o{o}" for o in range(nout)]
    returned = outs[0] if nout == 1 and out_kind != "tuple" else f"({', '.join(outs)},)"

    def element(index):
        return [f"{cast}(b{k}[{index}])" if k in arrays else f"s{k}" for k in range(len(operands))]

    def store(index, target):
        call = f"kernel({', '.join(element(index))})"
        if nout == 1:
            return [f"{target}0[{index}] = {call}"]
        return [f"r = {call}"] + [f"{target}{o}[{index}] = r[{o}]" for o in range(nout)]

    if all_c:
        flat = [f"a{k}.shape == shape" for k in arrays] or ["True"]
        lines.append(f"    if {' and '.join(flat)}:")
        lines.append("        n = o0.size")
        lines += [f"        b{k} = a{k}.reshape(n)" for k in arrays]
        lines += [f"        f{o} = o{o}.reshape(n)" for o in range(nout)]
        lines.append("        for i in range(n):")
        lines += ["            " + s for s in store("i", "f")]
        lines.append(f"        return {returned}")
    lines += [f"    b{k} = np.broadcast_to(a{k}, shape)" for k in arrays]
    lines.append("    for index in np.ndindex(shape):")
    lines += ["        " + s for s in store("index", "o")]
    lines.append(f"    return {returned}")
    return "\n".join(lines) + "\n"


_impl_cache = {}


def _compile_source(source, kernel, dtype):
    key = (source, kernel, dtype)
    if key not in _impl_cache:
        namespace = {"np": np, "kernel": kernel, "dtype": dtype}
        if "def scalar(" in source:
            from numba.extending import register_jitable

            from ._intrinsics import prefer_wide_vectors

            namespace["prefer_wide_vectors"] = prefer_wide_vectors
        exec(compile(source, f"<celu_numba._overloads {kernel.__name__}>", "exec"), namespace)
        if "scalar" in namespace:
            register_jitable(**JIT_OPTIONS)(namespace["scalar"])
        _impl_cache[key] = namespace["impl"]
    return _impl_cache[key]


def _out_kind(name, out, types, errors):
    """None (no out=), "array" or "tuple" (of nout float arrays)."""
    if _is_absent(out, types):
        return None
    nout = KERNELS[name][1]
    outs = list(out) if isinstance(out, types.BaseTuple) else [out]
    if len(outs) != nout or not all(
        isinstance(o, types.Array) and isinstance(o.dtype, types.Float) and o.mutable for o in outs
    ):
        raise errors.TypingError(
            f"celu_numba.{name}(): out= must be {'a writable float array' if nout == 1 else f'a tuple of {nout} writable float arrays'}, got {out}"
        )
    return "tuple" if isinstance(out, types.BaseTuple) else "array"


def _cpu_implementation(name, raw, argtypes, out, path):
    """The implementation for these argument types (a Python function numba compiles), or
    None where they are not for `path`: "scalar" (its template's calls are inlined in
    numba IR) or "array"."""
    from numba.core import errors, types

    from . import _math

    operands = _operands(name, argtypes, types, errors, arrays_allowed=True, float16_allowed=False)
    dtype = loop_dtype(operands, types)
    kernel = getattr(_math, _kernel_name(name, dtype, types))
    cast = "np.float32" if dtype == types.float32 else "np.float64"
    out_kind = _out_kind(name, out, types, errors)
    if out_kind is None and all(op.kind != "array" for op in operands):
        if path != "scalar":
            return None
        source = _scalar_source(name, raw, operands, cast)
    elif path != "array":
        return None
    else:
        outs = [] if out_kind is None else (list(out) if out_kind == "tuple" else [out])
        all_c = all(op.layout == "C" for op in operands if op.kind == "array") and all(o.layout == "C" for o in outs)
        source = _array_source(name, raw, operands, cast, out_kind, all_c)
    return _compile_source(source, kernel, np.dtype(str(dtype)))


def _typer(name, raw, implementation, *extra):
    """The overload function of `name` (its parameters: see _parameters)."""
    source = f"def typer({', '.join(_parameters(name, raw))}):\n"
    inputs = _parameters(name, True)[: KERNELS[name][0]]
    source += f"    return implementation({name!r}, {raw!r}, ({', '.join(inputs)},), out, *{extra!r})\n"
    namespace = {"implementation": implementation}
    exec(source, namespace)
    return namespace["typer"]


# --- CPU: registration

#: (name, raw) -> the numba type of celu_numba.<name> (raw: of its ufunc), per target
_function_types = {"cpu": {}, "cuda": {}}


def _register_cpu():
    from numba.core import types
    from numba.core.imputils import lower_getattr
    from numba.core.typing.templates import AttributeTemplate, infer, infer_getattr, make_overload_template
    from numba.core.typing.typeof import typeof_impl

    import celu_numba

    function_types = _function_types["cpu"]
    for name in KERNELS:
        for raw in (False, True):
            key = _ufunc_stub(name) if raw else getattr(celu_numba, name)
            # two templates: calls on scalars (inlined in numba IR, see _SCALAR_TEMPLATE),
            # and calls on arrays or with out= (numba does not inline calls with keywords)
            templates = tuple(
                make_overload_template(
                    key, _typer(name, raw, _cpu_implementation, path), JIT_OPTIONS, True, inline, False, target="cpu"
                )
                for path, inline in (("scalar", "always"), ("array", "never"))
            )
            for template in templates:
                infer(template)
            function_types[name, raw] = types.Function(templates)
        _register_ufunc_attribute(function_types, name, types, AttributeTemplate, infer_getattr, lower_getattr)
    typeof_impl.register(CeluFunction)(_typeof_function(function_types))
    typeof_impl.register(np.ufunc)(_typeof_ufunc(function_types, typeof_impl.dispatch(np.ufunc)))


def _register_ufunc_attribute(function_types, name, types, AttributeTemplate, infer_getattr, lower_getattr):
    """``celu_numba.<name>.ufunc``: typed as the raw function (alpha required)."""
    public, raw = function_types[name, False], function_types[name, True]

    class UfuncAttribute(AttributeTemplate):
        key = public

        def resolve_ufunc(self, ty):
            return raw

    infer_getattr(UfuncAttribute)

    @lower_getattr(public, "ufunc")
    def lower_ufunc(context, builder, ty, value):
        return context.get_dummy_value()


def _ufunc_stub(name):
    """A Python function standing for the ufunc `name` in numba's tables (the ufunc itself
    is built on first use, maybe after the registration)."""

    def ufunc(*args, **kwargs):
        return getattr(_ufuncs, name)(*args, **kwargs)

    ufunc.__name__ = ufunc.__qualname__ = name
    return ufunc


def _typeof_function(function_types):
    def typeof_celu_function(value, context):
        return function_types.get((value.__name__, False))

    return typeof_celu_function


def _typeof_ufunc(function_types, previous):
    """typeof of an np.ufunc: ours (built by _ufuncs) typed as the raw function, every
    other one as before (numba types NumPy's own ufuncs from its tables)."""

    def typeof_ufunc(value, context):
        name = getattr(value, "__name__", None)
        if name in KERNELS and _ufuncs._built.get(name) is value:
            return function_types[name, True]
        return previous(value, context)

    return typeof_ufunc


# --- CUDA: scalars, through the CUDA-registered copies of _math (_cuda_kernels)

_CUDA_TEMPLATE = """
def impl({params}):
    return {result}
"""


def _cuda_implementation(name, raw, argtypes, out):
    from numba.cuda import types
    from numba.cuda.core import errors

    from . import _cuda_kernels

    if not _is_absent(out, types):
        raise errors.TypingError(f"celu_numba.{name}(): out= is not supported in CUDA code (scalars only)")
    operands = _operands(name, argtypes, types, errors, arrays_allowed=False, float16_allowed=True)
    dtype = loop_dtype(operands, types)
    kernel = _cuda_kernels.scalar_kernel(_kernel_name(name, dtype, types))
    cast = "np.float32" if dtype == types.float32 else "np.float64"
    names = _parameters(name, True)[: len(operands)]
    args = [f"{cast}(1.0)" if op.kind == "default" else f"{cast}({n})" for n, op in zip(names, operands)]
    source = _CUDA_TEMPLATE.format(params=", ".join(_parameters(name, raw)), result=f"kernel({', '.join(args)})")
    return _compile_source(source, kernel, np.dtype(str(dtype)))


def _register_cuda():
    from numba.cuda import types
    from numba.cuda.core.imputils import lower_getattr
    from numba.cuda.typing.templates import AttributeTemplate, infer, infer_getattr, make_overload_template
    from numba.cuda.typing.typeof import typeof_impl

    import celu_numba

    options = {k: v for k, v in JIT_OPTIONS.items() if k == "fastmath"}
    options.update(no_cpython_wrapper=True, nopython=True, inline="never")
    function_types = _function_types["cuda"]
    for name in KERNELS:
        for raw in (False, True):
            key = _ufunc_stub(name) if raw else getattr(celu_numba, name)
            template = make_overload_template(
                key, _typer(name, raw, _cuda_implementation), options, True, "never", False, target="cuda"
            )
            infer(template)
            function_types[name, raw] = types.Function(template)
        _register_ufunc_attribute(function_types, name, types, AttributeTemplate, infer_getattr, lower_getattr)
    typeof_impl.register(CeluFunction)(_typeof_function(function_types))
    typeof_impl.register(np.ufunc)(_typeof_ufunc(function_types, typeof_impl.dispatch(np.ufunc)))
