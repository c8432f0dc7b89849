"""The README and the docs sources: length, the Quick start commands, the measured-table
markers, and relative links.  (The site itself is built and checked in a browser by
``.ci/docs``.)"""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
README = os.path.join(ROOT, "README.md")

QUICK_START = """```
python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && python -m celu_numba
python -m pytest
```"""


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def sources():
    """README.md and every Markdown and reStructuredText page of the docs."""
    paths = [README]
    for folder, dirs, files in os.walk(DOCS):
        dirs[:] = [d for d in dirs if not d.startswith("_")]
        paths += [os.path.join(folder, f) for f in sorted(files) if f.endswith((".md", ".rst"))]
    return paths


def test_readme_is_short():
    lines = read(README).count("\n")
    assert lines <= 200, f"README.md has {lines} lines; the details belong in docs/"


def test_readme_keeps_the_two_commands():
    text = read(README)
    assert "\n## Quick start\n" in text
    assert QUICK_START in text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]


def test_each_measured_table_is_in_one_place():
    """Each ``<!-- table:NAME -->`` (a line of its own) opens once in all the sources, is
    closed after it, and names the commit it was measured on.  (docs/performance.md shows
    the README's GPU table with an include, not a copy.)"""
    opened = {}
    for path in sources():
        text = read(path)
        for name in re.findall(r"^<!-- table:([\w-]+) -->$", text, re.M):
            assert name not in opened, f"table {name} is in {opened[name]} and {path}"
            opened[name] = path
            body = text.split(f"<!-- table:{name} -->", 1)[1]
            assert f"<!-- /table:{name} -->" in body, f"table {name} is not closed in {path}"
            body = body.split(f"<!-- /table:{name} -->", 1)[0]
            assert re.search(r"commit\s+[0-9a-f]{7,40}\b", body), f"table {name} names no commit"
        closed = re.findall(r"^<!-- /table:([\w-]+) -->$", text, re.M)
        assert sorted(closed) == sorted(n for n, p in opened.items() if p == path), path
    assert {"cpu", "gpu", "cpu-full", "accuracy", "first-call"} <= set(opened)


LINK = re.compile(r"\]\(([^)\s]+)\)|src=\"([^\"]+)\"")


@pytest.mark.parametrize("path", sources(), ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_exist(path):
    folder = os.path.dirname(path)
    for match in LINK.finditer(read(path)):
        target = (match.group(1) or match.group(2)).split("#", 1)[0]
        if not target or re.match(r"[a-z]+:", target):
            continue  # an anchor in the page, or an external link
        assert os.path.exists(os.path.join(folder, target)), f"{path}: {target} does not exist"
