"""The six CELU functions for arrays in NVIDIA GPU memory, without copies.

``celu_numba.celu(x)`` comes here by itself when an input or ``out`` exposes
``__cuda_array_interface__`` (a numba device array, a CuPy array, a PyTorch CUDA
tensor); the functions can also be called directly::

    >>> import celu_numba.cuda
    >>> celu_numba.cuda.is_available() in (True, False)
    True

Same names, arguments, alpha default, special values and accuracy as the CPU ufuncs,
computed by the same scalar code (``_math``, compiled by numba-cuda; see
``_cuda_kernels``):

* inputs broadcast (a scalar alpha, a per-channel alpha array, any strides);
  ``out=`` (any CUDA array, in place allowed) and ``stream=``; no other ufunc keyword;
* the result is the same kind of array as the first GPU input: CuPy in, CuPy out;
  torch in, torch out; numba (or any other CUDA array) in, numba device array out;
* float32 in gives float32 out, float64 gives float64, integers and bools float64,
  float16 float32 (NumPy's loop selection, scalars weak), computed as the CPU loops
  compute them (float32 in float32 arithmetic, bit for bit the CPU's, see _math);
* host arrays are refused (TypeError): nothing is copied to or from the GPU;
* the kernel is queued on ``stream`` (a numba, CuPy, PyTorch or cuda.core stream,
  or a raw handle), else on the stream the first GPU input names in its
  ``__cuda_array_interface__`` (PyTorch's and CuPy's current stream), so it runs after
  the work that produced its inputs; a call never waits for the GPU.

Without numba-cuda or without a GPU this module still imports; ``is_available()``
and ``status()`` say why not, and every function raises :class:`CudaUnavailableError`.
"""

import importlib.util
import numbers
import sys
import threading

import numpy as np

from . import _api
from ._ufuncs import KERNELS

__all__ = [
    *KERNELS,
    "is_available",
    "status",
    "CudaUnavailableError",
]

INSTALL_HINT = 'pip install "celu-numba[cuda]"'


class CudaUnavailableError(RuntimeError):
    """A GPU function was called where numba-cuda or a CUDA GPU is missing."""


# --- the runtime: numba.cuda, imported on first use


class _Runtime:
    """numba.cuda and what the calls need from it, or why it cannot be used."""

    def __init__(self):
        self.error = None
        self.description = ""
        try:
            self._start()
        except Exception as error:  # noqa: BLE001 - any failure: not usable, say why
            self.error = f"numba.cuda failed to start: {type(error).__name__}: {_first_line(error)}"

    def _start(self):
        if importlib.util.find_spec("numba_cuda") is None:
            self.error = f"numba-cuda is not installed; install it with: {INSTALL_HINT}"
            return
        from numba import cuda

        from . import _cuda_kernels

        self.cuda = cuda
        self.kernels = _cuda_kernels
        self.simulated = _cuda_kernels.simulator()
        version = _cuda_kernels._numba_cuda_version()
        if self.simulated:
            from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

            self.fake_array = FakeCUDAArray
            self.description = (
                f"CUDA simulator (NUMBA_ENABLE_CUDASIM=1): kernels run as Python on the CPU; "
                f"numba-cuda {version}"
            )
            return
        self.fake_array = ()
        if not cuda.is_available():
            reason = _first_line(cuda.cuda_error() or "no CUDA GPU found")
            self.error = f"numba-cuda {version} is installed but no CUDA GPU is usable: {reason}"
            return
        device = cuda.get_current_device()
        name = device.name.decode() if isinstance(device.name, bytes) else str(device.name)
        major, minor = device.compute_capability
        self.description = f"{name} (compute capability {major}.{minor}), numba-cuda {version}"


_runtime_lock = threading.Lock()
_runtime_state = None


def _runtime():
    global _runtime_state
    if _runtime_state is None:
        with _runtime_lock:
            if _runtime_state is None:
                _runtime_state = _Runtime()
    return _runtime_state


def _first_line(text):
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else "unknown reason"


def is_available():
    """True when the GPU functions can run here (numba-cuda and a GPU, or the simulator)."""
    return _runtime().error is None


