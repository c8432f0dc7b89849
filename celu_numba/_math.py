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
``*_float32`` functions at the end serve the float32 loops: float64 arithmetic cut to
float32's needs, rounded once.
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


# --- float32: the same functions, in float64 arithmetic rounded once
#
# Used by the float32 loops of every target (float16 too, through them).  float32 x and
# alpha keep the float64 work short: z = x / alpha needs no compensation nor rescaling
# (|z| < 2**278, within 2**-52; _quotient_in_float64), one ln 2 constant reduces z
# (_reduced_in_float64), and each polynomial is cut to what one rounding to float32
# needs, so that every result is within 0.5 ULP and a small fraction of exact
# (tests/test_accuracy.py bounds each):
# * celu and d/dx: expm1(r) = r + r^2 Q(r) to 2**-31.9 relative (degree 5); expm1(z) =
#   2**k expm1(r) + (2**k - 1), whose two terms cancel by at most 3 bits (k = -1), and
#   exp(z) = 2**k (1 + expm1(r)).
# * d/dalpha: exp(z)(1 - z) - 1 cancels, more than float32 can absorb.  expm1(r) to
#   2**-40 relative (8 terms), and no series is needed near z = 0: the result is
#   (expm1(z) - z) - z expm1(z), where expm1(z) - z is r^2 Q(r) itself for k == 0
#   (|z| < ln(2)/2), so that both terms are ~z^2 and cancel by 2x; further out they
#   cancel by at most ~200x (z = -104), which float64 absorbs (error < 2**-38 relative
#   before the rounding to float32).
# * g exp(z): neither g 2**k (g up to 2**128) nor a subnormal exp(z) may be rounded
#   before the product, which float64 holds exactly; exp(r) to 2**-28.9 relative (a
#   degree-6 polynomial) is all that one rounding to float32 needs.
# * celu_backward_from_output: no exp; it multiplies by 1 / alpha where the float64
#   kernel divides.
# A float64 vector holds 8 lanes where float32 holds 16, but float32 arithmetic needs
# error-free transforms for these bounds: the float32 kernels that used them took 57
# (celu), 42 (celu_grad) and 134 (celu_and_grads, with d/dalpha in float64 beside them)
# instructions per 16 elements; these take 60, 50 and 114 (numba inspect_asm).

F32 = np.float32
Z_FLOOR_F32 = F32(-104.0)  # exp(z) rounds to 0 in float32 below about -103.97
# g exp(z) for float32 g (< 2**128) rounds to 0 below this (celu_backward_float32)
Z_FLOOR_BACKWARD_F32 = F32(-194.0)
# |z| below this: celu(x) rounds to x (|x z / 2| < 2**-26 |x|, under half an ULP of x)
Z_IDENTITY_F32 = F32(-(2.0**-25))
# celu_grad_alpha_float32, in float64: Q of expm1(r) = r + r^2 Q(r) on |r| <= ln(2)/2 to
# float32's needs, a degree-7 fit (mpmath.chebyfit), within 2**-39.9 of Q relative
# (test_math checks the bound against mpmath); the Taylor polynomial needs 10 terms
_Q_SHORT_COEFFS = (
    2.76175739776573e-06,
    2.486788029453951e-05,
    0.0001984122458585481,
    0.0013888839095384945,
    0.008333333344207954,
    0.04166666678632046,
    0.16666666666662583,
    0.4999999999995508,
)
_q_polynomial_short = _polynomial(_Q_SHORT_COEFFS)
# celu_float32 and celu_grad_float32, in float64: Q of expm1(r) = r + r^2 Q(r) on |r| <=
# ln(2)/2, of degree 5 (Lawson's iteration for the minimax relative error of expm1),
# within 2**-31.9 of expm1(r) relative (test_math checks the bound against mpmath)
_Q_F32_COEFFS = (
    0.0001984587726006386,
    0.0013940618869348054,
    0.008333389350217909,
    0.041666361013175224,
    0.16666666370611236,
    0.5000000044142309,
)
_q_polynomial_f32 = _polynomial(_Q_F32_COEFFS)
# celu_backward_float32, in float64: exp(r) = 1 + r R(r) on |r| <= ln(2)/2, R of degree 5
# (Lawson's iteration for the minimax relative error of exp), within 2**-28.9 of exp(r)
# relative (test_math checks the bound against mpmath), ~1/30 ULP of a float32 result
_R_SHORT_COEFFS = (
    0.0013843651753706891,
    0.008374156807778088,
    0.041668002135892016,
    0.16666431245442348,
    0.4999999420839834,
    1.000000032168541,
)
_exp_r_polynomial_short = _polynomial(_R_SHORT_COEFFS)


def float32_name(name):
    """The name of the float32 version of the kernel `name`, ``<name>_float32``: what the
    float32 loops of every target call (every kernel has one)."""
    return name + "_float32"


@register_jitable(forceinline=True)
def _nan_where_nan_float32(z, out):
    """_nan_where_nan for float32 results."""
    return out if z == z else F32(math.nan)


@register_jitable(forceinline=True)
def _quotient_in_float64(x, alpha, z_floor):
    """z = x / alpha in float64 for float32 x and alpha (within 2**-52 relative: no
    compensation nor rescaling needed), x clamped into [z_floor alpha, 0] first (see
    quotient); the limits and invalid alphas folded in as _fold_limits does."""
    ad = np.float64(alpha)
    alphas, inv = _fold_limits(ad, ad)
    return _clamp(np.float64(x), np.float64(z_floor) * alphas, 0.0) * inv


