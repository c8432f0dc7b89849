"""The public API as the core issue fixes it: the six names and their (nin, nout).

The one list the tests share; tests/test_semantics.py checks the package against it.
"""

ARITY = {
    "celu": (2, 1),
    "celu_grad": (2, 1),
    "celu_grad_alpha": (2, 1),
    "celu_backward": (3, 1),
    "celu_backward_from_output": (3, 1),
    "celu_and_grads": (2, 3),
}
NAMES = list(ARITY)
NIN = {name: nin for name, (nin, _) in ARITY.items()}
