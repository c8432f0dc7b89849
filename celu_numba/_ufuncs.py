"""The six raw ``np.ufunc`` objects, each built (compiled) on first access.

``celu_numba._ufuncs.celu`` is the true ufunc behind ``celu_numba.celu``; its
``__module__`` points here, so ufuncs pickle by reference and unpickle by
importing this module and reading the attribute, which builds it if needed.
"""

import sys
import threading
import warnings

# numba is imported with the package, not by the first call: a call after the import then
# only links compiled code from the cache (milliseconds); numba's import is most of
# either's time
import numba  # noqa: F401

#: name of the scalar kernel in _math -> (nin, nout, one-line docstring of the raw ufunc)
KERNELS = {
    "celu": (2, 1, "celu(x, alpha): CELU value, max(0, x) + min(0, alpha*expm1(x/alpha))."),
    "celu_grad": (2, 1, "celu_grad(x, alpha): dCELU/dx, 1 (x >= 0) or exp(x/alpha)."),
    "celu_grad_alpha": (
        2,
        1,
        "celu_grad_alpha(x, alpha): dCELU/dalpha, 0 (x >= 0) or exp(z)(1 - z) - 1, z = x/alpha.",
    ),
    "celu_backward": (
        3,
        1,
        "celu_backward(grad_out, x, alpha): grad_out * dCELU/dx.",
    ),
    "celu_backward_from_output": (
        3,
        1,
        "celu_backward_from_output(grad_out, y, alpha): grad_out * (y/alpha + 1) for y < 0, else grad_out.",
    ),
    "celu_and_grads": (
        2,
        3,
        "celu_and_grads(x, alpha): (celu, dCELU/dx, dCELU/dalpha) in one pass.",
    ),
}

_built = {}
_lock = threading.Lock()


class CompileWarning(UserWarning):
    """Said once per function and dtype when a call compiles its loop (a second or so)
    rather than loading the compiled code from the cache; ``warnings.filterwarnings("ignore",
    category=celu_numba.CompileWarning)`` silences it."""


def _caller_level():
    """The stacklevel of warnings.warn that names the first frame outside celu_numba."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("celu_numba"):
        level, frame = level + 1, frame.f_back
    return level


def _announcer():
    """A function announce(what) that warns, the first time it is called with `what`
    ("celu for float32"), that `what` is compiling."""
    said = set()

    def announce(what):
        if what not in said:
            from ._cache import cache_dir

            said.add(what)
            warnings.warn(
                f"celu_numba: compiling {what} (first use with this cache, a second or two; "
                f"cached in {cache_dir()} for later processes; "
                "`python -m celu_numba compile` does it ahead of time)",
                CompileWarning,
                stacklevel=_caller_level(),
            )

    return announce


_announce = _announcer()  # one for the process: each thing is announced once


def build(name):
    """The ufunc `name`, built on first use (compiled, or loaded from the cache).  An
    error while building reaches the caller as itself, and the next call tries again."""
    with _lock:
        if name not in _built:
            from ._ufunc import make_ufunc

            nin, nout, doc = KERNELS[name]
            _built[name] = make_ufunc(name, nin, nout, doc, __name__, announce=_announce)
    return _built[name]


def __getattr__(name):
    if name not in KERNELS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return build(name)


def __dir__():
    return sorted(KERNELS)