def status():
    """One line: the GPU the functions run on, or why they cannot run."""
    runtime = _runtime()
    return runtime.error if runtime.error is not None else runtime.description


def _usable_runtime(name):
    runtime = _runtime()
    if runtime.error is not None:
        raise CudaUnavailableError(f"celu_numba.cuda.{name} cannot run: {runtime.error}")
    return runtime


# --- operands

#: dtype codes (kind + itemsize) with a kernel element type, see _cuda_kernels.ELEMENT_TYPES
_KNOWN_CODES = frozenset(["b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"])
_NUMPY_DTYPES = {"f2": np.float16, "f4": np.float32, "f8": np.float64}
_typestr_codes = {}


def _typestr_code(typestr):
    """The dtype code of a __cuda_array_interface__ typestr, or None if no kernel reads it."""
    code = _typestr_codes.get(typestr)
    if code is None and typestr not in _typestr_codes:
        dtype = np.dtype(typestr)
        code = f"{dtype.kind}{dtype.itemsize}"
        if code not in _KNOWN_CODES or not dtype.isnative:
            code = None
        _typestr_codes[typestr] = code
    return code


class _Array:
    """A GPU array seen through its __cuda_array_interface__ (or a faster equivalent).

    strides are in elements (None: C-contiguous); stream is the raw stream handle the
    array names (None: none); kind is the library that made it ("torch", "cupy",
    "numba" or "other"); device the GPU index where the library says (else None).
    """

    __slots__ = ("obj", "kind", "ptr", "shape", "strides", "code", "stream", "device", "readonly")

    def __init__(self, obj, kind, ptr, shape, strides, code, stream, device, readonly):
        self.obj = obj
        self.kind = kind
        self.ptr = ptr
        self.shape = shape
        self.strides = strides
        self.code = code
        self.stream = stream
        self.device = device
        self.readonly = readonly

    def signature(self):
        """What a call plan depends on: kind, dtype, shape, strides, 16-byte alignment."""
        return (self.kind, self.code, self.shape, self.strides, self.ptr & 15)


def _c_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def _f_strides(shape):
    strides, step = [], 1
    for size in shape:
        strides.append(step)
        step *= size
    return tuple(strides)


def _where(where):
    """ "celu: input 0" from (function name, input index or label), for error messages."""
    name, label = where
    return f"{name}: input {label}" if isinstance(label, int) else f"{name}: {label}"


def _read_interface(obj, interface, kind, where, device=None):
    code = _typestr_code(interface["typestr"])
    if code is None:
        raise TypeError(f"{_where(where)} has dtype {np.dtype(interface['typestr'])}, which has no CELU loop")
    if interface.get("mask") is not None:
        raise TypeError(f"{_where(where)} is a masked array; masks are not supported")
    ptr, readonly = interface["data"]
    shape = tuple(interface["shape"])
    strides = interface.get("strides")
    if strides is not None:
        itemsize = int(code[1:])
        if any(s % itemsize for s in strides):
            raise ValueError(f"{_where(where)} has strides {tuple(strides)} that are not whole elements")
        strides = tuple(s // itemsize for s in strides)
        if strides == _c_strides(shape):
            strides = None
    return _Array(obj, kind, ptr or 0, shape, strides, code, interface.get("stream"), device, bool(readonly))


def _read_numba(obj, runtime, where):
    return _read_interface(obj, obj.__cuda_array_interface__, "numba", where)


def _read_other(obj, runtime, where):
    return _read_interface(obj, obj.__cuda_array_interface__, "other", where)


def _read_cupy(obj, runtime, where):
    return _read_interface(obj, obj.__cuda_array_interface__, "cupy", where, obj.device.id)


def _read_simulated(obj, runtime, where):
    # the simulator's device arrays hold a NumPy array (host memory, as its kernels use)
    return _read_interface(obj, obj._ary.__array_interface__, "numba", where)


_TORCH_CODES = {}


def _read_torch(tensor, runtime, where):
    torch = sys.modules["torch"]
    if not _TORCH_CODES:
        for name, code in (("float16", "f2"), ("float32", "f4"), ("float64", "f8"), ("int8", "i1"),
                           ("int16", "i2"), ("int32", "i4"), ("int64", "i8"), ("uint8", "u1"), ("bool", "b1")):
            _TORCH_CODES[getattr(torch, name)] = code
    if not tensor.is_cuda:
        raise TypeError(
            f"{_where(where)} is a PyTorch tensor in host memory; the GPU functions take GPU arrays only "
            "(celu_numba's CPU functions take host arrays)"
        )
    if tensor.requires_grad:
        raise TypeError(
            f"{_where(where)} requires grad: celu_numba is not recorded by autograd; pass tensor.detach() "
            "(celu_backward and celu_and_grads give the gradients)"
        )
    code = _TORCH_CODES.get(tensor.dtype)
    if code is None:
        raise TypeError(f"{_where(where)} has dtype {tensor.dtype}, which has no CELU loop")
    shape = tuple(tensor.shape)
    strides = tuple(tensor.stride())
    if strides == _c_strides(shape):
        strides = None
    device = tensor.get_device()
    return _Array(tensor, "torch", tensor.data_ptr(), shape, strides, code, _torch_stream(torch, device), device, False)


def _torch_stream(torch, device):
    """The raw handle of PyTorch's current stream on `device`."""
    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)  # what torch's own compiler calls
    return raw(device) if raw is not None else torch.cuda.current_stream(device).cuda_stream


