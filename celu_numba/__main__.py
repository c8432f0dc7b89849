"""``python -m celu_numba``: see ``celu_numba._cli`` (``--help`` lists the commands)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
