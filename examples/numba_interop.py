"""celu_numba's functions inside your own numba code.

1. A dense layer followed by CELU, fused in one @njit loop: each output row is computed
   and passed through celu while it is in cache (no second pass over the layer's output),
   with the same bits as matmul followed by the ufunc when the sums are the same.
2. The same CELU inside a @cuda.jit kernel and a device function (on a GPU, or under the
   CUDA simulator: NUMBA_ENABLE_CUDASIM=1); skipped with a reason when neither is there.
"""

import os

import numpy as np
from numba import njit

import celu_numba


@njit
def dense_celu(x, w, b, alpha):
    """celu(x @ w + b, alpha), one row at a time."""
    n, k = x.shape
    m = w.shape[1]
    out = np.empty((n, m))
    for r in range(n):
        for j in range(m):
            acc = b[j]
            for p in range(k):
                acc += x[r, p] * w[p, j]
            out[r, j] = celu_numba.celu(acc, alpha)  # inlined: the scalar math of the ufunc
    return out


@njit
def dense_celu_backward(x, w, b, alpha, grad_out):
    """The gradient of sum(grad_out * celu(x @ w + b, alpha)) with respect to b."""
    n, k = x.shape
    m = w.shape[1]
    grad_b = np.zeros(m)
    for r in range(n):
        for j in range(m):
            acc = b[j]
            for p in range(k):
                acc += x[r, p] * w[p, j]
            grad_b[j] += celu_numba.celu_backward(grad_out[r, j], acc, alpha)
    return grad_b


def cpu_example():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((200, 16)), rng.standard_normal((16, 8)), rng.standard_normal(8)
    alpha = 0.75
    fused = dense_celu(x, w, b, alpha)
    # the same sums, in the same order, then the ufunc: the same bits
    pre = np.empty((200, 8))
    for j in range(8):
        acc = np.full(200, b[j])
        for p in range(16):
            acc += x[:, p] * w[p, j]
        pre[:, j] = acc
    assert np.array_equal(fused, celu_numba.celu(pre, alpha))
    assert np.allclose(fused, celu_numba.celu(x @ w + b, alpha), rtol=1e-12, atol=1e-12)
    grad_out = rng.standard_normal((200, 8))
    grad_b = dense_celu_backward(x, w, b, alpha, grad_out)
    assert np.allclose(grad_b, celu_numba.celu_backward(grad_out, pre, alpha).sum(axis=0), rtol=1e-12)
    print(f"fused dense + celu: {fused.shape} float64, same bits as the ufunc on the same sums")
    print(f"fused dense + celu_backward: grad_b[:3] = {np.round(grad_b[:3], 6)}")


try:
    from numba import cuda
except ImportError as error:  # numba-cuda is not installed
    cuda, cuda_missing = None, error  # type: ignore[assignment]

if cuda is not None:  # (module level: the simulator replaces `cuda` in a kernel's globals)

    @cuda.jit(device=True)
    def celu_and_slope(v, alpha):
        return celu_numba.celu(v, alpha), celu_numba.celu_grad(v, alpha)

    @cuda.jit
    def kernel(x, alpha, y, dy):
        i = cuda.grid(1)
        if i < x.size:
            y[i], dy[i] = celu_and_slope(x[i], alpha)


def cuda_example():
    if cuda is None:
        print(f"no numba-cuda: skipping the CUDA example ({cuda_missing})")
        return
    simulated = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    if not simulated and not cuda.is_available():
        print("no CUDA GPU: skipping the CUDA example (set NUMBA_ENABLE_CUDASIM=1 to run it on the CPU)")
        return
    x = np.linspace(-4, 4, 1000, dtype=np.float32)
    y, dy = np.empty_like(x), np.empty_like(x)
    # float32 x with a float64 scalar alpha: the float32 kernel, as celu(x, 1.5) from Python
    kernel[8, 128](x, 1.5, y, dy)
    # the simulator runs the same Python as the CPU: the same bits; a GPU contracts a * b + c
    # into FMAs (see celu_numba._cuda_kernels): the last bit may differ
    same = np.array_equal if simulated else (lambda a, b: np.allclose(a, b, rtol=4e-7, atol=0))
    assert same(y, celu_numba.celu(x, 1.5)) and same(dy, celu_numba.celu_grad(x, 1.5))
    where = "the CUDA simulator" if simulated else "the GPU"
    print(f"CUDA kernel on {where}: celu and celu_grad of 1000 float32, as the CPU ufunc gives them")


if __name__ == "__main__":
    cpu_example()
    cuda_example()
    print("numba interop example passed")
