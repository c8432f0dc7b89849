"""The scalar math of CELU, written once and compiled for every target.

Every function here is a plain Python function of float64 scalars, registered
with :func:`numba.extending.register_jitable`, so that numba can compile it into
the CPU ufunc loops (``_ufunc``) and into CUDA device code (``cuda``), and the
CUDA simulator can run it as Python.  ``forceinline=True`` has LLVM inline each
one into its caller (so that the loops vectorize), where numba's IR inlining
(``inline="always"``) re-typed every function in every loop: minutes of compile.
Nothing here calls libm: ``exp`` and ``expm1`` are written out (range reduction,
polynomial, exponent bits) so that LLVM can vectorize the loops that call them.

With ``z = x / alpha``::

    celu(x, a)            = x                    (x >= 0)
                          = a * expm1(z)         (x < 0)
    d celu / dx           = 1                    (x >= 0)
                          = exp(z)               (x < 0)
    d celu / d alpha      = 0                    (x >= 0)
                          = exp(z) (1 - z) - 1   (x < 0)

Limits returned exactly: alpha == 0 is ReLU, alpha == inf the identity; alpha < 0
or NaN gives NaN.  No branch tests them: x is clamped into [z_floor * alpha, 0] first
(x >= 0 gives z = 0, where exp(z) = 1 is the x-derivative and z = 0 selects x for the
value) and the limits are folded into alpha and 1/alpha (``_alpha_terms``), work on
alpha alone that a loop over x with a scalar alpha does once.
Accuracy (see ../shared/CELU.md and tests/test_accuracy.py):

* ``z`` is carried as an unevaluated sum ``z_hi + z_lo`` (a compensated quotient),
  because ``exp`` multiplies the relative error of ``z`` by ``|z|`` (up to ~745).
* ``d/dalpha`` cancels catastrophically near ``z = 0``; there it is evaluated as
  its series ``-z^2 * sum_{n>=2} (n-1)/n! z^(n-2)`` (no cancellation), the sum
  a polynomial fitted on [-1, 0].

The float64 functions serve every dtype but float32; ``celu_float32`` and the other
``*_float32`` functions at the end serve the float32 loops: float32 arithmetic with
error-free transforms, within 1 ULP.
"""

import math
from fractions import Fraction

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

# --- exact helpers: plain Python for the simulator, one LLVM instruction when compiled


def fma(a, b, c):
    """a * b + c (float64) with a single rounding."""
    if math.isfinite(a) and math.isfinite(b) and math.isfinite(c):
        return float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))
    return a * b + c


def divide(a, b):
    """a / b with IEEE semantics: +-inf or NaN for b == 0, where Python would raise."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def pow2(k):
    """2.0 ** k for an integer k in [-1022, 1023] (a normal float64), built from its
    exponent bits: any other k gives what those bits give (as the compiled version)."""
    return float(np.array(((int(k) + 1023) << 52) & (2**64 - 1), np.uint64).view(np.float64))


def bits_float64(t):
    """The bits of the float64 t as an int64 (a bit cast)."""
    return np.array(t, np.float64).view(np.int64)[()]


@intrinsic
def _llvm_fma(typingctx, a, b, c):
    ty = types.float64
    sig = ty(ty, ty, ty)

    def codegen(context, builder, signature, args):
        value = context.get_value_type(ty)
        fnty = ir.FunctionType(value, [value] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.fma.f{ty.bitwidth}")
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def _llvm_pow2(typingctx, k):
    """int64 k -> the float64 whose bits are (k + 1023) << 52: 2.0 ** k for k in
    [-1022, 1023] (pow2 compiled)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        (k,) = args
        bits = builder.shl(builder.add(k, k.type(1023)), k.type(52))
        return builder.bitcast(bits, context.get_value_type(types.float64))

    return sig, codegen


