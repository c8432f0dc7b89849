"""What ``python -m celu_numba`` reports about its environment: versions, threads, CUDA."""

import importlib
import importlib.util
import os
import platform

import numba
import numpy as np

import celu_numba


def versions():
    """One line: celu_numba, numba, numpy, Python versions."""
    return (
        f"celu_numba {celu_numba.__version__}  numba {numba.__version__}  "
        f"numpy {np.__version__}  Python {platform.python_version()}"
    )


def threads():
    """One line: numba's thread count and threading layer (as chosen once a loop ran)."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel loop has run yet: the layer is chosen lazily
        layer = f"not chosen yet (configured: {numba.config.THREADING_LAYER})"
    return f"CPU threads: {numba.get_num_threads()}  threading layer: {layer}"


def _first_line(text):
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown reason"


def _package_cuda():
    """celu_numba.cuda if that module exists, else None (an error inside it propagates).

    Whether it exists is read from the package's files, not asked of the import
    system: numba-cuda's import redirector recurses forever on any module name
    containing "numba.cuda" (seen with numba-cuda 0.30.4).
    """
    module = getattr(celu_numba, "cuda", None)
    if module is not None:
        return module
    here = os.path.dirname(celu_numba.__file__)
    if not (os.path.exists(os.path.join(here, "cuda.py")) or os.path.isdir(os.path.join(here, "cuda"))):
        return None
    return importlib.import_module("celu_numba.cuda")


def _numba_cuda_status():
    """(usable, description) from numba's CUDA target, never raising."""
    if importlib.util.find_spec("numba_cuda") is None:
        backend = "numba-cuda not installed (pip install 'celu-numba[cuda]')"
    else:
        backend = "numba-cuda installed"
    try:
        from numba import cuda
    except Exception as error:  # noqa: BLE001 - any failure means "not usable"
        return False, f"{backend}; numba.cuda cannot be imported: {_first_line(error)}"
    try:
        if cuda.is_available():
            name = cuda.get_current_device().name
            name = name.decode() if isinstance(name, bytes) else str(name)
            return True, f"{name} ({backend})"
        reason = cuda.cuda_error() or "no CUDA GPU found"
    except Exception as error:  # noqa: BLE001
        reason = error
    return False, f"{backend}; {_first_line(reason)}"


def cuda_status():
    """(usable, one-line description): the device name, or why CUDA cannot be used.

    Uses ``celu_numba.cuda.is_available()`` / ``status()`` when that module exists;
    otherwise asks numba directly.  Never raises.
    """
    try:
        module = _package_cuda()
    except Exception as error:  # noqa: BLE001 - RecursionError included
        _, numba_text = _numba_cuda_status()
        return False, (
            f"celu_numba.cuda cannot be imported ({type(error).__name__}: {_first_line(error)}); "
            f"{numba_text}"
        )
    if module is not None and hasattr(module, "is_available"):
        try:
            usable = bool(module.is_available())
            status = getattr(module, "status", None)
            text = _first_line(status()) if status is not None else ""
        except Exception as error:  # noqa: BLE001
            return False, f"celu_numba.cuda failed: {_first_line(error)}"
        if text:
            return usable, text
    return _numba_cuda_status()


def cuda_line():
    usable, text = cuda_status()
    return f"CUDA: {'yes, ' if usable else 'no: '}{text}"
