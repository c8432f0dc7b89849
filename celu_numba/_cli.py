"""The command line, ``python -m celu_numba [bench | plot | compile]``: parsing and the jobs.

Exit codes: 0 success; 1 the job ran and failed (self-check above its goal, CUDA
asked for but unusable, matplotlib missing, file not writable); 2 a usage error
(unknown subcommand or option, bad value).  Errors are one line on stderr.
"""

import argparse
import sys

import numpy as np

import celu_numba

PROG = "python -m celu_numba"


class CliError(Exception):
    """An error to show the user as one line (exit code 1)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (plus where to find help), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    try:
        value = float(text)  # accepts 1e6
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_integer() or value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(value)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def _alphas(text):
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not all(v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"every alpha must be > 0, got {text!r}")
    return values


def build_parser():
    from . import _cli_bench, _plot

    parser = _Parser(
        prog=PROG,
        description=(
            "CELU (Barron 2017) as NumPy ufuncs compiled with numba. With no command: "
            "versions, threads, CUDA, an accuracy self-check against mpmath, and a "
            "throughput line. Exit code 0 when all is well, 1 when the self-check fails."
        ),
    )
    parser.add_argument("--version", action="version", version=f"celu_numba {celu_numba.__version__}")
    parser.set_defaults(job=_main_job)
    sub = parser.add_subparsers(dest="command", metavar="{bench,plot,compile}", parser_class=_Parser)

    bench = sub.add_parser(
        "bench",
        help="throughput table of the six functions against NumPy (and torch, jax, CuPy if installed)",
        description=(
            "Throughput (million elements per second, best of repeated calls) of each function "
            "and dtype, for celu_numba, the NumPy expression of the same formula and, when "
            "installed, torch, jax and CuPy (cuda target). A progress bar is shown on stderr "
            "for runs over a second."
        ),
    )
    bench.add_argument("--size", type=_positive_int, default=1_000_000,
                       help="elements per array (default 1000000; 1e6 works)")
    bench.add_argument("--dtype", choices=("float32", "float64", "all"), default="all",
                       help="dtype to measure (default: all)")
    bench.add_argument("--target", choices=_cli_bench.TARGETS, default="cpu",
                       help="cpu: all numba threads (default); serial: numba.set_num_threads(1); "
                            "cuda: the GPU (an error if CUDA is not usable)")
    bench.add_argument("--function", action="append", choices=_cli_bench.FUNCTIONS, metavar="NAME",
                       help="measure only this function (repeatable; default: all six: "
                            + ", ".join(_cli_bench.FUNCTIONS) + ")")
    bench.add_argument("--min-time", type=_positive_float, default=_cli_bench.MIN_TIME,
                       help=f"seconds spent on each measurement (default {_cli_bench.MIN_TIME})")
    bench.add_argument("--no-peers", action="store_true", help="skip torch, jax and CuPy")
    bench.set_defaults(job=_bench_job)

    plot = sub.add_parser(
        "plot",
        help="draw the paper's Figure 1 (ELU vs CELU, values and d/dx); needs matplotlib",
        description=(
            "Reproduce Figure 1 of Barron (2017): ELU (top) and CELU (bottom) for several "
            "alphas, values (left) and derivatives with respect to x (right). ELU's "
            "derivative jumps at 0 unless alpha = 1; CELU's is continuous. Needs "
            "matplotlib (pip install 'celu-numba[plot]')."
        ),
    )
    plot.add_argument("-o", "--output", required=True, metavar="FILE.png",
                      help="where to write the figure (format from the extension: png, pdf, svg)")
    plot.add_argument("--alphas", type=_alphas, default=_plot.ALPHAS,
                      help="comma-separated alphas (default: "
                           + ",".join(f"{a:g}" for a in _plot.ALPHAS) + ")")
    plot.add_argument("--dpi", type=_positive_int, default=120, help="resolution (default 120)")
    plot.set_defaults(job=_plot_job)

    compile_ = sub.add_parser(
        "compile",
        help="compile the CPU loops into the cache now (for container images, CI caches, cluster workers)",
        description=(
            "Compile every CPU loop of the six functions into the cache directory, where every "
            "later process that uses the same directory loads them in milliseconds instead of "
            "compiling them on first use. The directory is --cache-dir, else "
            "CELU_NUMBA_CACHE_DIR, else ~/.cache/celu_numba. CUDA kernels compile on the GPU "
            "machine at first launch."
        ),
    )
    compile_.add_argument("--cache-dir", metavar="DIR",
                          help="the cache directory to fill (default: CELU_NUMBA_CACHE_DIR or ~/.cache/celu_numba); "
                               "point CELU_NUMBA_CACHE_DIR at it where the functions are used")
    compile_.add_argument("--dtype", choices=("float32", "float64", "all"), default="all",
                          help="the loops to compile (default: all; integer inputs use float64's)")
    compile_.add_argument("--function", action="append", choices=tuple(celu_numba._ufuncs.KERNELS), metavar="NAME",
                          help="compile only this function (repeatable; default: all six)")
    compile_.set_defaults(job=_compile_job)
    return parser


# --- the jobs


def _print_step(out):
    """A compile report (see celu_numba.compile) that prints one line per step."""

    def report(what, seconds, loaded):
        print(f"{'loaded' if loaded else 'compiled'} {what} in {seconds:.2f} s", file=out, flush=True)

    return report


def _main_job(args, out):
    from . import _cli_bench, _cli_env, _selfcheck

    print(_cli_env.versions(), file=out)
    celu_numba.compile(report=_print_step(out))  # each step printed: no silent wait
    celu_numba.celu(np.zeros(1))  # the threads start
    print(_cli_env.threads(), file=out)
    print(_cli_env.cuda_line(), file=out)
    status = 0
    if not _selfcheck.mpmath_available():
        print("self-check: skipped, it needs mpmath (pip install mpmath)", file=out)
    else:
        results = _selfcheck.check()
        points = results[0].points if results else 0
        print(f"self-check against mpmath ({points} points per dtype), worst error in ULP:", file=out)
        print(_selfcheck.format_results(results), file=out)
        failed = [f"{r.name} {r.dtype} ({r.worst_ulp:.3g} > {r.goal:g})" for r in results if not r.ok]
        if failed:
            print("self-check FAILED: above the goal: " + ", ".join(failed), file=out)
            status = 1
        else:
            print("self-check passed", file=out)
    print(_cli_bench.summary_line(), file=out)
    return status


def _bench_job(args, out):
    from . import _cli_bench

    dtypes = _cli_bench.DTYPES if args.dtype == "all" else (args.dtype,)
    functions = tuple(args.function) if args.function else _cli_bench.FUNCTIONS
    try:
        table = _cli_bench.run(functions, dtypes, args.size, args.target,
                               peers=not args.no_peers, min_time=args.min_time)
    except _cli_bench.BenchError as error:
        raise CliError(str(error)) from None
    print(_cli_bench.format_table(table), file=out)
    return 0


def _compile_job(args, out):
    from . import _compile

    dtypes = _compile.DTYPES if args.dtype == "all" else (args.dtype,)
    try:
        directory = celu_numba.compile(args.function, dtypes, args.cache_dir, report=_print_step(out))
    except OSError as error:
        raise CliError(f"cannot use the cache directory: {error}") from None
    print(f"cached in {directory}", file=out)
    return 0


def _plot_job(args, out):
    from . import _plot

    try:
        _plot.save(args.output, args.alphas, dpi=args.dpi)
    except ImportError as error:
        raise CliError(str(error)) from None
    except (OSError, ValueError) as error:
        raise CliError(f"cannot write {args.output}: {error}") from None
    print(f"wrote {args.output}", file=out)
    return 0


def main(argv=None, out=None):
    """Run the command line; returns the exit code."""
    out = sys.stdout if out is None else out
    parser = build_parser()
    args = parser.parse_args(argv)
    name = f"{PROG} {args.command}" if args.command else PROG
    try:
        return args.job(args, out)
    except CliError as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
