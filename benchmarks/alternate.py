"""Time two checkouts of celu_numba against each other, alternating, on this machine.

    python benchmarks/alternate.py OLD_DIR NEW_DIR [--rounds 2] [--size N] [--repeat R]
                                   [--dtype float32] [--threads T]

Each round runs one fresh interpreter per checkout (old then new, new then old in the
next round: the order of a pair matters on a shared VM; the package imported
from that directory, each with its own cache directory, compiled before timing), which
times every function on --size contiguous elements with a scalar alpha and ``out=``,
and the float32 ``celu`` with an array alpha, best of --repeat.  The table gives each
round's times and the old / new ratio of the best of the rounds: what a change did to
the kernels, measured in alternation so that both see the same state of the machine.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

#: The child: times the functions of the celu_numba found first on sys.path.
CHILD = r"""
import json, sys, time
import numpy as np
import celu_numba as cn
size, repeat, dtype = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cn.compile(dtypes=[dtype])
rng = np.random.default_rng(0)
x = (3 * rng.standard_normal(size)).astype(dtype)
g = rng.standard_normal(size).astype(dtype)
alphas = (np.abs(rng.standard_normal(size)) + 0.5).astype(dtype)
o1, o2, o3 = (np.empty_like(x) for _ in range(3))
cases = {
    "celu": lambda: cn.celu(x, 1.5, out=o1),
    "celu_grad": lambda: cn.celu_grad(x, 1.5, out=o1),
    "celu_grad_alpha": lambda: cn.celu_grad_alpha(x, 1.5, out=o1),
    "celu_backward": lambda: cn.celu_backward(g, x, 1.5, out=o1),
    "celu_backward_from_output": lambda: cn.celu_backward_from_output(g, x, 1.5, out=o1),
    "celu_and_grads": lambda: cn.celu_and_grads(x, 1.5, out=(o1, o2, o3)),
    "celu, alpha array": lambda: cn.celu(x, alphas, out=o1),
}
best = {}
for name, call in cases.items():
    call()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    best[name] = min(times)
best["module"] = cn.__file__
print(json.dumps(best))
"""


def run(checkout, cache, size, repeat, dtype, threads):
    """{case: best seconds} from one child interpreter importing `checkout`'s package."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout), CELU_NUMBA_CACHE_DIR=cache,
               PYTHONWARNINGS="ignore")
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    # run from the checkout: `python -c` puts the working directory first on sys.path
    out = subprocess.run([sys.executable, "-c", CHILD, str(size), str(repeat), dtype], env=env,
                         cwd=checkout, check=True, capture_output=True, text=True).stdout
    best = json.loads(out.strip().splitlines()[-1])
    module = best.pop("module")
    if not module.startswith(os.path.join(os.path.abspath(checkout), "")):
        raise RuntimeError(f"{checkout}: imported celu_numba from {module}")
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    caches = [tempfile.mkdtemp(prefix="celu_alternate_") for _ in range(2)]
    results = {"old": [], "new": []}
    runs = list(zip(("old", "new"), (args.old, args.new), caches))
    for round_ in range(args.rounds):
        # old first in even rounds, new first in odd ones: the first process of a pair
        # was up to 20% faster on a shared VM, whichever code it ran
        for label, checkout, cache in runs if round_ % 2 == 0 else runs[::-1]:
            results[label].append(run(checkout, cache, args.size, args.repeat, args.dtype, args.threads))
    print(f"{args.dtype}, {args.size:,} elements, best of {args.repeat}, {args.rounds} rounds "
          f"(old: {args.old}, new: {args.new}); ms per round")
    print()
    print("| case | old | new | old / new (best round of each) |")
    print("|---|---|---|---|")
    for case in results["old"][0]:
        old = [r[case] for r in results["old"]]
        new = [r[case] for r in results["new"]]
        print(f"| {case} | {' / '.join(f'{t * 1e3:.3g}' for t in old)} | "
              f"{' / '.join(f'{t * 1e3:.3g}' for t in new)} | {min(old) / min(new):.2f} |")
    return results


if __name__ == "__main__":
    main()
