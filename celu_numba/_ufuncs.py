"""The six raw ``np.ufunc`` objects, each built (compiled) on first access.

``celu_numba._ufuncs.celu`` is the true ufunc behind ``celu_numba.celu``; its
``__module__`` points here, so ufuncs pickle by reference and unpickle by
importing this module and reading the attribute, which builds it if needed.
"""

import threading

from . import _math
from ._ufunc import make_ufunc

#: name -> (scalar kernel, nin, nout, one-line docstring of the raw ufunc)
KERNELS = {
    "celu": (_math.celu, 2, 1, "celu(x, alpha): CELU value, max(0, x) + min(0, alpha*expm1(x/alpha))."),
    "celu_grad": (_math.celu_grad, 2, 1, "celu_grad(x, alpha): dCELU/dx, 1 (x >= 0) or exp(x/alpha)."),
    "celu_grad_alpha": (
        _math.celu_grad_alpha,
        2,
        1,
        "celu_grad_alpha(x, alpha): dCELU/dalpha, 0 (x >= 0) or exp(z)(1 - z) - 1, z = x/alpha.",
    ),
    "celu_backward": (
        _math.celu_backward,
        3,
        1,
        "celu_backward(grad_out, x, alpha): grad_out * dCELU/dx.",
    ),
    "celu_backward_from_output": (
        _math.celu_backward_from_output,
        3,
        1,
        "celu_backward_from_output(grad_out, y, alpha): grad_out * (y/alpha + 1) for y < 0, else grad_out.",
    ),
    "celu_and_grads": (
        _math.celu_and_grads,
        2,
        3,
        "celu_and_grads(x, alpha): (celu, dCELU/dx, dCELU/dalpha) in one pass.",
    ),
}

_built = {}
_lock = threading.Lock()


def __getattr__(name):
    if name not in KERNELS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        if name not in _built:
            kernel, nin, nout, doc = KERNELS[name]
            _built[name] = make_ufunc(kernel, name, nin, nout, doc, __name__)
    return _built[name]


def __dir__():
    return sorted(KERNELS)
