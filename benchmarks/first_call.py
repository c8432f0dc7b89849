"""Print what a new process pays before its first result: import, then first calls.

    python benchmarks/first_call.py [--cache DIR]

Each row is a fresh Python process that imports numpy, then celu_numba, then calls
``celu`` (float64) and ``celu_and_grads`` (float32) once each on 10 elements.  The
first process gets an empty cache directory (``CELU_NUMBA_CACHE_DIR``): its first call
compiles the driver shared by every function and the float64 loop of ``celu``, the
second call only the float32 loop of ``celu_and_grads``, all written to that directory;
the second process finds them there.  asv tracks the same across commits (bench_first_call).
"""

import argparse
import os
import subprocess
import sys
import tempfile

#: The child: one line "import_s celu_s celu_and_grads_s".
CHILD = """
import time
import numpy as np
start = time.perf_counter()
import celu_numba
imported = time.perf_counter()
celu_numba.celu(np.linspace(-1, 1, 10), 1.0)
celu_done = time.perf_counter()
celu_numba.celu_and_grads(np.linspace(-1, 1, 10, dtype=np.float32))
grads_done = time.perf_counter()
print(imported - start, celu_done - imported, grads_done - celu_done)
"""

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child_times(cache):
    """(import, first celu, first celu_and_grads) in seconds, in a new process."""
    env = dict(os.environ, CELU_NUMBA_CACHE_DIR=cache)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    output = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, capture_output=True, text=True)
    return tuple(float(value) for value in output.stdout.split())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="an empty directory to use as the cache (default: a new temporary one)")
    args = parser.parse_args(argv)
    cache = args.cache or tempfile.mkdtemp(prefix="celu_numba-first-call-")
    rows = [("empty (first use on a machine)", child_times(cache)), ("warm (every later process)", child_times(cache))]
    print("| cache | import | first `celu` call | first `celu_and_grads` call |")
    print("|---|---|---|---|")
    for label, times in rows:
        print(f"| {label} | " + " | ".join(f"{t:.2f} s" for t in times) + " |")
    return rows


if __name__ == "__main__":
    main()
