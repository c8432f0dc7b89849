"""Type checking: py.typed and the stub celu_numba/__init__.pyi, as mypy sees them.

mypy runs in a subprocess from the repository root (so it reads the package there):
on examples/ (must pass), on a snippet of correct calls (revealed types checked),
and on a snippet of misuses, each of which must be flagged.
"""

import ast
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import celu_numba

pytest.importorskip("mypy", reason="mypy is not installed (pip install mypy)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "celu_numba")


@pytest.fixture(scope="module")
def mypy(tmp_path_factory):
    cache = tmp_path_factory.mktemp("mypy_cache")

    def run(*targets):
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-color-output", *map(str, targets)],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )
        return result.returncode, result.stdout + result.stderr

    return run


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _declared(stub):
    """Names a stub declares: annotated names, functions, classes, `import x as x`."""
    with open(os.path.join(PACKAGE, stub)) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname for a in node.names if a.asname == a.name)
    return names


def test_package_is_marked_typed_and_stubbed():
    import celu_numba.cuda

    assert os.path.isfile(os.path.join(PACKAGE, "py.typed"))
    assert set(celu_numba.__all__) <= _declared("__init__.pyi")
    assert set(celu_numba.cuda.__all__) <= _declared("cuda.pyi")


def test_stub_attributes_exist_at_runtime():
    """Every method and attribute the stub promises is there on the real objects."""
    tree = ast.parse(open(os.path.join(PACKAGE, "__init__.pyi")).read())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def members(name):
        node = classes[name]
        own = {
            item.name if isinstance(item, ast.FunctionDef) else item.target.id
            for item in node.body
            if isinstance(item, ast.FunctionDef) or (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name))
        }
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes:
                own |= members(base.id)
        return own

    objects = {
        node.target.id: node.annotation.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.annotation, ast.Name) and node.annotation.id in classes
    }
    assert len(objects) == 6
    for name, cls in objects.items():
        function = getattr(celu_numba, name)
        for member in members(cls):
            assert hasattr(function, member), f"{name}.{member}"


def test_examples_pass_mypy(mypy):
    code, out = mypy("examples")
    assert code == 0, out
    assert "Success: no issues found in" in out


def test_revealed_types(mypy, tmp_path):
    snippet = write(tmp_path, "probe_ok.py", """\
        import numpy as np
        import dask.array as da
        from celu_numba import celu, celu_grad_alpha, celu_backward, celu_backward_from_output, celu_and_grads

        x = np.linspace(-2.0, 2.0, 5)
        reveal_type(celu(x))
        reveal_type(celu(x, 2.0))
        reveal_type(celu(x, alpha=np.array([1.0, 2.0, 3.0, 4.0, 5.0])))
        reveal_type(celu([0.5, -0.5], 1.5))
        reveal_type(celu(-1.0))
        reveal_type(celu(np.float32(-1.0), np.float32(2.0)))
        reveal_type(celu(x, 2.0, out=np.empty(5), where=x < 0, casting="same_kind", order="C", dtype=np.float64, subok=True))
        reveal_type(celu_grad_alpha(x))
        reveal_type(celu_backward(x, x, 2.0))
        reveal_type(celu_backward_from_output(x, celu(x)))
        reveal_type(celu_and_grads(x))
        reveal_type(celu_and_grads(-1.0))
        reveal_type(celu.ufunc)
        reveal_type(celu.outer(x, [0.5, 1.0]))
        reveal_type(celu.at(x, [0, 1], 2.0))
        reveal_type(celu.nin)
        reveal_type(celu(da.zeros(3)))
    """)
    code, out = mypy(snippet)
    assert code == 0, out
    revealed = [t.replace("builtins.", "") for t in re.findall(r'Revealed type is "(.+)"', out)]
    # NumPy >= 2.1's stubs give an array of any shape the shape type tuple[Any, ...], older ones Any
    shape = "tuple[Any, ...]" if np.lib.NumpyVersion(np.__version__) >= "2.1.0" else "Any"
    array = f"numpy.ndarray[{shape}, numpy.dtype[numpy.floating[Any]]]"
    expected = (
        [array] * 4
        + ["numpy.floating[Any]"] * 2
        + [array] * 4
        + [f"tuple[{array}, {array}, {array}]", "tuple[numpy.floating[Any], numpy.floating[Any], numpy.floating[Any]]"]
        + ["numpy.ufunc", array, "None", "int", "Any"]
    )
    assert revealed == expected, out


MISUSES = {
    "celu(x, '2.5')": "str alpha",
    "celu('1.0')": "str x",
    "celu(x, alpha=None)": "None alpha",
    "celu(x, casting='sometimes')": "bad casting",
    "celu(x, order='Z')": "bad order",
    "celu_backward(x)": "missing grad_out / x",
    "celu_backward.outer(x, x)": "outer of a 3-input function",
    "celu_and_grads.at(x, [0])": "at of a 3-output function",
    "celu.nonexistent": "unknown attribute",
    "arr: np.ndarray = celu_and_grads(x)": "tuple taken as an array",
    "celu(x, 1.0, bogus=True)": "unknown keyword",
    "f: float = celu(x)": "array taken as a float",
}


def test_misuses_are_flagged(mypy, tmp_path):
    lines = ["import numpy as np", "from celu_numba import celu, celu_backward, celu_and_grads", "x = np.zeros(3)"]
    first = len(lines) + 1
    lines += list(MISUSES)
    snippet = write(tmp_path, "probe_bad.py", "\n".join(lines) + "\n")
    code, out = mypy(snippet)
    assert code == 1, out
    flagged = {int(n) for n in re.findall(r"probe_bad\.py:(\d+): error", out)}
    for offset, (line, why) in enumerate(MISUSES.items()):
        assert first + offset in flagged, f"mypy did not flag {why}: {line}\n{out}"
