"""The plain-Python side of celu_numba._math: what the CUDA simulator runs.

Every function of _math is also plain Python (NumPy scalars), and the simulator's
results are compared bit for bit with the compiled CPU loops (test_cuda_sim.py, in a
child process).  These tests check the pieces directly and quickly: the exact
helpers against the compiled LLVM intrinsics, and the float32 kernels run as Python
against the float32 ufunc loops that compile them.
"""

from fractions import Fraction

import numpy as np
import pytest
from numba import njit

import celu_numba as C
from celu_numba import _math

F32, F64 = np.float32, np.float64


@njit
def _compiled_fma(a, b, c):
    return _math.fma(a, b, c)


@njit
def _compiled_pow2_float32(k):
    return _math.pow2_float32(k)


def _random_floats(rng, n, dtype):
    """Finite floats of `dtype` with random signs and exponents across most of the range."""
    exponent = rng.integers(-60, 60, n)
    return (rng.standard_normal(n) * np.exp2(exponent)).astype(dtype)


def test_to_float32_rounds_once():
    # 1 + 2**-24 + 2**-80: float64 rounds it to the tie 1 + 2**-24, which float32 would
    # then round to even (1.0); rounded once it is above the tie: 1 + 2**-23.
    value = Fraction(1) + Fraction(1, 2**24) + Fraction(1, 2**80)
    assert F32(float(value)) == F32(1.0)  # the double rounding the helper avoids
    assert _math._to_float32(value) == F32(1.0) + np.finfo(F32).eps
    assert _math._to_float32(-value) == -(F32(1.0) + np.finfo(F32).eps)
    assert _math._to_float32(Fraction(1) + Fraction(1, 2**24)) == F32(1.0)  # a true tie: even
    assert _math._to_float32(Fraction(3, 7)) == F32(3 / 7)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_fma_in_python_is_the_hardware_fma(dtype):
    rng = np.random.default_rng(0)
    a, b = _random_floats(rng, 3000, dtype), _random_floats(rng, 3000, dtype)
    # c near -a*b: the cancellations where a separate multiply and add would differ
    c = np.where(rng.random(3000) < 0.5, -(a * b), _random_floats(rng, 3000, dtype))
    for ai, bi, ci in zip(a, b, c):
        got = _math.fma(ai, bi, ci)
        want = _compiled_fma(ai, bi, ci)
        assert type(got) is (F32 if dtype is F32 else float)
        assert np.array([got], dtype).tobytes() == np.array([want], dtype).tobytes(), (ai, bi, ci)
    assert any(_math.fma(ai, bi, ci) != ai * bi + ci for ai, bi, ci in zip(a, b, c))


def test_pow2_float32_in_python_is_the_bit_pattern():
    for k in range(-126, 128):
        got = _math.pow2_float32(k)
        assert isinstance(got, F32) and got == _compiled_pow2_float32(np.int32(k)) == F32(2.0**k)


@pytest.mark.parametrize("name", ["celu", "celu_grad", "celu_grad_alpha", "celu_backward", "celu_and_grads"])
def test_float32_kernels_in_python_match_the_float32_loops(name):
    rng = np.random.default_rng(1)
    x = np.concatenate([
        -np.exp(rng.uniform(np.log(1e-40), np.log(1e3), 150)),
        rng.uniform(-2, 2, 40),
        [0.0, -0.0, 1.0, -np.inf, np.inf, np.nan, -1e-45, -200.0],
    ]).astype(F32)
    a = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), x.size)).astype(F32)
    a[:6] = [0.0, np.inf, 1e-40, 1.0, -1.0, np.nan]
    g = rng.standard_normal(x.size).astype(F32)
    kernel = getattr(_math, name + "_float32")
    args = (g, x, a) if name == "celu_backward" else (x, a)
    with np.errstate(all="ignore"):
        loops = getattr(C, name)(*args)
        loops = loops if isinstance(loops, tuple) else (loops,)
        for i in range(x.size):
            python = kernel(*(v[i] for v in args))
            python = python if isinstance(python, tuple) else (python,)
            for got, want in zip(python, loops):
                assert isinstance(got, F32)
                assert np.array([got]).tobytes() == want[i : i + 1].tobytes(), (name, *(v[i] for v in args))
