"""CELU on GPU arrays with no copy to the host: CuPy arrays, torch CUDA tensors, numba.

Any array exposing ``__cuda_array_interface__`` (CuPy, torch CUDA tensors, numba
device arrays, ...) is computed on the GPU by ``celu_numba.cuda``: the data stay in
GPU memory, and the result converts back to the caller's library without a copy
(``cupy.asarray(result)``, ``torch.as_tensor(result, device="cuda")``).  Each result
is checked against the same function on the CPU.

Without a usable CUDA GPU the example says why and exits with status 0.
Run: python examples/gpu_zero_copy.py
"""

import importlib
from types import ModuleType
from typing import Any

import numpy as np

from celu_numba import celu, celu_grad

ALPHA = 2.0
SIZE = 1 << 20


def cuda_problem() -> str | None:
    """None when a CUDA GPU is usable, else the reason it is not."""
    try:
        import numba
        from numba import cuda
    except Exception as error:  # numba's CUDA target is missing or broken
        return f"numba.cuda cannot be imported ({error})"
    if getattr(numba.config, "ENABLE_CUDASIM", 0):  # its arrays are host arrays: nothing to show here
        return "NUMBA_ENABLE_CUDASIM=1: the CUDA simulator, not a GPU"
    try:
        if not cuda.is_available():
            reason = cuda.cuda_error() or "no CUDA GPU found"
            return str(reason).strip().splitlines()[0]
    except Exception as error:
        return f"CUDA is not usable ({error})"
    return None


def optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def check(name: str, device_result: Any, host_input: np.ndarray, fn: Any) -> None:
    """Compare a GPU result (already on the host) with the CPU ufunc on the same input."""
    expected = fn(host_input, ALPHA)
    error = float(np.max(np.abs(np.asarray(device_result, dtype=np.float64) - expected)))
    scale = max(1.0, float(np.max(np.abs(expected))))
    assert error <= 16 * np.finfo(host_input.dtype).eps * scale, (name, error)  # a few ULP
    print(f"  {name}: max |GPU - CPU| = {error:.1e}")


def with_numba() -> None:
    from numba import cuda

    host = np.random.default_rng(0).uniform(-6, 3, SIZE)
    device = cuda.to_device(host)
    result = celu(device, ALPHA)  # computed on the GPU: a numba device array in GPU memory
    check("numba device array, celu", result.copy_to_host(), host, celu)


def with_cupy(cupy: ModuleType) -> None:
    x = cupy.random.default_rng(1).uniform(-6, 3, SIZE)
    y = cupy.empty_like(x)
    pointer = y.data.ptr
    celu_grad(x, ALPHA, out=y)  # written in place into CuPy's memory
    assert y.data.ptr == pointer
    value = cupy.asarray(celu(x, ALPHA))  # zero-copy view of the result as a CuPy array
    check("CuPy array, celu", cupy.asnumpy(value), cupy.asnumpy(x), celu)
    check("CuPy array, celu_grad (out=)", cupy.asnumpy(y), cupy.asnumpy(x), celu_grad)


def with_torch(torch: ModuleType) -> None:
    x = torch.empty(SIZE, device="cuda", dtype=torch.float32).uniform_(-6, 3)
    result = torch.as_tensor(celu(x, ALPHA), device="cuda")  # zero-copy view as a tensor
    assert result.device.type == "cuda"
    check("torch CUDA tensor, celu", result.cpu().numpy(), x.cpu().numpy(), celu)
    reference = torch.nn.functional.celu(x, ALPHA)
    print(f"  torch CUDA tensor: max |celu_numba - torch.nn.functional.celu| = "
          f"{float((result - reference).abs().max()):.1e}")


def main() -> int:
    problem = cuda_problem()
    if problem is not None:
        print(f"no CUDA GPU: skipping the GPU example ({problem})")
        return 0
    print("CUDA GPU found: computing on GPU arrays without host copies")
    with_numba()
    cupy = optional("cupy")
    if cupy is None:
        print("  CuPy not installed: skipped")
    else:
        with_cupy(cupy)
    torch = optional("torch")
    if torch is None or not torch.cuda.is_available():
        print("  torch with CUDA not installed: skipped")
    else:
        with_torch(torch)
    print("GPU example passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