_readers = {}


def _reader(cls, runtime):
    """How to read a GPU array of this class (None: not a GPU array), decided once per class."""
    reader = _readers.get(cls, False)
    if reader is False:
        torch, cupy = sys.modules.get("torch"), sys.modules.get("cupy")
        if cls in (float, int, bool, np.ndarray) or issubclass(cls, np.generic):
            reader = None
        elif torch is not None and issubclass(cls, torch.Tensor):
            reader = _read_torch
        elif cupy is not None and issubclass(cls, cupy.ndarray):
            reader = _read_cupy
        elif runtime.simulated and issubclass(cls, runtime.fake_array):
            reader = _read_simulated
        elif cls.__module__.startswith("numba") and hasattr(cls, "__cuda_array_interface__"):
            reader = _read_numba
        elif hasattr(cls, "__cuda_array_interface__"):
            reader = _read_other
        else:
            reader = _maybe_other
        _readers[cls] = reader
    return reader


def _maybe_other(obj, runtime, where):
    """An object of an unknown class: a GPU array if it has the interface (per instance)."""
    if hasattr(obj, "__cuda_array_interface__"):
        return _read_other(obj, runtime, where)
    return None


def _as_array(obj, runtime, where):
    """The _Array of a GPU array, or None if obj is not one."""
    reader = _reader(type(obj), runtime)
    return reader(obj, runtime, where) if reader is not None else None


def _scalar_kind(value, where):
    """The type-resolution kind of a scalar: a dtype code (strong) or "py..." (weak)."""
    if type(value) is float:
        return "pyfloat"
    if isinstance(value, bool):
        return "pybool"
    if isinstance(value, numbers.Integral) and not isinstance(value, np.generic):
        return "pyint"
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        dtype = np.asarray(value).dtype
        code = f"{dtype.kind}{dtype.itemsize}"
        if code in _KNOWN_CODES:
            return code
        raise TypeError(f"{_where(where)} has dtype {dtype}, which has no CELU loop")
    if isinstance(value, numbers.Real):
        return "pyfloat"
    if isinstance(value, np.ndarray) or hasattr(value, "__array__") or hasattr(value, "__array_interface__"):
        raise TypeError(
            f"{_where(where)} is an array in host memory ({type(value).__name__}); the GPU functions never copy "
            "to or from the GPU: move it first (cupy.asarray, torch.as_tensor(..., device='cuda'), "
            "numba.cuda.to_device), or call celu_numba's CPU functions with host arrays only"
        )
    raise TypeError(f"{_where(where)} must be a GPU array or a real scalar, got {type(value).__name__}")


# --- type resolution: NumPy's loop search over the CPU ufunc's loops


