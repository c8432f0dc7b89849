"""Bit-for-bit comparison of results, shared by the tests that compare two paths (the
CUDA kernels and the numba overloads against the CPU ufuncs)."""

import numpy as np


def as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def assert_same_bits(got, want):
    """Same dtype, shape, and bits (any NaN matches any NaN)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    unsigned = {2: np.uint16, 4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
    mismatch = got.view(unsigned)[~nan] != want.view(unsigned)[~nan]
    assert not mismatch.any(), (
        f"{int(mismatch.sum())} of {mismatch.size} differ, e.g. got {got[~nan][mismatch][:5]} "
        f"want {want[~nan][mismatch][:5]}"
    )
