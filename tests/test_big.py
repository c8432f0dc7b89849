"""Inputs of more than 2**31 elements are indexed correctly (no 32-bit index anywhere).

Skipped unless CELU_NUMBA_BIG=1: it needs about 9 GB of memory (one float32 array of
2**31 + 1000 elements, computed in place) and a minute on two cores.

    CELU_NUMBA_BIG=1 python -m pytest tests/test_big.py
"""

import os

import numba
import numpy as np
import pytest

import celu_numba

N = 2**31 + 1000
PERIOD = 1_000_003  # a prime: x[i] = BASE[i % PERIOD], so no two probed windows look alike
WINDOW = 4096

pytestmark = pytest.mark.skipif(
    os.environ.get("CELU_NUMBA_BIG") != "1", reason="set CELU_NUMBA_BIG=1 (needs ~9 GB)"
)


def _available_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@pytest.fixture(scope="module")
def big():
    available = _available_bytes()
    if available is not None and available < 4 * N + (1 << 30):
        pytest.skip(f"needs {4 * N / 2**30:.1f} GiB free, {available / 2**30:.1f} GiB available")
    rng = np.random.default_rng(2**31)
    base = np.concatenate([
        -(10.0 ** rng.uniform(-3, 2, PERIOD - 6)),  # mostly the negative branch
        [0.0, -0.0, 1.5, np.inf, -np.inf, np.nan],
    ]).astype(np.float32)
    rng.shuffle(base)
    x = np.empty(N, dtype=np.float32)
    for start in range(0, N, PERIOD):
        stop = min(start + PERIOD, N)
        x[start:stop] = base[: stop - start]
    yield x, base
    del x


def _windows():
    """Start offsets of the probed windows: the ends, 2**31 and the thread split points."""
    starts = [0, 2**30 - WINDOW // 2, N // 2 - WINDOW // 2, 2**31 - WINDOW // 2,
              2**31 - 1 - WINDOW, 2**31 + 1, N - WINDOW]
    for t in range(2, 9):  # chunk boundaries of the parallel driver for 2..8 threads
        starts += [N * c // t - WINDOW // 2 for c in range(1, t)]
    return sorted({min(max(s, 0), N - WINDOW) for s in starts})


def _original(base, start):
    idx = (np.arange(start, start + WINDOW, dtype=np.int64)) % PERIOD
    return base[idx]


def _check(x, base, transform):
    for start in _windows():
        want = transform(_original(base, start))
        got = x[start : start + WINDOW]
        assert got.tobytes() == want.tobytes(), f"window at {start} differs"


def test_more_than_2_31_elements_in_place(big):
    x, base = big
    assert x.size > 2**31
    # 1) the default: split over numba's threads; each piece is still > 2**30 elements
    result = celu_numba.celu(x, np.float32(0.75), out=x)
    assert result is x
    _check(x, base, lambda v: celu_numba.celu(v, np.float32(0.75)))
    # 2) one thread: a single serial loop over all 2**31 + 1000 elements
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        celu_numba.celu_grad(x, np.float32(2.0), out=x)
    finally:
        numba.set_num_threads(before)
    _check(x, base, lambda v: celu_numba.celu_grad(celu_numba.celu(v, np.float32(0.75)),
                                                   np.float32(2.0)))