def _code_dtype(code):
    names = {"b": "bool", "i": "int", "u": "uint", "f": "float"}
    return np.dtype("bool" if code == "b1" else f"{names[code[0]]}{8 * int(code[1:])}")


def _accepts(kind, target):
    """Whether an operand of this kind may be used by a loop input of dtype target."""
    if kind in ("pybool", "pyint"):
        return True
    if kind == "pyfloat":
        return target != "i4"
    return np.can_cast(_code_dtype(kind), _code_dtype(target), "safe")


def _resolve_loop(kinds):
    """(input dtype codes of the loop, loop dtype code) for operands of these kinds.

    The loops are the CPU ufunc's, in its order ('i..id->d', 'f..f', 'd..d'; see
    _ufunc.loop_types); the first whose inputs accept every operand by safe casting
    (Python scalars weak, NEP 50) is the one NumPy picks.
    """
    nin = len(kinds)
    candidates = [(("i4",) * (nin - 1) + ("f8",), "f8"), (("f4",) * nin, "f4"), (("f8",) * nin, "f8")]
    for inputs, result in candidates:
        if all(_accepts(kind, target) for kind, target in zip(kinds, inputs)):
            return inputs, result
    raise TypeError(f"no CELU loop for inputs of kinds {kinds} (complex or unsupported dtypes)")


def _scalar_value(value, target):
    """A scalar operand as the float64 the kernel receives: cast to the loop input first."""
    if target == "f4":
        return float(np.float32(value))
    if target == "i4":
        return float(int(value))
    return float(value)


# --- layout: broadcasting, merging dimensions


def _broadcast_strides(array, shape):
    """Element strides of `array` broadcast to `shape` (0 along broadcast dimensions)."""
    own = array.strides if array.strides is not None else _c_strides(array.shape)
    pad = len(shape) - len(array.shape)
    return tuple(
        [0] * pad
        + [0 if size == 1 and full != 1 else stride for size, full, stride in zip(array.shape, shape[pad:], own)]
    )


def _merge_dimensions(shape, strides_list):
    """Drop size-1 dimensions and merge neighbours that every operand walks contiguously."""
    new_shape, new_strides = [], [[] for _ in strides_list]
    for d, size in enumerate(shape):
        if size == 1:
            continue
        if new_shape and all(s[-1] == own[d] * size for s, own in zip(new_strides, strides_list)):
            new_shape[-1] *= size
            for s, own in zip(new_strides, strides_list):
                s[-1] = own[d]
        else:
            new_shape.append(size)
            for s, own in zip(new_strides, strides_list):
                s.append(own[d])
    return new_shape, [tuple(s) for s in new_strides]


def _span(strides, shape):
    """(lowest, highest) element offset an operand reaches."""
    low = sum(s * (n - 1) for s, n in zip(strides, shape) if s < 0)
    high = sum(s * (n - 1) for s, n in zip(strides, shape) if s > 0)
    return low, high


def _layout(shape, order, operands, nout):
    """How a kernel walks the operands (GPU inputs, then outputs) over `shape`.

    ("flat", modes): every operand is walked in the result's element order with unit
    stride (mode "a") or is one element (mode "o"); else ("strided", shape, strides)
    with dimensions merged where every operand allows.
    """
    contiguous = _c_strides(shape) if order == "C" else _f_strides(shape)
    if all(a.shape == shape and (a.strides is None if order == "C" else a.strides == contiguous)
           for a in operands):
        return ("flat", ("a",) * len(operands))
    strides = [_broadcast_strides(a, shape) for a in operands]
    merged_shape, merged = _merge_dimensions(shape, strides)
    if len(merged_shape) <= 1:
        modes = tuple("o" if s == (0,) else "a" for s in merged)
        if all(s in ((), (0,), (1,)) for s in merged) and "o" not in modes[len(modes) - nout:]:
            return ("flat", modes)
    return ("strided", tuple(merged_shape), merged)


# --- plans: everything about a call that its operands' signatures decide


