"""CELU (Barron 2017) and its gradients as NumPy ufuncs compiled with numba.

    celu(x, alpha=1.0) = max(0, x) + min(0, alpha * expm1(x / alpha))
"""

import importlib.util
import os
import sys

from . import _ufuncs
from ._api import public_function
from ._compile import compile
from ._docs import DOCS
from ._ufuncs import CompileWarning

__version__ = "0.1.0"

celu = public_function("celu", DOCS["celu"])
celu_grad = public_function("celu_grad", DOCS["celu_grad"])
celu_grad_alpha = public_function("celu_grad_alpha", DOCS["celu_grad_alpha"])
celu_backward = public_function("celu_backward", DOCS["celu_backward"])
celu_backward_from_output = public_function("celu_backward_from_output", DOCS["celu_backward_from_output"])
celu_and_grads = public_function("celu_and_grads", DOCS["celu_and_grads"])


def _load_cuda():
    """Import ``celu_numba.cuda`` from its file, bypassing the import hooks.

    numba-cuda installs a meta-path hook (``_numba_cuda_redirector``) that claims every
    module name containing "numba.cuda", "celu_numba.cuda" included, and recurses until
    RecursionError on it.  A module already in ``sys.modules`` is never looked up, so the
    package puts it there itself.  The module is light: numba.cuda loads on first use.
    """
    name = f"{__name__}.cuda"
    path = os.path.join(os.path.dirname(__file__), "cuda.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


cuda = _load_cuda()

__all__ = [*_ufuncs.KERNELS, "CompileWarning", "cuda", "__version__"]
