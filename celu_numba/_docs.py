"""Docstrings of the six public functions, in numpydoc form: formula, parameters,
domain, special values and examples.

``python -m pytest`` runs every example as a doctest (``__test__`` below); the docs
site renders them with numpydoc (``docs/api/``).  The shared sections are written once.
"""

_ALPHA = """    alpha : array_like, optional
        The CELU parameter, >= 0 (default 1.0): a scalar, or an array that broadcasts
        against the other inputs (one alpha per channel: shape ``(C, 1)``, ...).
        ``alpha == 0`` is ReLU and ``alpha == inf`` the identity, both returned exactly.
        An array alpha gives NaN where an entry is negative or NaN."""

_OUT = """    *args : ndarray, optional
        The outputs, given positionally after alpha, as a NumPy ufunc takes them.
    out : ndarray, None, or tuple of ndarray and None, optional
        Where to write the result, as for any NumPy ufunc (it may be an input: in place).
    **kwargs
        The other ufunc keywords: ``where``, ``dtype``, ``casting``, ``order``, ``subok``."""

_RESULT_DTYPE = """float32 for float32 inputs, float64 for float64,
        float64 for integers and bools, float32 for float16 (float16 when written into a
        float16 ``out``).  A NumPy scalar for scalar inputs; dask and xarray inputs give
        dask arrays and DataArrays, GPU arrays an array of the same kind."""

_RAISES = """    Raises
    ------
    ValueError
        If alpha is a scalar < 0 or NaN (the message names alpha).
    TypeError
        For complex, string or object inputs (NumPy's usual error), or alpha given both
        positionally and as ``alpha=``."""

_NOTES = """
    Called like a NumPy ufunc: inputs broadcast, and ``out=``, ``where=``, ``dtype=``,
    ``casting=``, ``order=`` and ``subok=`` work.  ``.ufunc`` is the true ``np.ufunc``
    (alpha is a required input there); its attributes and methods are available here
    too (``nin``, ``types``, ``outer``, ``at``, ...).  float32 (and float16) is computed
    in float32 arithmetic with error-free transforms, within 1 ULP.  Strides, memory order, thread count and chunking never
    change a bit of the result.  Inputs that expose ``__cuda_array_interface__`` (CuPy,
    PyTorch CUDA tensors, numba device arrays) run on the GPU: see ``celu_numba.cuda``."""

