# Type stub of the public API: the six CELU functions, called like NumPy ufuncs.
#
# NumPy arrays (and nested sequences of numbers) in -> NumPy arrays out; scalars in ->
# a NumPy floating scalar out; objects that take over ufuncs (dask, xarray, CuPy
# arrays through __array_ufunc__, CUDA arrays through __cuda_array_interface__) ->
# whatever they return (Any).  alpha is optional (default 1.0); `.ufunc` is the true
# np.ufunc, with alpha required.  NumPy arrays must match none of the duck-array
# protocols: an argument typed NDArray[Any] that matches two overloads makes mypy
# infer Any for the result.
from collections.abc import Sequence
from typing import Any, Literal, Protocol, SupportsIndex, TypeAlias, TypedDict, overload

from typing_extensions import Unpack

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from . import cuda as cuda

__version__: str
__all__: list[str]

class CompileWarning(UserWarning): ...

def compile(
    functions: Sequence[str] | None = None,
    dtypes: Sequence[Literal["float32", "float64"]] = ("float32", "float64"),
    cache_dir: str | None = None,
    report: Any = None,
) -> str: ...

_Float: TypeAlias = np.floating[Any]
_FloatArray: TypeAlias = NDArray[np.floating[Any]]

# Real numbers: float (which accepts int and bool), NumPy real scalars.
_Scalar: TypeAlias = float | np.floating[Any] | np.integer[Any] | np.bool_
# Arrays: NumPy arrays and nested sequences of real numbers (up to 4 levels; a fixed
# depth, because a recursive alias would accept str, itself a sequence of str).
_Seq1: TypeAlias = Sequence[_Scalar]
_Seq2: TypeAlias = Sequence[_Seq1]
_Seq3: TypeAlias = Sequence[_Seq2]
_Seq4: TypeAlias = Sequence[_Seq3]
_Array: TypeAlias = NDArray[Any] | _Seq1 | _Seq2 | _Seq3 | _Seq4
_ArrayOrScalar: TypeAlias = _Array | _Scalar

class _LazyArray(Protocol):
    """Arrays that take over NumPy ufuncs and compute later: dask arrays, xarray objects.

    (``compute`` tells them from NumPy arrays, which must not match here.)
    """

    def __array_ufunc__(self, ufunc: Any, method: Any, /, *inputs: Any, **kwargs: Any) -> Any: ...
    def compute(self, **kwargs: Any) -> Any: ...

class _CudaArray(Protocol):
    """GPU arrays (numba device arrays, CuPy, torch CUDA tensors): computed on the GPU."""

    @property
    def __cuda_array_interface__(self) -> Any: ...

_Duck: TypeAlias = _LazyArray | _CudaArray
_Out: TypeAlias = NDArray[Any] | tuple[NDArray[Any]]
_Out3: TypeAlias = tuple[NDArray[Any] | None, NDArray[Any] | None, NDArray[Any] | None]
_Casting: TypeAlias = Literal["no", "equiv", "safe", "same_kind", "unsafe"]
_Order: TypeAlias = Literal["K", "A", "C", "F"]

class _UfuncKeywords(TypedDict, total=False):
    """The ufunc keywords besides out= (NumPy's defaults: where=True, casting="same_kind",
    order="K", dtype=None, subok=True)."""

    where: ArrayLike
    casting: _Casting
    order: _Order
    dtype: DTypeLike | None
    subok: bool

class _UFuncLike:
    """What every CELU function has: the true ufunc and its read-only attributes."""

    __name__: str
    __qualname__: str
    @property
    def ufunc(self) -> np.ufunc: ...
    @property
    def nin(self) -> int: ...
    @property
    def nout(self) -> int: ...
    @property
    def nargs(self) -> int: ...
    @property
    def ntypes(self) -> int: ...
    @property
    def types(self) -> list[str]: ...
    @property
    def identity(self) -> Any: ...
    @property
    def signature(self) -> str | None: ...
    def __reduce__(self) -> str: ...

