"""Sphinx extension of the celu_numba docs.

- ``.. celu-cli-help:: [SUBCOMMAND]`` renders ``python -m celu_numba [SUBCOMMAND] --help``
  from the parser itself (``celu_numba._cli.build_parser``), so the CLI page cannot drift
  from the code.
- ``.. celu-speed-chart:: NAME`` draws the first table of ``benchmarks/ratios.py`` output
  between ``<!-- table:NAME -->`` and ``<!-- /table:NAME -->`` in the same page as an
  inline SVG bar chart (each ratio over its goal), so the chart is always that table.
- The build must not compile: importing celu_numba is cheap, building a ufunc takes
  minutes.  Any attempt to build one (an attribute look-up that reaches
  ``celu_numba._ufuncs``) is refused and fails the build at its end.

The public objects forward unknown attributes to their ufunc, which builds it; on
Python < 3.13 ``inspect.signature`` (autodoc, numpydoc) looks up ``obj._partialmethod``
and so would compile all six.  Here, private names are not forwarded (what
``CeluFunction.__getattr__`` should do itself; then this is a no-op).
"""

import argparse
import html
import os
import re

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

HELP_COLUMNS = "88"
_compile_attempts = []


def _parser_help(subcommand):
    from celu_numba import _cli

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS  # argparse wraps to the terminal's width
    try:
        parser = _cli.build_parser()
        if subcommand:
            choices = {}
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    choices.update(action.choices)
            if subcommand not in choices:
                raise ExtensionError(f"celu-cli-help: no subcommand {subcommand!r} (have {sorted(choices)})")
            parser = choices[subcommand]
        return parser.format_help(), _cli.__file__
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


class CliHelp(SphinxDirective):
    """The --help text of ``python -m celu_numba`` or of one of its subcommands."""

    optional_arguments = 1
    has_content = False

    def run(self):
        text, source = _parser_help(self.arguments[0] if self.arguments else "")
        self.env.note_dependency(source)
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def ratio_rows(text, name):
    """(case, dtype, ratio, goal, ratio as printed, goal as printed) of the first table with ratio and goal columns inside
    the ``table:name`` markers of `text`; rows without a number (n/a) are left out."""
    start, end = f"<!-- table:{name} -->", f"<!-- /table:{name} -->"
    if start not in text or end not in text:
        raise ExtensionError(f"celu-speed-chart: no {start} ... {end} in the page")
    lines = text.split(start, 1)[1].split(end, 1)[0].splitlines()
    rows, header = [], None
    for line in lines:
        if not line.startswith("|"):
            if rows:
                break
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set(line) <= set("|-: "):
            continue
        if not {"case", "dtype", "ratio", "goal"} <= set(header):
            continue
        row = dict(zip(header, cells))
        goal = re.match(r"<=\s*([0-9.]+)$", row["goal"])
        try:
            ratio = float(row["ratio"])
        except ValueError:
            continue
        if goal:
            rows.append((row["case"], row["dtype"], ratio, float(goal.group(1)), row["ratio"], goal.group(1)))
    if not rows:
        raise ExtensionError(f"celu-speed-chart: no ratio/goal table inside the table:{name} markers")
    return rows


DTYPE_COLORS = {"float32": "#4c78a8", "float64": "#f58518"}


