"""The public, ufunc-like objects: alpha default and validation, GPU dispatch.

Each object wraps one true ``np.ufunc`` (``.ufunc``, built on first use by
``_ufuncs``) and is called exactly like it, with alpha optional (default 1.0).
A scalar alpha must be >= 0 (ValueError otherwise); an array alpha gives NaN where
an entry is negative or NaN, as NumPy does for values outside a domain.  Inputs that
expose ``__cuda_array_interface__`` go to ``celu_numba.cuda``; NumPy arrays never do.
"""

import numbers
import sys

import numpy as np

from . import _ufuncs

DEFAULT_ALPHA = 1.0


def check_alpha(alpha):
    """Raise ValueError for a scalar alpha that is negative or NaN; arrays pass."""
    if isinstance(alpha, (numbers.Real, np.generic)) or (
        isinstance(alpha, np.ndarray) and alpha.ndim == 0
    ):
        if not alpha >= 0:
            raise ValueError(
                f"alpha must be >= 0 (0 is ReLU, inf the identity), got alpha={alpha!r}"
            )


#: Types that never live on a GPU: skips the __cuda_array_interface__ look-up.
_HOST_TYPES = frozenset([np.ndarray, float, int, bool, np.float64, np.float32, np.float16])


def _exposes_cuda(value):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.is_cuda  # torch builds the whole interface just to answer hasattr
    try:
        return hasattr(value, "__cuda_array_interface__")
    except Exception:  # noqa: BLE001 - a CUDA array that refuses to export itself
        return True  # (a torch tensor that requires grad): the GPU side says why


def _on_gpu(values):
    for v in values:  # a loop, not any(generator): this runs on every call
        if type(v) not in _HOST_TYPES and _exposes_cuda(v):
            return True
    return False


def _is_dask(value):
    return type(value).__module__.startswith("dask.")


def _dask_multi_output(ufunc, args):
    """ufunc (nout > 1) over dask inputs, lazily, block by block.

    dask's ``__array_ufunc__`` declines ufuncs with several outputs unless dask.array has
    one of the same name, so celu_and_grads(dask_array) is built here with
    ``da.apply_gufunc``; Python scalars stay Python scalars (weak types, NEP 50).
    """
    import dask.array as da

    is_scalar = [isinstance(a, (bool, int, float)) for a in args]
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    lazy = [da.broadcast_to(da.asarray(a), shape) for a, s in zip(args, is_scalar) if not s]
    lazy = [a.rechunk(lazy[0].chunks) for a in lazy]  # one block grid for all inputs

    def on_blocks(*blocks):
        it = iter(blocks)
        return ufunc(*[a if s else next(it) for a, s in zip(args, is_scalar)])

    it = iter(lazy)
    probe = ufunc(*[a if s else np.ones(1, next(it).dtype) for a, s in zip(args, is_scalar)])
    signature = ",".join(["()"] * len(lazy)) + "->" + ",".join(["()"] * ufunc.nout)
    return da.apply_gufunc(on_blocks, signature, *lazy, output_dtypes=[r.dtype for r in probe])


class CeluFunction:
    """A CELU function called like a NumPy ufunc, with alpha optional (the call itself is
    in the subclasses, FunctionOfX and FunctionOfGradOut, one per signature).

    Attributes and methods of the underlying ufunc (``nin``, ``nout``, ``types``,
    ``outer``, ``at``, ``reduce``, ...) are forwarded to ``.ufunc``.
    """

    def __init__(self, name, doc):
        self.__name__ = self.__qualname__ = name
        self.__module__ = "celu_numba"
        self.__doc__ = doc
        self._nin, self._nout, _ = _ufuncs.KERNELS[name]
        self._ufunc = None

    @property
    def ufunc(self):
        """The true ``np.ufunc`` (alpha is a required input there), built on first use."""
        if self._ufunc is None:
            self._ufunc = _ufuncs.build(self.__name__)
        return self._ufunc

    def _with_alpha(self, args, kwargs):
        """args with alpha filled in (default 1.0, or alpha=) and checked."""
        nin = self._nin
        if len(args) < nin:
            args = (*args, kwargs.pop("alpha", DEFAULT_ALPHA) if kwargs else DEFAULT_ALPHA)
        elif kwargs and "alpha" in kwargs:
            raise TypeError(f"{self.__name__}() got alpha both as an argument and as alpha=")
        alpha = args[nin - 1]
        if type(alpha) is not float or not alpha >= 0:  # a plain valid float: nothing to check
            check_alpha(alpha)
        return args

    def _call(self, args, kwargs):
        """The general call (the subclasses' __call__ takes the common one): alpha filled
        in and checked, GPU and dask inputs dispatched."""
        args = self._with_alpha(args, kwargs)
        if _on_gpu(args) or (kwargs and _on_gpu(_outputs(kwargs))):
            from . import cuda

            return getattr(cuda, self.__name__)(*args, **kwargs)
        if self._nout > 1 and any(_is_dask(a) for a in args):
            if kwargs:
                raise TypeError(f"{self.__name__}: out=, where=, ... are not supported with dask inputs")
            return _dask_multi_output(self.ufunc, args)
        return (self._ufunc or self.ufunc)(*args, **kwargs)

    def outer(self, *args, **kwargs):
        """ufunc.outer with alpha optional: ``celu.outer(xs, alphas)`` is the grid of curves."""
        return self.ufunc.outer(*self._with_alpha(args, kwargs), **kwargs)

    def at(self, a, indices, *args):
        """ufunc.at, in place: ``celu.at(y, idx, alpha)`` (alpha optional)."""
        values = self._with_alpha((a, *args), {})[1:]
        return self.ufunc.at(a, indices, *values)

    def __getattr__(self, name):
        # only np.ufunc's own attributes are forwarded (they build the ufunc): inspect,
        # help() and numba's compiler probe other names, which must build nothing
        if name == "ufunc":
            # the property raised AttributeError while building the ufunc, and Python
            # came here instead of showing it: build again, to raise it as itself
            return _ufuncs.build(self.__name__)
        if name.startswith("_") or not hasattr(np.ufunc, name):
            raise AttributeError(name)
        return getattr(self.ufunc, name)

    def __repr__(self):
        return f"<celu_numba function {self.__name__!r}>"

    def __reduce__(self):
        return self.__name__  # pickled by reference: celu_numba.<name>