class _CeluFunction(_UFuncLike):
    """f(x, alpha=1.0): celu, celu_grad, celu_grad_alpha (2 inputs, 1 output)."""

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self,
        x: _Scalar,
        /,
        alpha: _Scalar = 1.0,
        out: None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> _Float: ...
    @overload
    def __call__(
        self,
        x: _ArrayOrScalar,
        /,
        alpha: _ArrayOrScalar = 1.0,
        out: _Out | None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> _FloatArray: ...
    @overload
    def __call__(self, x: _Duck, /, alpha: _ArrayOrScalar | _Duck = 1.0, out: Any = None, **kwargs: Any) -> Any: ...
    @overload
    def __call__(self, x: _ArrayOrScalar, /, alpha: _Duck, out: Any = None, **kwargs: Any) -> Any: ...
    def outer(
        self,
        x: _ArrayOrScalar,
        /,
        alpha: _ArrayOrScalar = 1.0,
        *,
        out: _Out | None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> _FloatArray: ...  # the grid f(x[i], alpha[j]): celu.outer(xs, alphas)
    def at(
        self,
        a: NDArray[Any],
        indices: SupportsIndex | slice | NDArray[np.integer[Any]] | Sequence[int] | tuple[Any, ...],
        alpha: _ArrayOrScalar = 1.0,
        /,
    ) -> None: ...  # in place: a[indices] = f(a[indices], alpha)
    def reduce(self, array: ArrayLike, /, *args: Any, **kwargs: Any) -> Any: ...
    def accumulate(self, array: ArrayLike, /, *args: Any, **kwargs: Any) -> Any: ...
    def reduceat(self, array: ArrayLike, indices: ArrayLike, /, *args: Any, **kwargs: Any) -> Any: ...

class _CeluBackwardFunction(_UFuncLike):
    """f(grad_out, x_or_y, alpha=1.0): celu_backward, celu_backward_from_output."""

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self,
        grad_out: _Scalar,
        x: _Scalar,
        /,
        alpha: _Scalar = 1.0,
        out: None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> _Float: ...
    @overload
    def __call__(
        self,
        grad_out: _ArrayOrScalar,
        x: _ArrayOrScalar,
        /,
        alpha: _ArrayOrScalar = 1.0,
        out: _Out | None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> _FloatArray: ...
    @overload
    def __call__(
        self,
        grad_out: _Duck,
        x: _ArrayOrScalar | _Duck,
        /,
        alpha: _ArrayOrScalar | _Duck = 1.0,
        out: Any = None,
        **kwargs: Any,
    ) -> Any: ...
    @overload
    def __call__(
        self,
        grad_out: _ArrayOrScalar,
        x: _Duck,
        /,
        alpha: _ArrayOrScalar | _Duck = 1.0,
        out: Any = None,
        **kwargs: Any,
    ) -> Any: ...
    @overload
    def __call__(
        self, grad_out: _ArrayOrScalar, x: _ArrayOrScalar, /, alpha: _Duck, out: Any = None, **kwargs: Any
    ) -> Any: ...

class _CeluAndGradsFunction(_UFuncLike):
    """celu_and_grads(x, alpha=1.0) -> (celu, d/dx, d/dalpha) (2 inputs, 3 outputs)."""

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self,
        x: _Scalar,
        /,
        alpha: _Scalar = 1.0,
        out: None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> tuple[_Float, _Float, _Float]: ...
    @overload
    def __call__(
        self,
        x: _ArrayOrScalar,
        /,
        alpha: _ArrayOrScalar = 1.0,
        out: _Out3 | None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]: ...
    @overload
    def __call__(self, x: _Duck, /, alpha: _ArrayOrScalar | _Duck = 1.0, out: Any = None, **kwargs: Any) -> Any: ...
    @overload
    def __call__(self, x: _ArrayOrScalar, /, alpha: _Duck, out: Any = None, **kwargs: Any) -> Any: ...
    def outer(
        self,
        x: _ArrayOrScalar,
        /,
        alpha: _ArrayOrScalar = 1.0,
        *,
        out: _Out3 | None = None,
        **kwargs: Unpack[_UfuncKeywords],
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]: ...

celu: _CeluFunction
celu_grad: _CeluFunction
celu_grad_alpha: _CeluFunction
celu_backward: _CeluBackwardFunction
celu_backward_from_output: _CeluBackwardFunction
celu_and_grads: _CeluAndGradsFunction
