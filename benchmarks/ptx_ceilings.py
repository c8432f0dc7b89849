"""Arithmetic per element of every CUDA kernel, from its PTX, and what it allows on GPUs.

    python benchmarks/ptx_ceilings.py [--markdown]

No GPU needed: each function's contiguous kernel (scalar alpha, float32 and float64) is
compiled to PTX for sm_90 by NVVM, and the float32 and float64 arithmetic instructions of
its main path (first vector load to last vector store, ``items`` elements per thread) are
counted and divided by ``items``.  Each card's arithmetic ceiling, in elements per
second, is 1 / (n32 / R32 + n64 / R64) with R the card's published FP32 and FP64 rates
in instructions per second (FLOP/s over 2: an FMA is one instruction, two FLOPs); its
memory limit is its published bandwidth over the bytes the call moves per element.
"""

import argparse
import os
import sys

#: PTX opcodes that run on the floating-point pipes (selp, mov, neg, abs do not).
ARITHMETIC = ("fma", "mul", "add", "sub", "setp", "min", "max", "rcp", "div", "cvt", "testp")

#: name: (FP32 TFLOP/s, FP64 TFLOP/s, memory GB/s), the vendor's published figures.
CARDS = {
    "T4": (8.1, 0.25, 320.0),
    "L4": (30.3, 0.49, 300.0),
    "RTX 4090": (82.6, 1.29, 1008.0),
}


def arithmetic_type(line):
    """"f32" or "f64" for a PTX floating-point arithmetic instruction of that type (a
    conversion cvt.<to>.<from>: the type it produces), else None."""
    parts = line.split()[0].split(".") if line.strip() else [""]
    if parts[0] not in ARITHMETIC:
        return None
    for kind in ("f32", "f64"):
        if parts[-1] == kind or (parts[0] == "cvt" and kind in parts[1:3]):
            return kind
    return None


def per_element(ptx_text, items):
    """{"f32": n, "f64": n}: arithmetic instructions per element on the main path (first
    vector load to last vector store) of a kernel's PTX with `items` elements per thread."""
    lines = [line.strip() for line in ptx_text.splitlines()]
    loads = [i for i, line in enumerate(lines) if line.startswith("ld.global.v")]
    stores = [i for i, line in enumerate(lines) if line.startswith("st.global.v")]
    counts = {"f32": 0, "f64": 0}
    for line in lines[loads[0]:stores[-1] + 1]:
        kind = arithmetic_type(line)
        if kind:
            counts[kind] += 1
    return {kind: count / items for kind, count in counts.items()}


def kernel_keys():
    """(function, dtype code, key): the contiguous scalar-alpha kernel of each function."""
    from celu_numba import _cuda_kernels, _ufuncs

    keys = []
    for name, (nin, nout, _) in _ufuncs.KERNELS.items():
        for code in ("f4", "f8"):
            layout = ("flat", ("a",) * (nin - 1) + ("s",), True)
            keys.append((name, code, _cuda_kernels.KernelKey(name, (code,) * (nin - 1) + ("s",), code,
                                                            (code,) * nout, layout)))
    return keys


def compile_for_sm90(key):
    """The PTX of a kernel for sm_90 with no GPU: numba-cuda compiles the device functions a
    kernel calls for the current device, which a stand-in of compute capability 9.0 is."""
    from numba.cuda import dispatcher

    from celu_numba import _cuda_kernels

    class ComputeCapability90:
        compute_capability = (9, 0)
        id = 0

    original = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: ComputeCapability90()
    try:
        return _cuda_kernels.ptx(key, cc=(9, 0))
    finally:
        dispatcher.get_current_device = original


def ceiling(n32, n64, card):
    """Elements per second the card's arithmetic allows for n32 + n64 instructions."""
    fp32, fp64, _ = CARDS[card]
    return 1.0 / (n32 / (fp32 * 1e12 / 2) + n64 / (fp64 * 1e12 / 2))


def rows():
    """One row per kernel: name, dtype, f32 and f64 per element, then for each card its
    arithmetic ceiling and memory limit in G elements/s."""
    from celu_numba import _cuda_kernels, _ufuncs

    table = []
    for name, code, key in kernel_keys():
        counts = per_element(compile_for_sm90(key), _cuda_kernels.tuning(key).items)
        nin, nout, _ = _ufuncs.KERNELS[name]
        moved = int(code[1:]) * (nin - 1 + nout)  # alpha is a scalar
        row = [name, "float32" if code == "f4" else "float64", f"{counts['f32']:.1f}", f"{counts['f64']:.1f}"]
        for card in CARDS:
            row += [f"{ceiling(counts['f32'], counts['f64'], card) / 1e9:.0f}",
                    f"{CARDS[card][2] / moved:.0f}"]
        table.append(row)
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    header = ["function", "dtype", "FP32 / element", "FP64 / element"]
    for card in CARDS:
        header += [f"{card} arithmetic", f"{card} memory"]
    print("G elements/s; cards' published FP32 / FP64 TFLOP/s and GB/s: "
          + ", ".join(f"{card} {a} / {b}, {c}" for card, (a, b, c) in CARDS.items()))
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows():
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