# The common call (NumPy arrays, alpha a valid float, left out, or an array of ndim >= 1,
# no keyword but out= with one array) goes straight to the ufunc from the subclasses'
# __call__, which name their parameters so that Python binds them: no args tuple to
# splice, no helper to call, no alpha to fill in (a sub-microsecond saving that is a
# third of a 1000-element call; asv's TimeCallOverhead times the public object against
# the raw ufunc).  Everything else takes the general path, CeluFunction._call.

_ndarray = np.ndarray
# alpha's default in the signatures: DEFAULT_ALPHA, as a float object of its own, so that
# `alpha is _DEFAULT` tells an alpha not given (or given as alpha=) from a given 1.0
_DEFAULT = float(str(DEFAULT_ALPHA))

# A Python-float alpha costs NumPy about 0.3 us per call (a weak scalar to convert and
# promote, NEP 50) that a 0-d array of the inputs' dtype does not: asv's
# TimeCallOverhead, and ratios.py's 1000-element row.  The common call passes the last
# such alpha as a cached 0-d array of that dtype: the same value, since NumPy converts the
# float to the loop's dtype anyway.  Only for float32 and float64 inputs (an integer or
# float16 input takes a loop of another dtype) and alpha > 0 (not -0.0 nor 0.0, which
# compare equal) within float32's range (NumPy warns of an overflowing cast itself).
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_last_alpha = (None, None, None)  # (alpha, dtype, 0-d array), replaced whole (threads)


def _alpha_operand(alpha, dtype):
    """alpha (a Python float > 0) as the cached 0-d array of `dtype`, or alpha itself
    where that is not the same call (see above)."""
    global _last_alpha
    value, cached_dtype, array = _last_alpha
    if value == alpha and cached_dtype is dtype:
        return array
    if (dtype is _FLOAT64 or dtype is _FLOAT32) and alpha <= _FLOAT32_MAX:
        array = np.array(alpha, dtype)
        array.flags.writeable = False
        _last_alpha = (alpha, dtype, array)
        return array
    return alpha


def _given(positional, alpha, args, out, kwargs):
    """The call as CeluFunction._call takes it, rebuilt from a subclass's signature."""
    if alpha is not _DEFAULT:
        positional = (*positional, alpha)
    if out is not None:
        kwargs["out"] = out
    return (*positional, *args), kwargs


class FunctionOfX(CeluFunction):
    """celu, celu_grad, celu_grad_alpha and celu_and_grads: f(x, alpha=1.0)."""

    def __call__(self, x, alpha=_DEFAULT, /, *args, out=None, **kwargs):
        ufunc = self._ufunc
        if (
            ufunc is not None
            and type(x) is _ndarray
            and ((type(alpha) is float and alpha >= 0.0) or (type(alpha) is _ndarray and alpha.ndim))
            and not (args or kwargs)
            and (out is None or type(out) is _ndarray)
        ):
            # (an array alpha's invalid entries give NaN; out=None is refused by NumPy 2.4's
            # ufuncs with several outputs, so it is left out)
            if type(alpha) is float and alpha > 0.0:
                alpha = _alpha_operand(alpha, x.dtype)
            return ufunc(x, alpha) if out is None else ufunc(x, alpha, out=out)
        return self._call(*_given((x,), alpha, args, out, kwargs))


class FunctionOfGradOut(CeluFunction):
    """celu_backward and celu_backward_from_output: f(grad_out, x_or_y, alpha=1.0)."""

    def __call__(self, grad_out, x, alpha=_DEFAULT, /, *args, out=None, **kwargs):
        ufunc = self._ufunc
        if (
            ufunc is not None
            and type(grad_out) is _ndarray
            and type(x) is _ndarray
            and ((type(alpha) is float and alpha >= 0.0) or (type(alpha) is _ndarray and alpha.ndim))
            and not (args or kwargs)
            and (out is None or type(out) is _ndarray)
        ):
            if type(alpha) is float and alpha > 0.0 and grad_out.dtype is x.dtype:
                alpha = _alpha_operand(alpha, x.dtype)
            return ufunc(grad_out, x, alpha) if out is None else ufunc(grad_out, x, alpha, out=out)
        return self._call(*_given((grad_out, x), alpha, args, out, kwargs))


def public_function(name, doc):
    """The public object for the ufunc `name`: a CeluFunction with the call signature of
    its number of inputs."""
    nin = _ufuncs.KERNELS[name][0]
    return (FunctionOfX if nin == 2 else FunctionOfGradOut)(name, doc)


def _outputs(kwargs):
    out = kwargs.get("out")
    if out is None:
        return ()
    return out if isinstance(out, tuple) else (out,)
