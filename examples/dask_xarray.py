"""CELU on arrays larger than memory (dask) and on labeled arrays (xarray).

The CELU functions are NumPy ufuncs, so dask and xarray take them as they take
``np.exp``: ``celu(dask_array)`` builds a lazy, chunked computation, and
``celu(data_array, alpha)`` keeps dimension names and coordinates, broadcasting by
name.  Here:

1. out-of-core: an input stored on disk (a memory-mapped file) is streamed chunk by
   chunk through ``celu`` into an output file, never held in memory whole;
2. a reduction over a chunked array (mean of the value and of both gradients),
   including the three lazy outputs of ``celu_and_grads``;
3. xarray: a grid of curves ``celu(x, alpha)`` with named dimensions, and a chunked
   (dask-backed) DataArray.

Each result is checked against NumPy on the same data.
Run: python examples/dask_xarray.py
"""

import os
import tempfile
import time

import dask
import dask.array as da
import numpy as np
import xarray as xr

from celu_numba import celu, celu_and_grads, celu_grad

ROWS, COLS, CHUNK_ROWS = 4_000, 2_500, 250  # 10 million float32: 40 MB per file, 16 chunks
ALPHA = 2.0


def out_of_core(directory: str) -> None:
    """Stream a file-backed array through celu into another file, one chunk at a time."""
    source = np.lib.format.open_memmap(
        os.path.join(directory, "x.npy"), mode="w+", dtype=np.float32, shape=(ROWS, COLS)
    )
    rng = np.random.default_rng(0)
    for row in range(0, ROWS, CHUNK_ROWS):  # fill the input on disk, chunk by chunk
        source[row : row + CHUNK_ROWS] = rng.uniform(-6, 3, (CHUNK_ROWS, COLS))
    source.flush()
    target = np.lib.format.open_memmap(
        os.path.join(directory, "y.npy"), mode="w+", dtype=np.float32, shape=(ROWS, COLS)
    )

    x = da.from_array(source, chunks=(CHUNK_ROWS, COLS))
    y = celu(x, ALPHA)  # lazy: nothing is computed yet
    print(f"out-of-core: celu({type(x).__name__} {x.shape} {x.dtype}, {x.npartitions} chunks) "
          f"-> {type(y).__name__} {y.dtype} (lazy)")
    start = time.perf_counter()
    da.store(y, target)  # each chunk: read from x.npy, celu, write to y.npy
    target.flush()
    print(f"  stored {y.nbytes / 1e6:.0f} MB in {time.perf_counter() - start:.2f} s")

    rows = slice(1_000, 1_000 + CHUNK_ROWS)  # check one chunk against NumPy
    x_np = np.asarray(source[rows], dtype=np.float64)
    expected = np.where(x_np >= 0, x_np, ALPHA * np.expm1(np.minimum(x_np, 0) / ALPHA))
    error = float(np.max(np.abs(np.asarray(target[rows], dtype=np.float64) - expected)))
    assert error < 1e-6, error
    print(f"  checked a chunk against NumPy: max abs error {error:.1e}")
    del source, target  # close the memory maps before the directory goes


def reductions() -> None:
    """Means of the value and both gradients over a chunked array, without materializing it."""
    x = da.random.default_rng(1).standard_normal((ROWS, COLS), chunks=(CHUNK_ROWS, COLS))
    value, grad, grad_alpha = celu_and_grads(x, ALPHA)  # three lazy dask arrays
    means = dask.compute(value.mean(), grad.mean(), grad_alpha.mean(), celu_grad(x, ALPHA).mean())
    value_mean, grad_mean, grad_alpha_mean, grad_mean_again = (float(m) for m in means)
    print(f"reductions over {x.size:,} standard normal samples, alpha={ALPHA}:")
    print(f"  mean celu {value_mean:+.5f}  mean d/dx {grad_mean:.5f}  mean d/dalpha {grad_alpha_mean:+.5f}")
    assert abs(grad_mean - grad_mean_again) < 1e-12  # celu_grad agrees with celu_and_grads
    # E[celu(X)] for X ~ N(0, 1) is known in closed form: 1/sqrt(2 pi) + a (e^(1/(2a^2)) Phi(-1/a) - 1/2)
    from math import erf, exp, pi, sqrt

    phi = 0.5 * (1 + erf(-1 / ALPHA / sqrt(2)))
    exact = 1 / sqrt(2 * pi) + ALPHA * (exp(1 / (2 * ALPHA**2)) * phi - 0.5)
    assert abs(value_mean - exact) < 2e-3, (value_mean, exact)  # ~10 standard errors
    print(f"  mean celu matches its exact expectation {exact:+.5f} (sampling error only)")


def labeled() -> None:
    """xarray: broadcasting by dimension name, coordinates kept; dask-backed data stays lazy."""
    x = xr.DataArray(np.linspace(-3, 3, 7), dims="x", coords={"x": np.linspace(-3, 3, 7)})
    alpha = xr.DataArray([0.5, 1.0, 2.0], dims="alpha", coords={"alpha": [0.5, 1.0, 2.0]})
    curves = celu(x, alpha)  # a (x, alpha) grid: xarray broadcasts by name
    print(f"xarray: celu(x[{x.sizes['x']}], alpha[{alpha.sizes['alpha']}]) -> dims {curves.dims}, "
          f"shape {curves.shape}")
    expected = np.where(x.values[:, None] >= 0, x.values[:, None],
                        alpha.values * np.expm1(np.minimum(x.values[:, None], 0) / alpha.values))
    assert np.allclose(curves.values, expected, rtol=1e-14, atol=0)
    print(curves.sel(x=-1.0).to_series().to_string(float_format="{:+.6f}".format))

    chunked = xr.DataArray(
        da.random.default_rng(2).standard_normal((ROWS, COLS), chunks=(CHUNK_ROWS, COLS)),
        dims=("time", "feature"),
    )
    grad = celu_grad(chunked, ALPHA)
    print(f"  chunked DataArray: celu_grad -> {type(grad.data).__name__} (lazy), "
          f"range [{float(grad.min()):.4f}, {float(grad.max()):.4f}] within [0, 1]")
    assert 0.0 <= float(grad.min()) and float(grad.max()) <= 1.0


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        out_of_core(directory)
    reductions()
    labeled()
    print("dask and xarray examples passed")


if __name__ == "__main__":
    main()