def speed_svg(rows):
    """An SVG bar chart: one group per case, one bar per dtype, length ratio / goal."""
    cases = list(dict.fromkeys(case for case, *_ in rows))
    dtypes = list(dict.fromkeys(dtype for _, dtype, *_ in rows))
    value = {(c, d): (r, g, rt, gt) for c, d, r, g, rt, gt in rows}
    bar, gap, label_w, plot_w, top = 13, 9, 330, 480, 34
    scale_max = max(2.0, max(r / g for _, _, r, g, *_ in rows) * 1.05)
    group_h = bar * len(dtypes) + gap
    height = top + group_h * len(cases) + 28
    x_of = lambda v: label_w + plot_w * v / scale_max  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 150}" height="{height}" '
           'font-family="sans-serif" font-size="12" role="img" '
           'aria-label="Each CPU ratio over its goal (1 = at the goal, lower is better)">']
    for i, dtype in enumerate(dtypes):  # legend
        x = label_w + 150 * i
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{DTYPE_COLORS.get(dtype, "#888")}"/>'
                   f'<text x="{x + 17}" y="16">{html.escape(dtype)}</text>')
    for tick in range(int(scale_max) + 1):
        x = x_of(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 24}" '
                   f'stroke="{"#222" if tick == 1 else "#ddd"}" stroke-width="{2 if tick == 1 else 1}"/>'
                   f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">'
                   f'{"goal" if tick == 1 else f"{tick}x"}</text>')
    for k, case in enumerate(cases):
        y0 = top + k * group_h
        out.append(f'<text x="{label_w - 8}" y="{y0 + bar * len(dtypes) / 2 + 4:.1f}" '
                   f'text-anchor="end">{html.escape(case)}</text>')
        for i, dtype in enumerate(dtypes):
            if (case, dtype) not in value:
                continue
            ratio, goal, ratio_text, goal_text = value[(case, dtype)]
            y = y0 + i * bar
            out.append(f'<rect x="{label_w}" y="{y}" width="{x_of(ratio / goal) - label_w:.1f}" '
                       f'height="{bar - 2}" fill="{DTYPE_COLORS.get(dtype, "#888")}"/>'
                       f'<text x="{x_of(ratio / goal) + 4:.1f}" y="{y + bar - 3}" font-size="10">'
                       f'{html.escape(ratio_text)} (goal {html.escape(goal_text)})</text>')
    out.append("</svg>")
    return "\n".join(out)


class SpeedChart(SphinxDirective):
    """The ratios.py table inside the ``table:NAME`` markers of this page, as a chart."""

    required_arguments = 1
    has_content = False

    def run(self):
        path = self.env.doc2path(self.env.docname)
        with open(path, encoding="utf-8") as f:
            rows = ratio_rows(f.read(), self.arguments[0])
        svg = speed_svg(rows)
        return [nodes.raw("", f'<div class="speed-chart">{svg}</div>', format="html")]


def _private_names_not_forwarded():
    import celu_numba

    for name in celu_numba._ufuncs.KERNELS:
        cls = type(getattr(celu_numba, name))
        forward = getattr(cls, "__getattr__", None)
        if forward is None or getattr(forward, "_celu_docs", False):
            continue

        def __getattr__(self, attribute, _forward=forward):
            if attribute.startswith("_"):
                raise AttributeError(attribute)
            return _forward(self, attribute)

        __getattr__._celu_docs = True
        cls.__getattr__ = __getattr__


def _refuse_compiles(app, config):
    from celu_numba import _ufuncs

    _private_names_not_forwarded()

    build = _ufuncs.__dict__.get("__getattr__")

    def refuse(name):
        if name in _ufuncs.KERNELS:
            _compile_attempts.append(name)
            # not AttributeError: CeluFunction.ufunc is a property, and an AttributeError
            # raised in it would send the look-up to CeluFunction.__getattr__ again
            raise RuntimeError(f"the docs build does not compile (celu_numba._ufuncs.{name})")
        if build is None:
            raise AttributeError(name)
        return build(name)

    _ufuncs.__getattr__ = refuse


def _check_no_compile(app, exception):
    if exception is None and _compile_attempts:
        raise ExtensionError(
            "the docs build tried to build (compile) the ufuncs "
            f"{sorted(set(_compile_attempts))}: something looked up an attribute that "
            "CeluFunction forwards to its ufunc"
        )


def setup(app):
    app.add_directive("celu-cli-help", CliHelp)
    app.add_directive("celu-speed-chart", SpeedChart)
    app.connect("config-inited", _refuse_compiles)
    app.connect("build-finished", _check_no_compile)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