@intrinsic
def _llvm_bits_float64(typingctx, t):
    """The bits of the float64 t as an int64 (bits_float64 compiled)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


@overload(fma, target="generic")
def _fma_overload(a, b, c):
    return lambda a, b, c: _llvm_fma(a, b, c)


@overload(divide, target="generic")
def _divide_overload(a, b):
    return lambda a, b: a / b


def _compile_as(function, lowered):
    """Compiled code (any target) calls the intrinsic `lowered` where the plain-Python
    `function` of one argument is called; Python (the CUDA simulator) keeps `function`."""
    overload(function, target="generic", strict=False)(lambda v: lambda v: lowered(v))


_compile_as(pow2, _llvm_pow2)
_compile_as(bits_float64, _llvm_bits_float64)


# float32 helpers of the float32 kernels (the same pattern)


def _to_float32(value):
    """The float32 nearest to an exact Fraction (ties to even), rounded once: the float64
    nearest is made odd where inexact (round to odd), then rounded to float32."""
    d = float(value)
    if Fraction(d) != value and int(np.float64(d).view(np.int64)) % 2 == 0:
        d = float(np.nextafter(d, math.inf if value > Fraction(d) else -math.inf))
    return np.float32(d)


def fma_float32(a, b, c):
    """a * b + c for float32 a, b and c, rounded once to float32 (llvm.fma.f32 compiled)."""
    if math.isfinite(a) and math.isfinite(b) and math.isfinite(c):
        return _to_float32(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))
    with np.errstate(all="ignore"):
        return np.float32(np.float64(a) * np.float64(b) + np.float64(c))  # inf or NaN: exact


def exponent_float32(rounded):
    """The float32 whose bits are those of the float32 `rounded` shifted left by 23: for
    rounded = M + j (M = 1.5 * 2**23, 0 < j < 256) it is 2.0 ** (j - 127)."""
    bits = int(np.array(rounded, np.float32).view(np.uint32)[()])
    return np.array((bits << 23) & 0xFFFFFFFF, np.uint32).view(np.float32)[()]


@intrinsic
def _llvm_fma_float32(typingctx, a, b, c):
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        value = context.get_value_type(types.float32)
        fnty = ir.FunctionType(value, [value] * 3)
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f32"), args)

    return sig, codegen


@intrinsic
def _llvm_exponent_float32(typingctx, rounded):
    """exponent_float32 compiled: a bit cast, a shift, a bit cast."""
    sig = types.float32(types.float32)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        bits = builder.shl(builder.bitcast(args[0], i32), i32(23))
        return builder.bitcast(bits, context.get_value_type(types.float32))

    return sig, codegen


@overload(fma_float32, target="generic")
def _fma_float32_overload(a, b, c):
    return lambda a, b, c: _llvm_fma_float32(a, b, c)


_compile_as(exponent_float32, _llvm_exponent_float32)


# --- constants

LN2_HI = 6.93147180369123816490e-01  # high bits of ln 2: k * LN2_HI is exact for |k| < 2**11
LN2_LO = 1.90821492927058770002e-10  # ln 2 - LN2_HI
LN2 = math.log(2.0)  # ln 2 to 2**-55.3: k * LN2 is within 2**-48 of k ln 2 for |k| <= 150
INV_LN2 = 1.44269504088896338700e00
ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52: (t + M) - M rounds t to an integer
Z_FLOOR = -746.0  # exp(z) == 0 in float64 below this; x is clamped to z >= Z_FLOOR
# bits(M): bits(M + j) = this + j for an integer 0 <= j < 2**51, and its low 12 bits are 0
# (see _power_of_two)
MAGIC_BITS = int(np.array(ROUND_MAGIC).view(np.int64))
# alpha outside [2**-1000, 2**1000] is rescaled with x (by 2**64 or 2**-64), so that 1/alpha
# and the clamp z_floor * alpha stay normal and finite
SMALL_ALPHA, LARGE_ALPHA = 2.0**-1000, 2.0**1000
TINY = 2.0**-1022  # alpha == 0 (ReLU) computes as this alpha: exp(z) rounds to 0
# |z| below this: celu(x) rounds to x (|x z / 2| < 2**-55 |x|, under half an ULP of x)
Z_IDENTITY = -(2.0**-54)
SERIES_LIMIT = 1.0  # |z| below this: d/dalpha from its series

# Coefficients highest degree first.
# expm1(r) = r + r^2 * Q(r), Q(r) = sum_{n>=2} r^(n-2) / n!, for |r| <= ln(2)/2: a
# degree-10 fit (mpmath.chebyfit on [-0.3466, 0.3466]), r^2 Q(r) within 2**-60 of
# expm1(r) - r relative to expm1(r) with these float64 coefficients (test_math checks
# the bound against mpmath), as close as the degree-12 Taylor polynomial gets
_Q_COEFFS = (
    2.0914685161418067e-09,
    2.5105214474751413e-08,
    2.7557273647451087e-07,
    2.7557255406285044e-06,
    2.480158732554432e-05,
    0.00019841269874815834,
    0.001388888888888375,
    0.008333333333326136,
    0.04166666666666667,
    0.1666666666666667,
    0.5,
)
# d/dalpha = -z^2 * S(z), S(z) = sum_{n>=2} (n-1)/n! z^(n-2), for -1 < z <= 0: a degree-12
# fit (mpmath.chebyfit on [-1, 0]), within 2**-55.3 relative with these float64
# coefficients (test_math checks the bound against mpmath); the Taylor polynomial
# needs 19 terms (degree 18) for the same
_S_COEFFS = (
    9.392224924947724e-11,
    1.7810074886854266e-09,
    2.2729850219305894e-08,
    2.5027397176239713e-07,
    2.479981533988262e-06,
    2.2045767746752142e-05,
    0.00017361108136500547,
    0.0011904761836979097,
    0.006944444443451722,
    0.03333333333324672,
    0.12499999999999607,
    0.33333333333333326,
    0.5,
)



def _polynomial(coeffs_high_first):
    """A jitable t -> sum c_i t^i by Horner's rule with FMAs, written out term by term
    (a loop over a constant tuple is not always unrolled, and then not vectorized)."""
    steps = "".join(f"    acc = fma(acc, t, {c!r})\n" for c in coeffs_high_first[1:])
    namespace = {"fma": fma}
    exec(f"def polynomial(t):\n    acc = {coeffs_high_first[0]!r}\n{steps}    return acc\n", namespace)
    return register_jitable(forceinline=True)(namespace["polynomial"])


_q_polynomial = _polynomial(_Q_COEFFS)
_s_polynomial = _polynomial(_S_COEFFS)


# --- the shared negative branch


@register_jitable(forceinline=True)
def _alpha_terms(alpha):
    """The work on alpha alone (hoisted out of a loop over x when alpha is a scalar):
    (scale, alphas, inv, x_floor).

    alphas = alpha * scale for a power of two scale that brings alpha into [2**-1000,
    2**1000] (x is scaled with it), inv = 1 / alphas, x_floor = Z_FLOOR * alphas (x is
    clamped there).  The limits and the invalid alphas are folded in, so that the kernels
    need no test of their own: alpha == 0 computes as alpha = 2**-1022 (exp(z) rounds to
    0), alpha == inf has inv = 0 (z = 0: the identity), alpha < 0 or NaN has inv = NaN
    (every result NaN).
    """
    scale = 2.0**64 if alpha < SMALL_ALPHA else (2.0**-64 if alpha > LARGE_ALPHA else 1.0)
    alphas, inv = _fold_limits(alpha, alpha * scale)
    return scale, alphas, inv, Z_FLOOR * alphas


@register_jitable(forceinline=True)
def _fold_limits(alpha, alphas):
    """(alphas, 1 / alphas) for alpha and alphas = alpha brought into range (float64),
    with the limits and the invalid alphas folded in: alpha == 0 computes as alphas =
    2**-1022, alpha == inf has inv = 0, alpha < 0 or NaN has inv = NaN."""
    regular = (alphas > 0.0) & (alphas < math.inf)
    alphas = alphas if regular else (TINY if alpha == 0.0 else 1.0)
    inv = divide(1.0, alphas)
    inv = 0.0 if alpha == math.inf else inv
    inv = inv if alpha >= 0.0 else math.nan
    return alphas, inv


@register_jitable(forceinline=True)
def quotient(x, alpha):
    """Compensated quotient of the clamped x: (z_hi, z_lo), z_hi + z_lo = x / alpha to
    ~2**-104, with x clamped into [Z_FLOOR alpha, 0] first: x >= 0 gives z = 0 (exp(z) =
    1, the value of every x-derivative there), z below Z_FLOOR needs no more precision
    (exp(z) is 0), and NaN stays NaN.

    z_hi = x * (1/alpha); z_lo = fma(-z_hi, alpha, x) / alpha.  A power-of-two
    rescaling of both x and alpha leaves (z_hi, z_lo) unchanged, bit for bit.
    """
    scale, alphas, inv, x_floor = _alpha_terms(alpha)
    xc = _clamp(x * scale, x_floor, 0.0)
    z_hi = xc * inv
    return z_hi, fma(-z_hi, alphas, xc) * inv


@register_jitable(forceinline=True)
def _clamp(x, lo, hi):
    """x clamped into [lo, hi] (of x's type); NaN stays NaN."""
    x = lo if x < lo else x
    return hi if x > hi else x


@register_jitable(forceinline=True)
def _power_of_two(z, offset):
    """(k, 2**(k + offset)) for k = z / ln 2 rounded to an integer (float64 z, |z| < 2**50;
    k + offset in [-1022, 1023]; a NaN z gives NaN and some power).

    The rounding constant M + 1023 + offset leaves k + offset + 1023, the exponent field
    of 2**(k + offset), in the low 12 bits of the rounded sum, so that 2**(k + offset) is
    those bits shifted into place: no integer add.
    """
    magic = ROUND_MAGIC + (1023 + offset)  # an integer below 2**53: exact
    rounded = fma(z, INV_LN2, magic)
    return rounded - magic, pow2(bits_float64(rounded) - (MAGIC_BITS + 1023))


@register_jitable(forceinline=True)
def _negative_branch(x, alpha):
    """(z_hi, z_lo, expm1(z), exp(z)) of the clamped z (see quotient)."""
    z_hi, z_lo = quotient(x, alpha)
    kf, s = _power_of_two(z_hi, 200)  # s = 2**(k + 200): normal for every k
    r = fma(-kf, LN2_LO, fma(-kf, LN2_HI, z_hi)) + z_lo  # (the inner fma is exact)
    p = fma(r, r * _q_polynomial(r), r)  # expm1(r)
    e = fma(s, p, s) * 2.0**-200  # (a NaN z gives some k: p is NaN)
    s = s * 2.0**-200
    em1 = fma(s, p, s - 1.0)
    return z_hi, z_lo, em1, e


@register_jitable(forceinline=True)
def _nan_where_nan(z, out):
    """out, or the NaN constant where z is NaN (x NaN, alpha invalid): a NaN result has
    the same bits on every path, where arithmetic on NaNs (and on the garbage 2**k of a
    NaN z) would leave them to the compiler's choice of operand order."""
    return out if z == z else math.nan


@register_jitable(forceinline=True)
def _is_invalid(x, alpha):
    """x is NaN, or alpha < 0 or NaN: the result is NaN."""
    return not (alpha >= 0.0) or x != x


@register_jitable(forceinline=True)
def _celu_from(x, alpha, z_hi, em1):
    """celu from z and expm1(z): x where |z| < 2**-54 (x >= 0 and alpha == inf among
    them), else a * expm1(z) (+ 0: alpha == 0 gives +0, not -0)."""
    return _nan_where_nan(z_hi, x if z_hi > Z_IDENTITY else alpha * em1 + 0.0)


@register_jitable(forceinline=True)
def _grad_alpha_from(z_hi, z_lo, em1, e):
    """dCELU/dalpha from z, expm1(z) and exp(z) (0 at z = 0; + 0.0: not -0)."""
    return _nan_where_nan(z_hi, _grad_alpha_negative(z_hi, z_lo, em1, e) + 0.0)


@register_jitable(forceinline=True)
def _grad_alpha_negative(z_hi, z_lo, em1, e):
    """exp(z)(1 - z) - 1 for z = z_hi + z_lo < 0 (both forms computed, one selected)."""
    # |z| < 1: the series, + d'(z_hi) z_lo with d'(z) = -z exp(z)
    series = fma(-(z_hi * e), z_lo, -(z_hi * (z_hi * _s_polynomial(z_hi))))
    # elsewhere the closed form expm1(z) - z exp(z) no longer cancels badly
    closed = fma(-z_lo, e, fma(-z_hi, e, em1))
    return series if z_hi > -SERIES_LIMIT else closed


@register_jitable(forceinline=True)
def celu(x, alpha):
    """CELU(x, a) = max(0, x) + min(0, a * expm1(x / a))."""
    z_hi, z_lo, em1, e = _negative_branch(x, alpha)
    return _celu_from(x, alpha, z_hi, em1)


@register_jitable(forceinline=True)
def celu_grad(x, alpha):
    """dCELU/dx = 1 (x >= 0), exp(x / a) (x < 0): exp(z) of the clamped z."""
    z_hi, z_lo, em1, e = _negative_branch(x, alpha)
    return _nan_where_nan(z_hi, e)


@register_jitable(forceinline=True)
def celu_grad_alpha(x, alpha):
    """dCELU/dalpha = 0 (x >= 0), exp(z)(1 - z) - 1 with z = x / a (x < 0)."""
    z_hi, z_lo, em1, e = _negative_branch(x, alpha)
    return _grad_alpha_from(z_hi, z_lo, em1, e)


@register_jitable(forceinline=True)
def celu_backward(grad_out, x, alpha):
    """grad_out * dCELU/dx."""
    return grad_out * celu_grad(x, alpha)


@register_jitable(forceinline=True)
def celu_backward_from_output(grad_out, y, alpha):
    """grad_out * dCELU/dx from y = celu(x, a): grad_out (y >= 0), grad_out (y / a + 1) (y < 0).

    The slope y / a + 1 is computed as (y + a) / a: for y in [-a, -a/2] the sum is exact
    (Sterbenz), so the slope keeps its relative accuracy where it goes to 0 (y -> -a).
    """
    return _times_slope(grad_out, y, alpha, divide(y + alpha, alpha))


@register_jitable(forceinline=True)
def _times_slope(grad_out, y, alpha, ratio):
    """grad_out * slope, slope = 1 (y >= 0 or alpha == inf), ratio = (y + a) / a (y < 0),
    NaN where y is NaN or alpha < 0 or NaN."""
    slope = 1.0 if (y >= 0.0 or alpha == math.inf) else ratio
    slope = math.nan if _is_invalid(y, alpha) else slope
    return grad_out * slope


@register_jitable(forceinline=True)
def celu_and_grads(x, alpha):
    """(celu, dCELU/dx, dCELU/dalpha) sharing one exp: the same three results, bit for
    bit, from one evaluation of the shared negative branch."""
    z_hi, z_lo, em1, e = _negative_branch(x, alpha)
    return _celu_from(x, alpha, z_hi, em1), _nan_where_nan(z_hi, e), _grad_alpha_from(z_hi, z_lo, em1, e)


# --- float32: the same functions in float32 arithmetic
#
# Used by the float32 loops of every target (float16 too, through them): 16 float32
# lanes per 512-bit vector instead of 8, and GPUs whose float64 is slow.  The method of
# the float64 branch, scaled to float32, with error-free transforms where one float32
# rounding would cost a sizeable part of an ULP:
#
# * z = z_hi + z_lo, the compensated quotient (exp multiplies the error of z by |z|).
# * k = round(z / ln 2); r_hi = z_hi - k ln2_f32 is exact (one FMA: z_hi and ln2_f32 are
#   multiples of 2**-25, |r_hi| < 1/2), and r_lo = z_lo - k (ln 2 - ln2_f32) carries the
#   rest.  r = r_hi + r_lo rounded is only used where its error is harmless (the
#   polynomial), r_hi and r_lo themselves where it is not.
# * expm1(r) = r_hi + (r_lo + r^2 Q(r)), Q a degree-4 or degree-5 minimax polynomial with
#   float32 coefficients; the small sum r_lo + r^2 Q is one FMA.
# * exp(z) = 2**k (1 + r_hi) + 2**k (...): the large part summed with its error (FMA), so
#   that the one rounding that matters is the last.  expm1(z) likewise, with 2**k - 1.
# * A result that can fall among float32's subnormals is computed scaled by a power of
#   two and scaled back last, so that its one rounding to the subnormal grid is the last.
# No float64 operation per element (tests/test_cuda_gpu.py checks the PTX); work on a
# scalar alpha alone (its reciprocal, its rescaling) is done once, outside the loop.

F32 = np.float32
INV_LN2_F32 = F32(INV_LN2)
LN2_F32 = F32(LN2)  # 24 bits: z_hi - k * LN2_F32 is exact in one FMA (|k| <= 280)
LN2_LO_F32 = F32(LN2 - float(LN2_F32))
# 1.5 * 2**23 + bias: fma(z, 1/ln 2, this) rounds z / ln 2 to an integer k and leaves k + bias
# in the low bits of the sum, the exponent field of 2**(k + bias - 127) (exponent_float32)
ROUND_MAGIC_F32 = F32(12582912.0)
Z_FLOOR_F32 = F32(-104.0)  # exp(z) rounds to 0 in float32 below about -103.97
# g exp(z) for float32 g (< 2**128) rounds to 0 below this (celu_backward_float32)
Z_FLOOR_BACKWARD_F32 = F32(-194.0)
# alpha outside [2**-60, 2**60] is rescaled with x (by 2**100 or 2**-64), so that 1/alpha
# and z_lo stay normal (a power-of-two rescaling of x and alpha changes no bit of z)
SMALL_ALPHA_F32, LARGE_ALPHA_F32 = F32(2.0**-60), F32(2.0**60)
TINY_F32 = F32(2.0**-126)  # alpha == 0 (ReLU) computes as this alpha: exp(z) rounds to 0
# |z| below this: celu(x) rounds to x (|x z / 2| < 2**-26 |x|, under half an ULP of x)
Z_IDENTITY_F32 = F32(-(2.0**-25))
# Coefficients highest degree first, float32 numbers.  expm1(r) = r + r^2 Q(r) for |r| <=
# 0.35 (ln(2)/2 and the rounding of k): Lawson's iteration for the minimax error relative
# to expm1(r), the coefficients rounded to float32 one at a time (highest first) and the
# rest refitted.  Degree 5 (celu): within 2**-28.6 of expm1 relative; degree 4 (exp, where
# r^2 Q is at most 6% of exp(r)): within 2**-25.7 of expm1 relative, 2**-27 of exp(r)
# (test_math checks both bounds against mpmath).
_Q5_COEFFS_F32 = (0.0001984597, 0.0013941663, 0.0083333915, 0.041666348, 0.16666666, 0.5)
_Q4_COEFFS_F32 = (0.001388239, 0.008367187, 0.041667223, 0.16666539, 0.49999997)


def _polynomial_float32(coeffs_high_first):
    """_polynomial in float32: float32 coefficients and float32 FMAs."""
    steps = "".join(f"    acc = fma_float32(acc, t, F32({float(c)!r}))\n" for c in coeffs_high_first[1:])
    namespace = {"fma_float32": fma_float32, "F32": F32}
    exec(f"def polynomial(t):\n    acc = F32({float(coeffs_high_first[0])!r})\n{steps}    return acc\n", namespace)
    return register_jitable(forceinline=True)(namespace["polynomial"])


_q5_polynomial_f32 = _polynomial_float32(_Q5_COEFFS_F32)
_q4_polynomial_f32 = _polynomial_float32(_Q4_COEFFS_F32)


def float32_name(name):
    """The name of the float32 version of the kernel `name`, ``<name>_float32``: what the
    float32 loops of every target call (every kernel has one)."""
    return name + "_float32"


@register_jitable(forceinline=True)
def _nan_where_nan_float32(z, out):
    """_nan_where_nan for float32 results."""
    return out if z == z else F32(math.nan)


@register_jitable(forceinline=True)
def _alpha_terms_float32(alpha, z_floor):
    """The work on alpha alone (hoisted out of a loop over x when alpha is a scalar), in
    float32: (scale, alphas, inv, x_floor, unscale).

    alphas = alpha * scale for a power of two scale that brings alpha into [2**-60,
    2**60] (x is scaled with it, a value alphas * expm1(z) scaled back by unscale = 1 /
    scale: one rounding, where a subnormal alpha would round twice), inv = 1 / alphas,
    x_floor = z_floor * alphas (x is clamped there).  The limits and the invalid alphas
    are folded in as _fold_limits does: alpha == 0 computes as 2**-126 (exp(z) rounds to
    0) with unscale = -0.0 (the value is then +0), alpha == inf has inv = 0 (z = 0), alpha
    < 0 or NaN inv = NaN.
    """
    small = alpha < SMALL_ALPHA_F32
    large = alpha > LARGE_ALPHA_F32
    scale = F32(2.0**100) if small else (F32(2.0**-64) if large else F32(1.0))
    alphas = alpha * scale
    # clamped, not selected: alpha == 0 computes as TINY_F32, alpha == inf as 2**64 (where
    # inv = 0 makes z = 0), a NaN stays NaN.  (A test of 0 < alphas < inf compiles to an
    # integer range check whose all-ones constant carries a dependency from one vector
    # iteration to the next: 2.5x slower loops over an array of alphas.)
    alphas = _clamp(alphas, TINY_F32, F32(2.0**64))
    inv = F32(1.0) / alphas
    inv = F32(0.0) if alpha == F32(math.inf) else inv
    inv = inv if alpha >= F32(0.0) else F32(math.nan)
    unscale = F32(2.0**-100) if small else (F32(2.0**64) if large else F32(1.0))
    unscale = F32(-0.0) if alpha == F32(0.0) else unscale
    return scale, alphas, inv, z_floor * alphas, unscale


@register_jitable(forceinline=True)
def _quotient_float32(x, alpha, z_floor):
    """(xs, z_hi, z_lo, alphas, unscale) for float32 x and alpha: z = z_hi + z_lo = x /
    alpha (a compensated quotient of xs = x * scale, clamped into [z_floor alphas, 0]
    first, see quotient; scale, alphas and unscale from _alpha_terms_float32).  A NaN x or
    alpha gives a NaN z_hi (the kernels select the NaN constant)."""
    scale, alphas, inv, x_floor, unscale = _alpha_terms_float32(alpha, z_floor)
    xs = x * scale
    xc = _clamp(xs, x_floor, F32(0.0))
    z_hi = xc * inv
    return xs, z_hi, fma_float32(-z_hi, alphas, xc) * inv, alphas, unscale


@register_jitable(forceinline=True)
def _reduction_float32(z_hi, z_lo, magic):
    """(rounded, r_hi, r_lo, r): z = k ln 2 + r_hi + r_lo with r_hi exact, |r_hi| <= 0.35 and
    |r_lo| < 2**-16, r = r_hi + r_lo rounded, rounded = magic + k for magic = 1.5 * 2**23 +
    bias (exponent_float32 makes it 2**(k + bias - 127))."""
    rounded = fma_float32(z_hi, INV_LN2_F32, magic)
    kf = rounded - magic
    r_hi = fma_float32(-kf, LN2_F32, z_hi)  # exact
    r_lo = fma_float32(-kf, LN2_LO_F32, z_lo)
    return rounded, r_hi, r_lo, r_hi + r_lo


@register_jitable(forceinline=True)
def _reduced_float32(x, alpha, z_floor, bias):
    """(z_hi, r_hi, r_lo, r, rounded, alphas, unscale): _quotient_float32, then
    _reduction_float32 with the magic constant of `bias`."""
    xs, z_hi, z_lo, alphas, unscale = _quotient_float32(x, alpha, z_floor)
    rounded, r_hi, r_lo, r = _reduction_float32(z_hi, z_lo, ROUND_MAGIC_F32 + bias)
    return z_hi, r_hi, r_lo, r, rounded, alphas, unscale


@register_jitable(forceinline=True)
def _exp_parts_float32(r_hi, r_lo, r, s):
    """(v, w) with v + w = s exp(r_hi + r_lo) for a power of two s: s (1 + r_hi) as v + v_e
    exactly (FMA; s - v is exact), w = s (r_lo + r^2 Q4(r)) + v_e rounded once."""
    v = fma_float32(s, r_hi, s)
    v_e = fma_float32(s, r_hi, s - v)
    return v, fma_float32(s, fma_float32(r * r, _q4_polynomial_f32(r), r_lo), v_e)


@register_jitable(forceinline=True)
def celu_grad_float32(x, alpha):
    """dCELU/dx = 1 (x >= 0), exp(x / a) (x < 0) in float32 arithmetic: exp(z) = s (1 +
    r_hi) + s (r_lo + r^2 Q4(r)) with s = 2**(k + 64), the first sum kept with its error
    (_exp_parts_float32), times 2**-64 last (a subnormal result rounded twice, the first
    time finer).  Within 0.80 ULP (tests/test_accuracy.py); x >= 0 gives z = 0 and
    exactly 1."""
    z_hi, r_hi, r_lo, r, rounded, alphas, unscale = _reduced_float32(x, alpha, Z_FLOOR_F32, F32(191.0))
    v, w = _exp_parts_float32(r_hi, r_lo, r, exponent_float32(rounded))
    return _nan_where_nan_float32(z_hi, (v + w) * F32(2.0**-64))


@register_jitable(forceinline=True)
def celu_float32(x, alpha):
    """CELU(x, a) in float32 arithmetic: x where |z| < 2**-25 (x >= 0 and alpha == inf
    among them); where k == 0 (|z| <= 0.35), x (1 + u) with u = z Q5(z) = expm1(z)/z - 1
    (a z = x exactly, one FMA); elsewhere a expm1(z), expm1(z) = (2**k - 1 + 2**k r_hi) +
    2**k (r_lo + r^2 Q5(r)), the first sum kept with its error (both terms are exact, and
    they cancel by up to 3 bits where k = -1).  Within 0.91 ULP (tests/test_accuracy.py)."""
    z_hi, r_hi, r_lo, r, rounded, alphas, unscale = _reduced_float32(x, alpha, Z_FLOOR_F32, F32(191.0))
    s = exponent_float32(rounded) * F32(2.0**-64)  # 2**k (rounded for k < -126: irrelevant)
    q = _q5_polynomial_f32(r)
    tail = fma_float32(r * r, q, r_lo)
    sm1 = s - F32(1.0)  # exact for k >= -24; below, sm1_e holds the 2**k it lost
    sm1_e = s - (sm1 + F32(1.0))
    v = fma_float32(s, r_hi, sm1)
    v_e = fma_float32(s, r_hi, sm1 - v)  # v + v_e == 2**k - 1 + 2**k r_hi (sm1 - v exact)
    w = fma_float32(s, tail, v_e + sm1_e)
    value = fma_float32(x, r * q, x) if s == F32(1.0) else fma_float32(alphas, v, alphas * w) * unscale
    value = x if z_hi > Z_IDENTITY_F32 else value
    return _nan_where_nan_float32(z_hi, value)


# celu_backward_float32: g exp(z) spans ~280 binades of k and float32's whole range of g,
# more than one float32 scale covers: s = 2**(k + 100), or 2**(k + 200) where z < -220 ln 2
# (k <= -220: "deep"), g times 2**-100 where |g| s is large or z deep
BACKWARD_MAGIC_F32 = ROUND_MAGIC_F32 + F32(227.0)
BACKWARD_DEEP_MAGIC_F32 = ROUND_MAGIC_F32 + F32(327.0)
BACKWARD_DEEP_Z_F32 = F32(-220.0 * math.log(2.0))
# exp(z) rounds to 0 in float64 below this (-1075 ln 2): g = inf gives inf * 0 = NaN there,
# as the float64 kernel does
Z_ZERO_F64_F32 = F32(-745.1332191019411)
MAX_F32 = F32(np.finfo(np.float32).max)


@register_jitable(forceinline=True)
def celu_backward_float32(grad_out, x, alpha):
    """grad_out * dCELU/dx = g (x >= 0), g exp(x / a) (x < 0) in float32 arithmetic:
    s exp(r) = v + w (s = 2**(k + 100) or 2**(k + 200), the first sum kept with its error
    as in celu_grad_float32), |g| (v + w) as one FMA p, times 2**-100 (or 1) last, with
    the error e of p times that scale added back where the product is subnormal (one
    rounding in effect); the sign of g by copysign.  Within 0.8 ULP over float32's whole
    range (tests/test_accuracy.py); x >= 0 gives exactly g, g = inf gives NaN where
    float64's exp(z) is 0 (as the float64 kernel)."""
    xs, z_hi, z_lo, alphas, unscale = _quotient_float32(x, alpha, Z_FLOOR_BACKWARD_F32)
    x_zero = F32(-math.inf) if alpha == F32(math.inf) else Z_ZERO_F64_F32 * alphas
    deep = z_hi < BACKWARD_DEEP_Z_F32
    rounded, r_hi, r_lo, r = _reduction_float32(z_hi, z_lo, BACKWARD_DEEP_MAGIC_F32 if deep else BACKWARD_MAGIC_F32)
    s = exponent_float32(rounded)
    v, w = _exp_parts_float32(r_hi, r_lo, r, s)
    a = abs(grad_out)
    big = a * s >= F32(2.0**112)
    a = a * (F32(2.0**-100) if (big | deep) else F32(1.0))
    t = a * w
    t = t if t > -MAX_F32 else -MAX_F32  # a = inf: +inf, never -inf or NaN
    p = fma_float32(a, v, t)
    u = F32(1.0) if big else F32(2.0**-100)
    u = F32(0.0) if xs < x_zero else u
    out = p * u
    # (a v + t) u rounded once where p * u rounds again (a subnormal result): out + e u, e =
    # a v + t - out 2**100 (exact but for e's own rounding, far below an ULP of p)
    e = fma_float32(a, v, -(out * F32(2.0**100))) + t
    out = out if big else fma_float32(e, u, out)
    return _nan_where_nan_float32(z_hi, F32(math.copysign(out, grad_out)))


# celu_grad_alpha_float32: d/dalpha = -z^2 S(z), S(z) = sum_{n>=2} (n-1)/n! z^(n-2) =
# 1/2 + z (C1 + z (U0 + z V(z))) for -1.06 < z <= 0, degree 7 in all: Lawson's iteration
# for the minimax error relative to S on [-1.07, 0], the coefficients rounded to float32
# one at a time (C1 first, then U0, then V's from lowest degree up) and the higher ones
# refitted after each rounding; within 2**-30.4 of S relative with these float32 numbers
# (test_math checks the bound against mpmath).  The last two Horner steps are
# compensated: 1/2 - S, C1 - T and U0 - U are exact (Sterbenz) for S >= 1/4, which holds
# for z >= -1.085.
_S_C1_F32 = F32(0.3333333134651184)
_S_U0_F32 = F32(0.12499959766864777)
_S_V_COEFFS_F32 = (
    1.2736439202853944e-05,
    0.0001567168947076425,
    0.0011737787863239646,
    0.0069351764395833015,
    0.03333054482936859,
)
_s_v_polynomial_f32 = _polynomial_float32(_S_V_COEFFS_F32)
# Q5(r) = 1/2 + r Q1(r): exp(r) - 1 - r = r^2/2 + r^3 Q1(r), whose only rounding at the
# size of the sum is the last FMA (the same Horner steps as _q5_polynomial_f32: shared
# with celu_float32 in celu_and_grads_float32)
_q1_polynomial_f32 = _polynomial_float32(_Q5_COEFFS_F32[:-1])
# z above this: the series; below, exp(z)(1 - z) - 1 cancels by at most 2.6x, and
# its exp errors weigh least (k = -2 holds z down to -1.73)
GRAD_ALPHA_SERIES_F32 = F32(-1.06)


@register_jitable(forceinline=True)
def celu_grad_alpha_float32(x, alpha):
    """dCELU/dalpha = 0 (x >= 0), exp(z)(1 - z) - 1 (x < 0) for float32 x and alpha, in
    float32 arithmetic.  -1.06 < z <= 0: -z^2 S(z) - z exp(z) z_lo, z^2 a double-float
    (FMA) and S = 1/2 + z (C1 + z (U0 + z V(z))) with its last two Horner steps
    compensated, all in units of 2**-64 (z scaled by 2**32) so that a result below
    float32's normal range is rounded once finely, then to its subnormal.  z <= -1.06:
    w - 1 for w = exp(z)(1 - z), exp(z) = s (1 + r) + s tail (s = 2**k, tail = r^2/2 +
    r^3 Q1(r)), 1 - z by Fast2Sum; w = v u + low with v u - 1 error-free (FMA, Fast2Sum)
    and the small terms in one FMA chain.  Within 0.62 ULP where the result is a normal
    number, 0.75 + 2**-8 where it is subnormal (|z| < 2**-62.5: rounded at 24 bits
    first); x >= 0 gives +0, alpha == 0 -1 (x < 0), x = -inf -1."""
    z_hi, r_hi, r_lo, r, rounded, alphas, unscale = _reduced_float32(x, alpha, Z_FLOOR_F32, F32(191.0))
    z_lo = fma_float32(rounded - (ROUND_MAGIC_F32 + F32(191.0)), LN2_LO_F32, r_lo)  # r_lo + k ln2_lo
    s = exponent_float32(rounded) * F32(2.0**-64)  # 2**k (its rounding for k < -126: harmless)
    rr = fma_float32(r_hi, r_hi, (r_hi + r_hi) * r_lo)  # r^2 rounded once
    tail = fma_float32(rr * r, _q1_polynomial_f32(r), rr * F32(0.5))  # exp(r) - 1 - r
    v = fma_float32(s, r_hi, s)
    v_e = fma_float32(s, r_lo, fma_float32(s, r_hi, s - v))  # v + v_e = s (1 + r) (s - v exact)
    e = fma_float32(s, tail, v)  # exp(z) to ~2**-24: for the terms in z_lo and u_lo
    # z <= -1.06: exp(z)(1 - z) - 1 = (t + t_e) + low
    u = F32(1.0) - z_hi
    u_lo = (F32(1.0) - (u + z_hi)) - z_lo  # 1 - z = u + u_lo (Fast2Sum: |z_hi| > 1)
    w = v * u
    w_e = fma_float32(v, u, -w)  # exact
    t = w - F32(1.0)
    t_e = w - (t + F32(1.0))  # t + t_e = w - 1 (Fast2Sum)
    low = fma_float32(s * u, tail, fma_float32(u, v_e, fma_float32(e, u_lo, w_e + t_e)))
    closed = t + low
    # -1.06 < z <= 0: -(z^2 S(z) + z exp(z) z_lo), scaled by 2**64
    zs = z_hi * F32(2.0**32)
    zz = zs * zs
    zz_e = fma_float32(zs, zs, -zz)  # zz + zz_e = zs^2 (exact)
    p = _s_v_polynomial_f32(z_hi)
    u_hi = fma_float32(z_hi, p, _S_U0_F32)
    u_e = fma_float32(z_hi, p, _S_U0_F32 - u_hi)
    t_hi = fma_float32(z_hi, u_hi, _S_C1_F32)
    t_lo = fma_float32(z_hi, u_e, fma_float32(z_hi, u_hi, _S_C1_F32 - t_hi))
    s_hi = fma_float32(z_hi, t_hi, F32(0.5))
    s_lo = fma_float32(z_hi, t_lo, fma_float32(z_hi, t_hi, F32(0.5) - s_hi))  # S = s_hi + s_lo
    low_s = fma_float32(zz, s_lo, fma_float32(zs * e, z_lo * F32(2.0**32), zz_e * s_hi))
    series = fma_float32(fma_float32(zz, s_hi, low_s), F32(-(2.0**-64)), F32(0.0))  # + 0: not -0
    return _nan_where_nan_float32(z_hi, series if z_hi > GRAD_ALPHA_SERIES_F32 else closed)


@register_jitable(forceinline=True)
def celu_and_grads_float32(x, alpha):
    """(celu, dCELU/dx, dCELU/dalpha) for float32, each as its single function computes
    it (the same bits); the work they share (z = x / alpha, its reduction) is done once
    (the compiler merges the identical expressions)."""
    return celu_float32(x, alpha), celu_grad_float32(x, alpha), celu_grad_alpha_float32(x, alpha)


# celu_backward_from_output_float32: a slope below -2**64 (y < -2**64 a, outside CELU's range:
# "huge") is computed times 2**-64, or times 2**-160 for alpha < 2**-60 and |g| < 1
HUGE_SLOPE_F32 = F32(-(2.0**64))


@register_jitable(forceinline=True)
def _slope_terms_float32(alpha):
    """Work on alpha alone for celu_backward_from_output_float32: (scale, alphas, inv,
    y_huge, huge_scale_g, huge_g, huge_post_g, zero_slope).  With |g| < 1 and a huge slope,
    the slope is computed times 2**-Dh (huge_scale_g = scale 2**-Dh), g times 2**Cg (huge_g)
    and the product times 2**(Dh - Cg) (huge_post_g): Dh = Cg = 64, or Dh = 160, Cg = 120
    where alpha < 2**-60 (slopes up to 2**277).  zero_slope = y / a for y < 0 and a = +-0
    (or y = -inf): -inf times the sign of a."""
    scale, alphas, inv, x_floor, unscale = _alpha_terms_float32(alpha, Z_FLOOR_F32)
    tiny_alpha = scale > F32(1.0)
    huge_scale_g = F32(2.0**-60) if tiny_alpha else scale * F32(2.0**-64)  # scale 2**-160 or 2**-64
    huge_g = F32(2.0**120) if tiny_alpha else F32(2.0**64)
    huge_post_g = F32(2.0**40) if tiny_alpha else F32(1.0)
    zero_slope = F32(math.inf) if F32(1.0) / alpha < F32(0.0) else F32(-math.inf)
    return scale, alphas, inv, HUGE_SLOPE_F32 * alpha, huge_scale_g, huge_g, huge_post_g, zero_slope


@register_jitable(forceinline=True)
def celu_backward_from_output_float32(grad_out, y, alpha):
    """celu_backward_from_output for float32 in float32 arithmetic, no division per
    element: y + a = s_hi + s_lo exactly (TwoSum), the slope (y + a) / a as p + lo (p =
    s_hi (1 / a), lo its error and s_lo's share by FMA), g (p + lo) as one FMA, with g
    times 2**64 and the product times 2**-64 where |g| < 1 (a subnormal product is then
    rounded at most twice: within 0.75 ULP), and huge slopes (y < -2**64 a, outside
    CELU's range) scaled down and the product up (_slope_terms_float32).  g (y >= 0 or a
    == inf); g y / a where y = -inf or a = 0; NaN where y is NaN or a < 0 or NaN."""
    scale, alphas, inv, y_huge, huge_scale_g, huge_g, huge_post_g, zero_slope = _slope_terms_float32(alpha)
    s_hi = y + alpha
    y_part = s_hi - alpha  # TwoSum: s_hi + s_lo == y + alpha exactly
    s_lo = (y - y_part) + (alpha - (s_hi - y_part))
    huge = y < y_huge
    small = abs(grad_out) < F32(1.0)
    sc = (huge_scale_g if small else scale * F32(2.0**-64)) if huge else scale
    s_hi = s_hi * sc
    p = s_hi * inv
    lo = fma_float32(s_lo, sc, fma_float32(-p, alphas, s_hi)) * inv
    g = grad_out * ((huge_g if huge else F32(2.0**64)) if small else F32(1.0))
    t = g * lo
    t = t if t > -MAX_F32 else -MAX_F32  # g = +-inf: g p alone (t finite)
    t = t if t < MAX_F32 else MAX_F32
    out = fma_float32(g, p, t)
    u = (huge_post_g if huge else F32(2.0**-64)) if small else (F32(2.0**64) if huge else F32(1.0))
    out = F32(math.copysign(out * u, grad_out * p))
    out = grad_out * zero_slope if ((y == F32(-math.inf)) | (alpha == F32(0.0))) else out
    out = grad_out if ((y >= F32(0.0)) | (alpha == F32(math.inf))) else out
    return F32(math.nan) if ((y != y) | (not (alpha >= F32(0.0)))) else out