class _Plan:
    """The kernel, the outputs to allocate and the argument recipe for one call signature.

    template -- the kernel's arguments after n, constants filled in
    pointers -- (position, operand, byte offset, element count, dtype code) to fill
    scalars  -- (position, input, loop input dtype code) to fill
    """

    __slots__ = ("kernel", "n", "shape", "loop", "order", "allocate", "template", "pointers", "scalars")


def _make_plan(name, nin, nout, arrays, kinds, out_arrays, runtime):
    plan = _Plan()
    in_codes, loop = _resolve_loop(tuple(kinds))
    present = [a for a in arrays if a is not None] + [a for a in out_arrays if a is not None]
    shape = present[0].shape
    if any(a.shape != shape for a in present):
        try:
            shape = tuple(np.broadcast_shapes(*[a.shape for a in present]))
        except ValueError:
            raise ValueError(
                f"{name}: operands could not be broadcast together with shapes "
                + " ".join(str(a.shape) for a in present)
            ) from None
        for o, array in enumerate(out_arrays):
            if array is not None and array.shape != shape:
                raise ValueError(f"{name}: out[{o}] has shape {array.shape}, the result has shape {shape}")
    full = [a for a in arrays if a is not None and a.shape == shape]
    fortran = len(shape) > 1 and full and all(a.strides == _f_strides(shape) for a in full)
    plan.shape, plan.loop, plan.order = shape, loop, "F" if fortran else "C"
    plan.n = n = _size(shape)
    plan.allocate = tuple(o for o in range(nout) if out_arrays[o] is None)
    plan.kernel = None
    if n == 0:
        return plan
    # the outputs as they will be: given, or new and contiguous in plan.order
    contiguous = None if plan.order == "C" else _f_strides(shape)
    outputs = [
        a if a is not None else _Array(None, "new", 0, shape, contiguous, loop, None, None, False)
        for a in out_arrays
    ]
    operands = [a for a in arrays if a is not None] + outputs
    positions = [k for k in range(nin) if arrays[k] is not None] + [nin + o for o in range(nout)]
    layout = _layout(shape, plan.order, operands, nout)
    kernels = runtime.kernels
    template, pointers, scalars = [], [], []
    input_modes = []
    if layout[0] == "flat":
        modes = dict(zip(positions, layout[1]))
        aligned = True
        for k in range(nin + nout):
            if k < nin and arrays[k] is None:
                input_modes.append("s")
                scalars.append((len(template), k, in_codes[k]))
                template.append(None)
                continue
            array = arrays[k] if k < nin else outputs[k - nin]
            mode = modes[k]
            if k < nin:
                input_modes.append(mode)
            pointers.append((len(template), k, 0, n if mode == "a" else 1, array.code))
            template.append(None)
            if mode == "a":
                # new outputs are aligned (every allocator gives >= 256 bytes)
                needed = kernels.alignment(array.code, name, loop)
                aligned = aligned and (array.kind == "new" or (array.ptr % needed) == 0)
        kernel_layout = ("flat", tuple(input_modes), aligned)
    else:
        _, merged_shape, merged = layout
        template.extend(merged_shape)
        strides = dict(zip(positions, merged))
        for k in range(nin + nout):
            if k < nin and arrays[k] is None:
                scalars.append((len(template), k, in_codes[k]))
                template.append(None)
                continue
            array = arrays[k] if k < nin else outputs[k - nin]
            low, high = _span(strides[k], merged_shape)
            itemsize = int(array.code[1:])
            # the pointer to the lowest element reached, the offset of element 0 from it
            pointers.append((len(template), k, low * itemsize, high - low + 1, array.code))
            template.append(None)
            template.append(-low)
            template.extend(strides[k])
        kernel_layout = ("strided", len(merged_shape))
    inputs_key = tuple("s" if a is None else a.code for a in arrays)
    key = kernels.KernelKey(name, inputs_key, loop, tuple(a.code for a in outputs), kernel_layout)
    plan.kernel = kernels.get_kernel(key)
    plan.template, plan.pointers, plan.scalars = template, tuple(pointers), tuple(scalars)
    return plan


_plans = {}
_MAX_PLANS = 4096


# --- the calls


