"""Compiling ahead of time: the CPU loops into the cache, for images, CI caches and workers."""

import os
import time

from ._ufuncs import KERNELS

DTYPES = ("float32", "float64")
_CODES = {"float32": "f", "float64": "d"}


def compile(functions=None, dtypes=DTYPES, cache_dir=None, report=None):  # noqa: A001 - the CLI's name
    """Compile the CPU loops of celu_numba's functions into the cache, where every later
    process (on any machine that shares the directory) loads them in milliseconds.

    Parameters
    ----------
    functions : sequence of str, optional
        Names of the functions to compile (default: all six).
    dtypes : sequence of {"float32", "float64"}, optional
        The loops to compile (default: both; integer inputs use the float64 loop).
    cache_dir : str, optional
        The cache directory to fill (default: the one this process uses,
        ``CELU_NUMBA_CACHE_DIR`` or ``~/.cache/celu_numba``); created if needed.
    report : callable, optional
        Called as ``report(what, seconds, loaded)`` after each step: the driver and
        the buffered loop shared by every function, then each function and dtype;
        `loaded` is True when the step came from the cache.

    Returns
    -------
    str
        The cache directory.

    Notes
    -----
    CUDA kernels are not compiled here: they compile on a GPU machine at their first
    launch (a few seconds each), and numba-cuda caches them there.
    """
    from . import _cache, _ufunc

    functions = tuple(KERNELS) if functions is None else tuple(functions)
    unknown = [f for f in functions if f not in KERNELS] + [d for d in dtypes if d not in _CODES]
    if unknown:
        raise ValueError(f"unknown function or dtype: {', '.join(map(str, unknown))} "
                         f"(functions: {', '.join(KERNELS)}; dtypes: {', '.join(DTYPES)})")
    directory = _cache.cache_dir() if cache_dir is None else os.path.abspath(cache_dir)
    os.makedirs(directory, exist_ok=True)

    def step(what, build):
        start = time.perf_counter()
        compiled = build()
        if report is not None:
            report(what, time.perf_counter() - start, all(c.loaded for c in compiled))

    step("drivers", lambda: [*_ufunc.drivers(directory), _ufunc.buffered_loop(directory)])
    for name in functions:
        nin, nout, _ = KERNELS[name]
        for dtype in dtypes:
            step(f"{name} {dtype}", lambda: [_ufunc.contiguous_loop(name, _CODES[dtype], nin, nout, directory)])
    return directory
