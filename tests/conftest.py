"""Shared test fixtures: the accuracy table printed at the end of the run.

tests/test_accuracy.py records the worst ULP error of every function and dtype in the
session-scoped ``accuracy_table`` fixture; ``pytest_terminal_summary`` prints it after the
``-ra`` short summary (and each test also prints its own rows, visible with ``pytest -s``).
"""

import pytest

_TABLE_KEY = pytest.StashKey[dict]()


def format_row(name, dtype, err, x, a, bound, note=""):
    """One line of the accuracy table."""
    return (
        f"{name:<40} {dtype:<8} {err:>10.4f} {bound:>10}  "
        f"x={x!r:<26} alpha={a!r:<26} {note}"
    ).rstrip()


TABLE_HEADER = (
    f"{'function':<40} {'dtype':<8} {'worst ULP':>10} {'bound':>10}  where (x, alpha)"
)


@pytest.fixture(scope="session")
def accuracy_table(pytestconfig):
    """dict (function, dtype) -> (worst ULP, x, alpha, goal, note), shown in the summary."""
    return pytestconfig.stash.setdefault(_TABLE_KEY, {})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    table = config.stash.get(_TABLE_KEY, None)
    if not table:
        return
    terminalreporter.write_sep("=", "celu_numba worst ULP error against mpmath")
    terminalreporter.write_line(TABLE_HEADER)
    for (name, dtype), (err, x, a, bound, note) in sorted(table.items()):
        terminalreporter.write_line(format_row(name, dtype, err, x, a, bound, note))