def _outputs_tuple(out, nout, name):
    if out is None:
        return (None,) * nout
    if not isinstance(out, tuple):
        out = (out,)
    if len(out) != nout:
        raise ValueError(f"{name}: out must have {nout} array(s), got {len(out)}")
    return out


def _stream_handle(stream):
    """A raw CUDA stream handle (int) from a numba, CuPy, PyTorch or cuda.core stream."""
    if isinstance(stream, numbers.Integral):
        return int(stream)
    protocol = getattr(stream, "__cuda_stream__", None)
    if protocol is not None:
        handle = protocol() if callable(protocol) else protocol
        return int(handle[1])
    for attribute in ("cuda_stream", "ptr", "handle"):  # torch, cupy, numba (old)
        handle = getattr(stream, attribute, None)
        if handle is not None:
            return int(getattr(handle, "value", handle) or 0)
    raise TypeError(f"stream must be a CUDA stream or a stream handle, got {type(stream).__name__}")


def _allocate(first, shape, code, order, runtime):
    """A new GPU array like the first GPU operand's library makes, and its address."""
    dtype = _NUMPY_DTYPES[code]
    if first.kind == "torch":
        torch = sys.modules["torch"]
        torch_dtype = {"f2": torch.float16, "f4": torch.float32, "f8": torch.float64}[code]
        if order == "F":
            tensor = torch.empty_strided(shape, _f_strides(shape), dtype=torch_dtype, device=first.obj.device)
        else:
            tensor = torch.empty(shape, dtype=torch_dtype, device=first.obj.device)
        return tensor, tensor.data_ptr()
    if first.kind == "cupy":
        array = sys.modules["cupy"].empty(shape, dtype=dtype, order=order)
        return array, array.data.ptr
    array = runtime.cuda.device_array(shape, dtype=dtype, order=order)
    if runtime.simulated:
        return array, array._ary.__array_interface__["data"][0]
    return array, array.__cuda_array_interface__["data"][0] or 0


def _apply(name, inputs, out, stream):
    runtime = _runtime_state if _runtime_state is not None and _runtime_state.error is None else None
    if runtime is None:
        runtime = _usable_runtime(name)
    nin, nout, _ = KERNELS[name]
    alpha = inputs[-1]
    if type(alpha) is not float or not alpha >= 0:
        _api.check_alpha(alpha)  # scalars only: raises for alpha < 0 or NaN

    arrays, kinds, signature = [], [], [name]
    for k, value in enumerate(inputs):
        array = _as_array(value, runtime, (name, k))
        arrays.append(array)
        if array is None:
            kind = _scalar_kind(value, (name, k))
            kinds.append(kind)
            signature.append(kind)
        else:
            kinds.append(array.code)
            signature.append(array.signature())
    outs = _outputs_tuple(out, nout, name)
    out_arrays = []
    for o, value in enumerate(outs):
        array = None
        if value is not None:
            array = _as_array(value, runtime, (name, f"out[{o}]"))
            if array is None:
                raise TypeError(f"{name}: out[{o}] must be a GPU array, got {type(value).__name__}")
            if array.code[0] != "f":
                raise TypeError(
                    f"{name}: cannot store the float result in out[{o}] of dtype {_code_dtype(array.code)} "
                    "(casting='same_kind')"
                )
            if array.readonly:
                raise ValueError(f"{name}: out[{o}] is read-only")
        out_arrays.append(array)
        signature.append(None if array is None else array.signature())
    first = next((a for a in arrays + out_arrays if a is not None), None)
    if first is None:
        raise TypeError(f"{name}: no GPU array among the arguments (the GPU functions take GPU arrays)")

    signature = tuple(signature)
    plan = _plans.get(signature)
    if plan is None:
        plan = _make_plan(name, nin, nout, arrays, kinds, out_arrays, runtime)
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()
        _plans[signature] = plan
    if first.device not in (None, 0):  # a PyTorch or CuPy array on another GPU: run there
        with runtime.cuda.gpus[first.device]:
            return _run(plan, runtime, inputs, arrays, outs, out_arrays, first, stream)
    return _run(plan, runtime, inputs, arrays, outs, out_arrays, first, stream)


