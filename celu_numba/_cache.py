"""Where compiled code lives: one cache directory, and the names of what is in it.

Everything celu_numba compiles is kept in one directory: the CPU loops' object files
(``_native``), the modules generated for the kernels' loops (``_ufunc``,
``_cuda_kernels``), and numba-cuda's cache of the CUDA kernels beside theirs.  That
directory is ``CELU_NUMBA_CACHE_DIR``, else
``$XDG_CACHE_HOME/celu_numba``, else ``~/.cache/celu_numba``, else (none writable) a new
temporary directory.  A file's name carries a digest of everything its code depends on
(the package's compiled sources, numba's and NumPy's versions), so an upgrade never loads
stale code, and processes that share the directory share the compiled code.
"""

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading

import numba
import numpy as np

#: The package files whose text the compiled CPU code depends on.
DEPENDENCIES = (
    "_math.py", "_ufunc.py", "_intrinsics.py", "_threads.py", "_parallel.py", "_strided.py", "_native.py",
)
_HERE = os.path.dirname(os.path.abspath(__file__))
lock = threading.RLock()
_fallback = {}


def configured_dir():
    """The directory the environment names (see the module docstring), which may be
    missing or read-only."""
    return os.environ.get("CELU_NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "celu_numba",
    )


def cache_dir():
    """The cache directory (created if needed; see the module docstring)."""
    base = configured_dir()
    try:
        os.makedirs(base, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=base)
        probe.close()
        return base
    except OSError:
        with lock:  # one temporary directory per unusable base, for the life of the process
            if base not in _fallback:
                _fallback[base] = tempfile.mkdtemp(prefix="celu_numba-")
            return _fallback[base]


def read_dirs():
    """Where compiled code is looked for: the cache directory, then the configured one
    when that is only readable (a cache compiled into a read-only image)."""
    directory, base = cache_dir(), configured_dir()
    return [directory] if directory == base or not os.path.isdir(base) else [directory, base]


@functools.cache
def _package_inputs(dependencies):
    """The hash of the package files the compiled code depends on and of numba's and
    NumPy's versions (read once per process)."""
    inputs = hashlib.sha256()
    for dependency in DEPENDENCIES + dependencies:
        with open(os.path.join(_HERE, dependency), "rb") as f:
            inputs.update(f.read())
    inputs.update(f"{numba.__version__} {np.__version__}".encode())
    return inputs.digest()


def digest(source, dependencies=()):
    """The digest of `source` and of what every compiled module depends on, which names
    its files."""
    return hashlib.sha256(_package_inputs(dependencies) + source.encode()).hexdigest()[:20]


def _read(path):
    """The text of a file, or None when it does not exist."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def write(path, data):
    """Write the bytes `data` to `path` whole: another process may be writing it too, so
    each writes its own file, then renames it."""
    with tempfile.NamedTemporaryFile("wb", dir=os.path.dirname(path), delete=False, suffix=".tmp") as f:
        f.write(data)
    os.replace(f.name, path)


def load_module(prefix, source, directory=None, dependencies=()):
    """Import `source` as the module ``celu_numba_<prefix>_<digest>`` from a file in
    `directory` (default: cache_dir()), writing the file first if needed (numba-cuda
    caches its kernels beside it); `dependencies` are package files its code depends on
    besides DEPENDENCIES."""
    inputs = digest(source, dependencies)
    source = f"# Written by celu_numba._cache from the package's code; do not edit.\n# Inputs: {inputs}\n{source}"
    module_name = f"celu_numba_{prefix}_{inputs}"
    directory = directory or cache_dir()
    path = os.path.join(directory, module_name + ".py")
    with lock:
        if _read(path) != source:
            write(path, source.encode())
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return module

