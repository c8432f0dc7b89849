"""What a new process pays before its first result, tracked across commits: each
``timeraw_`` benchmark runs in a fresh interpreter (asv times its code, not its setup).

* import: ``import celu_numba`` (numba itself is imported at the first call);
* first call, empty cache: the import and a first ``celu`` call on float64 with a new,
  empty ``CELU_NUMBA_CACHE_DIR`` (what it runs is compiled: the driver and the float64
  loop of ``celu``);
* first call, warm cache: the same with a cache that ``python -m celu_numba compile``
  filled in the (untimed) setup.
"""

from . import common

_EMPTY = """
import os, tempfile
os.environ["CELU_NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="celu_numba-bench-")
import numpy as np
x = np.linspace(-3, 3, 10)
"""

_WARM = _EMPTY + """
import subprocess, sys
subprocess.run([sys.executable, "-m", "celu_numba", "compile", "--function", "celu"], check=True,
               capture_output=True)
"""

_FIRST_CALL = """
import celu_numba
celu_numba.celu(x, 1.0)
"""


class TimeFirstUse:
    timeout = common.TIMEOUT
    number = 1
    repeat = 1

    def timeraw_import(self):
        return "import celu_numba", "import numpy"

    def timeraw_first_call_empty_cache(self):
        return _FIRST_CALL, _EMPTY

    def timeraw_first_call_warm_cache(self):
        return _FIRST_CALL, _WARM