DOCS = {
    "celu": """celu(x, alpha=1.0, /, out=None, **kwargs)

    Continuously differentiable exponential linear unit (Barron 2017).

    ELU with its input divided by alpha before the exponential, so that its derivative
    is continuous at 0 for every alpha > 0.

    Parameters
    ----------
    x : array_like
        Input values.
""" + _ALPHA + "\n" + _OUT + """

    Returns
    -------
    y : ndarray or scalar
        ``celu(x, alpha)``: """ + _RESULT_DTYPE + """

""" + _RAISES + """

    See Also
    --------
    celu_grad : The derivative with respect to x.
    celu_grad_alpha : The derivative with respect to alpha.
    celu_and_grads : The value and both derivatives in one pass.

    Notes
    -----
    With ``z = x / alpha``::

        celu(x, alpha) = max(0, x) + min(0, alpha * expm1(x / alpha))
                       = x                  (x >= 0)
                       = alpha * expm1(z)   (x < 0)

    Special values (``0 < alpha < inf``): ``x = +inf`` gives +inf, ``x = -inf`` gives
    ``-alpha``, NaN gives NaN, ``x = 0`` or ``-0.0`` gives 0.  ``alpha == 0`` gives ``max(0, x)``
    and ``alpha == inf`` gives ``x``.
""" + _NOTES + """

    Examples
    --------
    >>> import numpy as np
    >>> from celu_numba import celu
    >>> celu(np.array([-1.0, 0.0, 2.0]))
    array([-0.63212056,  0.        ,  2.        ])
    >>> celu(np.array([-np.inf, np.inf, np.nan]), 2.0)
    array([-2., inf, nan])
    >>> celu(-1.0, 0.0), celu(-1.0, np.inf)
    (np.float64(0.0), np.float64(-1.0))

    float32 stays float32, and alpha may be one value per channel:

    >>> x = np.array([[-1.0, 1.0], [-1.0, 1.0]], dtype=np.float32)
    >>> celu(x, np.array([[0.5], [2.0]], dtype=np.float32))
    array([[-0.43233237,  1.        ],
           [-0.78693867,  1.        ]], dtype=float32)
""",
    "celu_grad": """celu_grad(x, alpha=1.0, /, out=None, **kwargs)

    Derivative of CELU with respect to x.

    It lies in [0, 1] and is continuous at 0 for every alpha > 0.

    Parameters
    ----------
    x : array_like
        Input values.
""" + _ALPHA + "\n" + _OUT + """

    Returns
    -------
    dydx : ndarray or scalar
        ``d celu(x, alpha) / dx``: """ + _RESULT_DTYPE + """

""" + _RAISES + """

    See Also
    --------
    celu : The function itself.
    celu_backward : ``grad_out * celu_grad(x, alpha)`` in one pass.

    Notes
    -----
    With ``z = x / alpha``::

        d celu / dx = 1        (x >= 0)
                    = exp(z)   (x < 0)

    ``z`` is carried without the rounding error of ``x / alpha`` (a compensated
    quotient), so ``exp(z)`` keeps its accuracy in the
    deep tail, where ``np.exp(x / alpha)`` is hundreds of ULP off.  Special values
    (``0 < alpha < inf``): ``x = +inf`` gives 1, ``x = -inf`` gives 0, NaN gives NaN,
    ``x = 0`` or ``-0.0`` gives 1.  ``alpha == 0`` gives 1 for ``x >= 0`` and 0 below;
    ``alpha == inf`` gives 1.
""" + _NOTES + """

    Examples
    --------
    >>> import numpy as np
    >>> from celu_numba import celu_grad
    >>> celu_grad(np.array([-1.0, 0.0, 2.0]), 2.0)
    array([0.60653066, 1.        , 1.        ])
    >>> celu_grad(np.array([-1.0, 1.0]), 0.0)
    array([0., 1.])
""",
    "celu_grad_alpha": """celu_grad_alpha(x, alpha=1.0, /, out=None, **kwargs)

    Derivative of CELU with respect to alpha.

    It lies in [-1, 0], and is accurate near ``z = 0``, where the closed form cancels.

    Parameters
    ----------
    x : array_like
        Input values.
""" + _ALPHA + "\n" + _OUT + """

    Returns
    -------
    dydalpha : ndarray or scalar
        ``d celu(x, alpha) / d alpha``: """ + _RESULT_DTYPE + """

""" + _RAISES + """

    See Also
    --------
    celu : The function itself.
    celu_and_grads : The value and both derivatives in one pass.

    Notes
    -----
    With ``z = x / alpha``::

        d celu / d alpha = 0                     (x >= 0)
                         = exp(z) * (1 - z) - 1  (x < 0)
                         = -z**2/2 - z**3/3 - z**4/8 - ...

    Near ``z = 0`` the closed form loses all its digits (``np.exp(z) * (1 - z) - 1`` is off
    by about ``1/|z|`` ULP); this function stays within a few ULP there.  Special values
    (``0 < alpha < inf``): ``x = +inf`` gives 0, ``x = -inf`` gives -1, NaN gives NaN,
    ``x = 0`` or ``-0.0`` gives 0.  ``alpha == 0`` gives 0 for ``x >= 0`` and -1 below;
    ``alpha == inf`` gives 0.
""" + _NOTES + """

    Examples
    --------
    >>> import numpy as np
    >>> from celu_numba import celu_grad_alpha
    >>> celu_grad_alpha(np.array([-1.0, -1e-8, 2.0]))
    array([-2.64241118e-01, -4.99999997e-17,  0.00000000e+00])
    >>> celu_grad_alpha(np.array([-np.inf, np.inf]))
    array([-1.,  0.])
""",
    "celu_backward": """celu_backward(grad_out, x, alpha=1.0, /, out=None, **kwargs)

    The backward pass of CELU: ``grad_out * celu_grad(x, alpha)`` in one pass.

    Parameters
    ----------
    grad_out : array_like
        The gradient of the loss with respect to ``celu(x, alpha)``.
    x : array_like
        The input of the forward pass.
""" + _ALPHA + "\n" + _OUT + """

    Returns
    -------
    grad_in : ndarray or scalar
        The gradient of the loss with respect to x: """ + _RESULT_DTYPE + """

""" + _RAISES + """

    See Also
    --------
    celu_grad : The derivative alone.
    celu_backward_from_output : The same from the forward pass's output, with no exp.

    Notes
    -----
    With ``z = x / alpha``::

        celu_backward(g, x, alpha) = g            (x >= 0)
                                   = g * exp(z)   (x < 0)

    The product is not rounded on its own: ``g * exp(z)`` is rounded once (float32 keeps
    ``exp(z)`` as a double-float), closer to the exact value than
    ``grad_out * celu_grad(x, alpha)``.
    Special values follow ``celu_grad``.
""" + _NOTES + """

    Examples
    --------
    >>> import numpy as np
    >>> from celu_numba import celu_backward
    >>> celu_backward(np.array([2.0, 2.0]), np.array([-1.0, 1.0]))
    array([0.73575888, 2.        ])
""",
    "celu_backward_from_output": """celu_backward_from_output(grad_out, y, alpha=1.0, /, out=None, **kwargs)

    The backward pass of CELU from its output ``y = celu(x, alpha)``, with no exp.

    Parameters
    ----------
    grad_out : array_like
        The gradient of the loss with respect to y.
    y : array_like
        The output of the forward pass, ``celu(x, alpha)``.
""" + _ALPHA + "\n" + _OUT + """

    Returns
    -------
    grad_in : ndarray or scalar
        The gradient of the loss with respect to x: """ + _RESULT_DTYPE + """

""" + _RAISES + """

    See Also
    --------
    celu_backward : The same from the forward pass's input.

    Notes
    -----
    Since ``exp(x / alpha) = y / alpha + 1`` for ``x < 0``::

        celu_backward_from_output(g, y, alpha) = g                    (y >= 0)
                                               = g * (y / alpha + 1)  (y < 0)

    Exact to a few roundings *given y*, but y carries ``exp(z)`` only to its own
    rounding, which ``y / alpha + 1`` amplifies as y approaches ``-alpha``: in the deep
    tail use ``celu_backward``.  Special values follow ``celu_grad`` with y in place of
    x; at ``alpha == 0``, ``y = 0`` counts as ``y >= 0`` and gives ``grad_out``.
""" + _NOTES + """

    Examples
    --------
    >>> import numpy as np
    >>> from celu_numba import celu, celu_backward_from_output
    >>> y = celu(np.array([-1.0, 1.0]))
    >>> celu_backward_from_output(np.array([2.0, 2.0]), y)
    array([0.73575888, 2.        ])
""",
    "celu_and_grads": """celu_and_grads(x, alpha=1.0, /, out=(None, None, None), **kwargs)

    CELU and both of its derivatives in one pass.

    Each result is bit-identical to the one of ``celu``, ``celu_grad`` and
    ``celu_grad_alpha``.

    Parameters
    ----------
    x : array_like
        Input values.
""" + _ALPHA + "\n" + _OUT + """

    Returns
    -------
    y : ndarray or scalar
        ``celu(x, alpha)``.
    dydx : ndarray or scalar
        ``d celu(x, alpha) / dx``.
    dydalpha : ndarray or scalar
        ``d celu(x, alpha) / d alpha``.  Each of the three: """ + _RESULT_DTYPE + """

""" + _RAISES + """

    See Also
    --------
    celu, celu_grad, celu_grad_alpha

    Notes
    -----
    ::

        celu_and_grads(x, alpha) = (celu(x, alpha), d celu / dx, d celu / d alpha)

    ``out=`` is a tuple of three (arrays or None).  With dask inputs the three results
    are lazy dask arrays.
""" + _NOTES + """

    Examples
    --------
    >>> import numpy as np
    >>> from celu_numba import celu_and_grads
    >>> value, grad, grad_alpha = celu_and_grads(np.array([-1.0, 1.0]))
    >>> value, grad, grad_alpha
    (array([-0.63212056,  1.        ]), array([0.36787944, 1.        ]), array([-0.26424112,  0.        ]))
""",
}

#: doctest (and so `python -m pytest`) runs the example in every docstring
__test__ = DOCS