@register_jitable(forceinline=True)
def _reduced_in_float64(z):
    """(k, 2**k, r) with z = k ln 2 + r, |r| <= ln(2)/2, for float64 z >= -745 (the
    float32 kernels' clamped z): one ln 2 constant, r within 2**-44 for |k| < 2**10."""
    kf, s = _power_of_two(z, 0)
    return kf, s, fma(-kf, LN2, z)


@register_jitable(forceinline=True)
def celu_backward_float32(grad_out, x, alpha):
    """grad_out * dCELU/dx for float32 grad_out, x and alpha, in float64 arithmetic
    rounded once: (g 2**k) exp(r) for z = k ln 2 + r, exp(r) = 1 + r R(r) to 2**-28.9,
    so within 0.5 + 2**-4.9 ULP of exact.  g 2**k is exact (normal in float64 for every
    float32 g and every k >= -280 that the clamp at z = -194 allows); x >= 0 gives z = 0
    and g exactly; a NaN z gives NaN."""
    z = _quotient_in_float64(x, alpha, Z_FLOOR_BACKWARD_F32)
    kf, s, r = _reduced_in_float64(z)
    product = np.float64(grad_out) * s * fma(r, _exp_r_polynomial_short(r), 1.0)
    return _nan_where_nan_float32(z, F32(product))


@register_jitable(forceinline=True)
def _branch_in_float64(x, alpha):
    """(z, 2**k, expm1(r)) for float32 x and alpha, in float64: z = x / alpha clamped at
    Z_FLOOR_F32 (_quotient_in_float64), z = k ln 2 + r, expm1(r) = r + r^2 Q(r) to
    2**-31.9 relative (Q of degree 5, _Q_F32_COEFFS)."""
    z = _quotient_in_float64(x, alpha, Z_FLOOR_F32)
    kf, s, r = _reduced_in_float64(z)
    return z, s, fma(r, r * _q_polynomial_f32(r), r)


@register_jitable(forceinline=True)
def celu_float32(x, alpha):
    """CELU(x, a) for float32 x and alpha, in float64 rounded once: x where |z| <
    2**-25 (x >= 0 and alpha == inf among them), else a * expm1(z) with expm1(z) =
    2**k expm1(r) + (2**k - 1) (+ 0 in the FMA: alpha == 0 gives +0, not -0)."""
    z, s, p = _branch_in_float64(x, alpha)
    value = x if z > Z_IDENTITY_F32 else F32(fma(np.float64(alpha), fma(s, p, s - 1.0), 0.0))
    return _nan_where_nan_float32(z, value)


@register_jitable(forceinline=True)
def celu_grad_float32(x, alpha):
    """dCELU/dx = 1 (x >= 0), exp(x / a) (x < 0) for float32 x and alpha, in float64
    rounded once: exp(z) = 2**k (1 + expm1(r)), which is 1 for x >= 0 (z = 0)."""
    z, s, p = _branch_in_float64(x, alpha)
    return _nan_where_nan_float32(z, F32(fma(s, p, s)))


@register_jitable(forceinline=True)
def celu_grad_alpha_float32(x, alpha):
    """dCELU/dalpha = 0 (x >= 0), exp(z)(1 - z) - 1 (x < 0) for float32 x and alpha,
    computed in float64 to float32's needs and rounded once: (expm1(z) - z) - z expm1(z),
    with expm1(z) - z = r^2 Q(r) itself where k == 0 (z == r)."""
    z = _quotient_in_float64(x, alpha, Z_FLOOR_F32)  # z >= -104: the result is -1 below
    kf, s, r = _reduced_in_float64(z)
    rq = r * _q_polynomial_short(r)
    p = fma(r, rq, r)  # expm1(r) = r + r^2 Q(r)
    em1 = fma(s, p, s - 1.0)  # expm1(z)
    d = r * rq if kf == 0.0 else em1 - z  # expm1(z) - z: cancels by at most 7x if k != 0
    return _nan_where_nan_float32(z, F32(fma(-z, em1, d)))


@register_jitable(forceinline=True)
def celu_and_grads_float32(x, alpha):
    """(celu, dCELU/dx, dCELU/dalpha) for float32, each as its single function computes
    it (the same bits); the work they share (z = x / alpha, its reduction) is done once
    (the compiler merges the identical expressions)."""
    return celu_float32(x, alpha), celu_grad_float32(x, alpha), celu_grad_alpha_float32(x, alpha)


@register_jitable(forceinline=True)
def celu_backward_from_output_float32(grad_out, y, alpha):
    """celu_backward_from_output for float32 grad_out, y and alpha, in float64 arithmetic
    rounded once: the slope (y + a) / a as (y + a) * (1 / a), where 1 / a is work on alpha
    alone (out of the loop for a scalar alpha; a vector division costs more than these
    loops' memory traffic).  Four float64 roundings (the sum is exact for y in [-a, -a/2])
    leave the result within 0.5 + 4 * 2**-29 ULP of the exact g (y / a + 1)."""
    yd, ad = np.float64(y), np.float64(alpha)
    return F32(_times_slope(np.float64(grad_out), yd, ad, (yd + ad) * divide(1.0, ad)))