def _run(plan, runtime, inputs, arrays, outs, out_arrays, first, stream):
    results = list(outs)
    addresses = [None if a is None else a.ptr for a in arrays] + [None if a is None else a.ptr for a in out_arrays]
    nin = len(arrays)
    for o in plan.allocate:
        results[o], addresses[nin + o] = _allocate(first, plan.shape, plan.loop, plan.order, runtime)
    if plan.kernel is not None:
        args = list(plan.template)
        simulated = runtime.simulated
        for position, k, offset, count, code in plan.pointers:
            address = addresses[k] + offset
            args[position] = _host_view(address, count, code, runtime) if simulated else address
        for position, k, target in plan.scalars:
            value = inputs[k]
            args[position] = value if type(value) is float and target == "f8" else _scalar_value(value, target)
        handle = _stream_handle(stream) if stream is not None else (first.stream or 0)
        plan.kernel(plan.n, args, handle)
    return results[0] if len(results) == 1 else tuple(results)


def _size(shape):
    n = 1
    for size in shape:
        n *= size
    return n


def _host_view(address, count, code, runtime):
    """Under the simulator, a kernel's pointer argument: a NumPy view of host memory."""
    dtype = np.dtype(runtime.kernels.ELEMENT_TYPES[code])
    return np.asarray(_HostMemory(address, count, dtype))


class _HostMemory:
    """Raw host memory as a 1-d NumPy array (the simulator's "device" memory)."""

    def __init__(self, address, count, dtype):
        self.__array_interface__ = {"data": (address, False), "shape": (count,), "typestr": dtype.str, "version": 3}


def _check_keywords(name, kwargs):
    for keyword in kwargs:
        raise TypeError(
            f"celu_numba.cuda.{name}() got the keyword {keyword!r}; on the GPU only out= and stream= are "
            "supported"
        )


# --- the six functions


def celu(x, alpha=_api.DEFAULT_ALPHA, *, out=None, stream=None, **kwargs):
    """celu(x, alpha=1.0) on the GPU: max(0, x) + min(0, alpha * expm1(x / alpha))."""
    _check_keywords("celu", kwargs)
    return _apply("celu", (x, alpha), out, stream)


def celu_grad(x, alpha=_api.DEFAULT_ALPHA, *, out=None, stream=None, **kwargs):
    """celu_grad(x, alpha=1.0) on the GPU: dCELU/dx, 1 (x >= 0) or exp(x / alpha)."""
    _check_keywords("celu_grad", kwargs)
    return _apply("celu_grad", (x, alpha), out, stream)


def celu_grad_alpha(x, alpha=_api.DEFAULT_ALPHA, *, out=None, stream=None, **kwargs):
    """celu_grad_alpha(x, alpha=1.0) on the GPU: dCELU/dalpha, 0 (x >= 0) or exp(z)(1 - z) - 1."""
    _check_keywords("celu_grad_alpha", kwargs)
    return _apply("celu_grad_alpha", (x, alpha), out, stream)


def celu_backward(grad_out, x, alpha=_api.DEFAULT_ALPHA, *, out=None, stream=None, **kwargs):
    """celu_backward(grad_out, x, alpha=1.0) on the GPU: grad_out * dCELU/dx."""
    _check_keywords("celu_backward", kwargs)
    return _apply("celu_backward", (grad_out, x, alpha), out, stream)


def celu_backward_from_output(grad_out, y, alpha=_api.DEFAULT_ALPHA, *, out=None, stream=None, **kwargs):
    """celu_backward_from_output(grad_out, y, alpha=1.0) on the GPU: grad_out * dCELU/dx from y."""
    _check_keywords("celu_backward_from_output", kwargs)
    return _apply("celu_backward_from_output", (grad_out, y, alpha), out, stream)


def celu_and_grads(x, alpha=_api.DEFAULT_ALPHA, *, out=None, stream=None, **kwargs):
    """celu_and_grads(x, alpha=1.0) on the GPU: (celu, dCELU/dx, dCELU/dalpha) in one pass."""
    _check_keywords("celu_and_grads", kwargs)
    return _apply("celu_and_grads", (x, alpha), out, stream)
