"""CELU (Barron 2017) and its gradients as NumPy ufuncs compiled with numba.

    celu(x, alpha=1.0) = max(0, x) + min(0, alpha * expm1(x / alpha))
"""

from ._api import CeluFunction
from ._docs import DOCS

__version__ = "0.1.0"

celu = CeluFunction("celu", DOCS["celu"])
celu_grad = CeluFunction("celu_grad", DOCS["celu_grad"])
celu_grad_alpha = CeluFunction("celu_grad_alpha", DOCS["celu_grad_alpha"])
celu_backward = CeluFunction("celu_backward", DOCS["celu_backward"])
celu_backward_from_output = CeluFunction("celu_backward_from_output", DOCS["celu_backward_from_output"])
celu_and_grads = CeluFunction("celu_and_grads", DOCS["celu_and_grads"])

__all__ = [
    "celu",
    "celu_grad",
    "celu_grad_alpha",
    "celu_backward",
    "celu_backward_from_output",
    "celu_and_grads",
    "__version__",
]
