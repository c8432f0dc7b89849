"""Docstrings of the six public functions: formula, domain, special values, example."""

_COMMON = """
    Called like a NumPy ufunc: inputs broadcast, and ``out=``, ``where=``,
    ``dtype=``, ``casting=``, ``order=`` and ``subok=`` work as for any ufunc;
    ``.ufunc`` is the true ``np.ufunc``, whose ``outer``, ``at``, ``nin``, ``types``
    ... are available here too.  float32 in gives float32 out, float64 gives
    float64, integers and bools give float64, float16 is computed in float32.

    alpha (default 1.0) is a scalar or an array.  alpha == 0 is ReLU and alpha == inf
    the identity (returned exactly); a scalar alpha < 0 or NaN raises ValueError, an
    array alpha gives NaN where an entry is invalid.
"""

DOCS = {
    "celu": """celu(x, alpha=1.0, /, out=None, **kwargs)

    Continuously differentiable exponential linear unit (Barron 2017)::

        celu(x, alpha) = max(0, x) + min(0, alpha * expm1(x / alpha))

    x = +inf gives +inf, x = -inf gives -alpha, NaN gives NaN.
""" + _COMMON + """
    >>> import numpy as np
    >>> from celu_numba import celu
    >>> celu(np.array([-1.0, 0.0, 2.0]))
    array([-0.63212056,  0.        ,  2.        ])
    >>> celu(-1.0, 0.0), celu(-1.0, np.inf)
    (np.float64(0.0), np.float64(-1.0))
""",
    "celu_grad": """celu_grad(x, alpha=1.0, /, out=None, **kwargs)

    Derivative of CELU with respect to x::

        d celu / dx = 1 (x >= 0),  exp(x / alpha) (x < 0)

    It lies in [0, 1] and is continuous at 0 for every alpha.
""" + _COMMON + """
    >>> import numpy as np
    >>> from celu_numba import celu_grad
    >>> celu_grad(np.array([-1.0, 0.0, 2.0]), 2.0)
    array([0.60653066, 1.        , 1.        ])
""",
    "celu_grad_alpha": """celu_grad_alpha(x, alpha=1.0, /, out=None, **kwargs)

    Derivative of CELU with respect to alpha, with z = x / alpha::

        d celu / d alpha = 0 (x >= 0),  exp(z) * (1 - z) - 1 (x < 0)

    It lies in [-1, 0]; near z = 0 it is computed from its series, accurately.
""" + _COMMON + """
    >>> import numpy as np
    >>> from celu_numba import celu_grad_alpha
    >>> celu_grad_alpha(np.array([-1.0, -1e-8, 2.0]))
    array([-2.64241118e-01, -4.99999997e-17,  0.00000000e+00])
""",
    "celu_backward": """celu_backward(grad_out, x, alpha=1.0, /, out=None, **kwargs)

    The backward pass of CELU in one fused pass::

        celu_backward(g, x, alpha) = g * d celu(x, alpha) / dx
""" + _COMMON + """
    >>> import numpy as np
    >>> from celu_numba import celu_backward
    >>> celu_backward(np.array([2.0, 2.0]), np.array([-1.0, 1.0]))
    array([0.73575888, 2.        ])
""",
    "celu_backward_from_output": """celu_backward_from_output(grad_out, y, alpha=1.0, /, out=None, **kwargs)

    The backward pass of CELU from its output y = celu(x, alpha), with no exp::

        g (y >= 0),  g * (y / alpha + 1) (y < 0)
""" + _COMMON + """
    >>> import numpy as np
    >>> from celu_numba import celu, celu_backward_from_output
    >>> y = celu(np.array([-1.0, 1.0]))
    >>> celu_backward_from_output(np.array([2.0, 2.0]), y)
    array([0.73575888, 2.        ])
""",
    "celu_and_grads": """celu_and_grads(x, alpha=1.0, /, out=(None, None, None), **kwargs)

    CELU and both derivatives in one pass::

        (celu(x, alpha), d celu / dx, d celu / d alpha)
""" + _COMMON + """
    >>> import numpy as np
    >>> from celu_numba import celu_and_grads
    >>> value, grad, grad_alpha = celu_and_grads(np.array([-1.0, 1.0]))
    >>> value, grad, grad_alpha
    (array([-0.63212056,  1.        ]), array([0.36787944, 1.        ]), array([-0.26424112,  0.        ]))
""",
}

#: doctest (and so `python -m pytest`) runs the example in every docstring
__test__ = DOCS
