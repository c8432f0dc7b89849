"""The scalar math of CELU, written once and compiled for every target.

Every function here is a plain Python function of float64 scalars, registered
with :func:`numba.extending.register_jitable`, so that numba can compile it into
the CPU ufunc loops (``_ufunc``) and into CUDA device code (``cuda``), and the
CUDA simulator can run it as Python.  Nothing here calls libm: ``exp`` and
``expm1`` are written out (range reduction, polynomial, exponent bits) so that
LLVM can vectorize the loops that call them.

With ``z = x / alpha``::

    celu(x, a)            = x                    (x >= 0)
                          = a * expm1(z)         (x < 0)
    d celu / dx           = 1                    (x >= 0)
                          = exp(z)               (x < 0)
    d celu / d alpha      = 0                    (x >= 0)
                          = exp(z) (1 - z) - 1   (x < 0)

Limits returned exactly: alpha == 0 is ReLU, alpha == inf the identity; alpha < 0
or NaN gives NaN.  Accuracy (see ../shared/CELU.md and tests/test_accuracy.py):

* ``z`` is carried as an unevaluated sum ``z_hi + z_lo`` (a compensated quotient),
  because ``exp`` multiplies the relative error of ``z`` by ``|z|`` (up to ~745).
* ``d/dalpha`` cancels catastrophically near ``z = 0``; there it is evaluated as
  its Taylor series ``-z^2 * sum_{n>=2} (n-1)/n! z^(n-2)`` (no cancellation).

The float64 functions serve every dtype but float32; ``celu_float32`` and the other
``*_float32`` functions at the end serve the float32 loops (float32 arithmetic, but for
celu_grad_alpha's, which is float64 cut to float32's needs).
"""

import math
from fractions import Fraction

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

# --- exact helpers: plain Python for the simulator, one LLVM instruction when compiled


def _to_float32(value):
    """The float32 nearest to an exact Fraction (ties to even), with no double rounding:
    the float64 nearest is made odd when inexact (round to odd), then rounded to float32."""
    d = float(value)
    if Fraction(d) != value and int(np.float64(d).view(np.int64)) % 2 == 0:
        d = float(np.nextafter(d, math.inf if value > Fraction(d) else -math.inf))
    return np.float32(d)


def fma(a, b, c):
    """a * b + c with a single rounding (to float32 when the three are float32)."""
    single = all(isinstance(v, np.float32) for v in (a, b, c))
    if math.isfinite(a) and math.isfinite(b) and math.isfinite(c):
        exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
        return _to_float32(exact) if single else float(exact)
    return a * b + c


def divide(a, b):
    """a / b with IEEE semantics: +-inf or NaN for b == 0, where Python would raise."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def pow2(k):
    """2.0 ** k for an integer k in [-1022, 1023] (a normal float64)."""
    return math.ldexp(1.0, int(k))


def pow2_float32(k):
    """2.0 ** k as a float32, for an integer k in [-126, 127] (a normal float32)."""
    return np.float32(math.ldexp(1.0, int(k)))


@intrinsic
def _llvm_fma(typingctx, a, b, c):
    ty = a if (a == b == c and a in (types.float32, types.float64)) else types.float64
    sig = ty(ty, ty, ty)

    def codegen(context, builder, signature, args):
        value = context.get_value_type(ty)
        fnty = ir.FunctionType(value, [value] * 3)
        fn = cgutils.get_or_insert_function(builder.module, fnty, f"llvm.fma.f{ty.bitwidth}")
        return builder.call(fn, args)

    return sig, codegen


def _exponent_bits(float_type, bias, mantissa_bits):
    """An intrinsic k -> 2.0 ** k of `float_type`, built from its exponent bits."""

    @intrinsic
    def pow2_bits(typingctx, k):
        int_type = types.int64 if float_type is types.float64 else types.int32
        sig = float_type(int_type)

        def codegen(context, builder, signature, args):
            (k,) = args
            bits = builder.shl(builder.add(k, k.type(bias)), k.type(mantissa_bits))
            return builder.bitcast(bits, context.get_value_type(float_type))

        return sig, codegen

    return pow2_bits


_llvm_pow2 = _exponent_bits(types.float64, 1023, 52)
_llvm_pow2_float32 = _exponent_bits(types.float32, 127, 23)


@overload(fma, target="generic")
def _fma_overload(a, b, c):
    return lambda a, b, c: _llvm_fma(a, b, c)


@overload(divide, target="generic")
def _divide_overload(a, b):
    return lambda a, b: a / b


@overload(pow2, target="generic")
def _pow2_overload(k):
    return lambda k: _llvm_pow2(k)


@overload(pow2_float32, target="generic")
def _pow2_float32_overload(k):
    return lambda k: _llvm_pow2_float32(k)


# --- constants

LN2_HI = 6.93147180369123816490e-01  # high bits of ln 2: k * LN2_HI is exact for |k| < 2**11
LN2_LO = 1.90821492927058770002e-10  # ln 2 - LN2_HI
INV_LN2 = 1.44269504088896338700e00
ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52: (t + M) - M rounds t to an integer
Z_FLOOR = -746.0  # exp(z) == 0 in float64 below this; z is clamped here
TINY_ALPHA = 2.0**-1000  # below it 1/alpha overflows, so x and alpha are rescaled
ALPHA_RESCALE = 2.0**64
SUBNORMAL_K = -1000  # 2**k for k below this is built as 2**(k + 200) * 2**-200
SERIES_LIMIT = 1.0  # |z| below this: d/dalpha from its series

# Coefficients highest degree first.
# expm1(r) = r + r^2 * Q(r), Q(r) = sum_{n>=2} r^(n-2) / n!, for |r| <= ln(2)/2
_Q_COEFFS = tuple(1.0 / math.factorial(n) for n in range(14, 1, -1))
# d/dalpha = -z^2 * S(z), S(z) = sum_{n>=2} (n-1)/n! z^(n-2), for |z| <= 1
_S_COEFFS = tuple(float(Fraction(n - 1, math.factorial(n))) for n in range(22, 1, -1))



def _polynomial(coeffs_high_first, literal=repr):
    """A jitable t -> sum c_i t^i by Horner's rule with FMAs, written out term by term
    (a loop over a constant tuple is not always unrolled, and then not vectorized).
    `literal` spells a coefficient (float64 literals by default)."""
    steps = "".join(f"    acc = fma(acc, t, {literal(c)})\n" for c in coeffs_high_first[1:])
    namespace = {"fma": fma, "np": np}
    exec(f"def polynomial(t):\n    acc = {literal(coeffs_high_first[0])}\n{steps}    return acc\n", namespace)
    return register_jitable(inline="always")(namespace["polynomial"])


_q_polynomial = _polynomial(_Q_COEFFS)
_s_polynomial = _polynomial(_S_COEFFS)


# --- the shared negative branch


@register_jitable(inline="always")
def quotient(x, alpha):
    """Compensated quotient: (z_hi, z_lo) with z_hi + z_lo = x / alpha to ~2**-104.

    z_hi = x * (1/alpha); z_lo = fma(-z_hi, alpha, x) / alpha.  A power-of-two
    rescaling of both x and alpha leaves (z_hi, z_lo) unchanged, bit for bit.
    Outside [Z_FLOOR, 0] z_lo is 0.
    """
    scale = ALPHA_RESCALE if alpha < TINY_ALPHA else 1.0
    xs = x * scale
    alphas = alpha * scale + 0.0  # + 0.0: alpha = -0.0 is ReLU, not 1 / -0.0 = -inf
    inv = divide(1.0, alphas)
    z_hi = xs * inv
    # Clamp into [Z_FLOOR, 0]: NaN and z <= Z_FLOOR to Z_FLOOR, z > 0 (x >= 0, where the
    # result does not use z) to 0, which keeps the arithmetic out of slow subnormals.
    in_range = (z_hi > Z_FLOOR) & (z_hi <= 0.0)
    z_lo = fma(-z_hi, alphas, xs) * inv if in_range else 0.0
    z_hi = z_hi if in_range else (0.0 if z_hi > 0.0 else Z_FLOOR)
    return z_hi, z_lo


@register_jitable(inline="always")
def _negative_branch(x, alpha):
    """For x < 0: (z_hi, z_lo, expm1 value pieces, exp(z)).

    Returns (z_hi, z_lo, small, q, r, em1, e):
    small -- |z| < ln(2)/2 (then r == z and expm1(z) == r + r^2 q)
    em1   -- expm1(z) for the large branch, e -- exp(z).
    """
    z_hi, z_lo = quotient(x, alpha)
    kf = (z_hi * INV_LN2 + ROUND_MAGIC) - ROUND_MAGIC
    r = ((z_hi - kf * LN2_HI) - kf * LN2_LO) + z_lo
    q = _q_polynomial(r)
    p = fma(r, r * q, r)  # expm1(r)
    k = int(kf)
    sub = k < SUBNORMAL_K
    s = pow2(k + 200 if sub else k)  # 2**k, in two factors for subnormal results
    post = 2.0**-200 if sub else 1.0
    e = (s * (1.0 + p)) * post
    s = s * post
    em1 = fma(s, p, s - 1.0)
    return z_hi, z_lo, kf == 0.0, q, r, em1, e


@register_jitable(inline="always")
def _is_invalid(x, alpha):
    """x is NaN, or alpha < 0 or NaN: the result is NaN."""
    return not (alpha >= 0.0) or x != x


@register_jitable(inline="always")
def _finish_celu(x, alpha, invalid, small, q, r, em1):
    """celu from the pieces of _negative_branch (x >= 0: x; alpha == inf: x)."""
    # a * expm1(z); near 0 as x + x z q(z), which is exact to ~1 ULP even when z underflows
    neg = fma(x * r, q, x) if small else alpha * em1
    out = x if x >= 0.0 else neg + 0.0  # + 0.0: alpha == 0 gives +0, not -0
    out = x if alpha == math.inf else out
    return math.nan if invalid else out


@register_jitable(inline="always")
def _finish_grad(x, alpha, invalid, e):
    """dCELU/dx from exp(z)."""
    out = 1.0 if (x >= 0.0 or alpha == math.inf) else e
    return math.nan if invalid else out


@register_jitable(inline="always")
def _finish_grad_alpha(x, alpha, invalid, z_hi, z_lo, em1, e):
    """dCELU/dalpha from z, expm1(z) and exp(z)."""
    neg = _grad_alpha_negative(z_hi, z_lo, em1, e)
    out = 0.0 if (x >= 0.0 or alpha == math.inf) else neg
    return math.nan if invalid else out


@register_jitable(inline="always")
def _grad_alpha_negative(z_hi, z_lo, em1, e):
    """exp(z)(1 - z) - 1 for z = z_hi + z_lo < 0 (both forms computed, one selected)."""
    # |z| < 1: the series, + d'(z_hi) z_lo with d'(z) = -z exp(z)
    series = -(z_hi * (z_hi * _s_polynomial(z_hi))) - (z_hi * e) * z_lo
    # elsewhere the closed form expm1(z) - z exp(z) no longer cancels badly
    closed = fma(-z_hi, e, em1) - z_lo * e
    return series if z_hi > -SERIES_LIMIT else closed


@register_jitable(inline="always")
def celu(x, alpha):
    """CELU(x, a) = max(0, x) + min(0, a * expm1(x / a))."""
    z_hi, z_lo, small, q, r, em1, e = _negative_branch(x, alpha)
    return _finish_celu(x, alpha, _is_invalid(x, alpha), small, q, r, em1)


@register_jitable(inline="always")
def celu_grad(x, alpha):
    """dCELU/dx = 1 (x >= 0), exp(x / a) (x < 0)."""
    z_hi, z_lo, small, q, r, em1, e = _negative_branch(x, alpha)
    return _finish_grad(x, alpha, _is_invalid(x, alpha), e)


@register_jitable(inline="always")
def celu_grad_alpha(x, alpha):
    """dCELU/dalpha = 0 (x >= 0), exp(z)(1 - z) - 1 with z = x / a (x < 0)."""
    z_hi, z_lo, small, q, r, em1, e = _negative_branch(x, alpha)
    return _finish_grad_alpha(x, alpha, _is_invalid(x, alpha), z_hi, z_lo, em1, e)


@register_jitable(inline="always")
def celu_backward(grad_out, x, alpha):
    """grad_out * dCELU/dx."""
    return grad_out * celu_grad(x, alpha)


@register_jitable(inline="always")
def celu_backward_from_output(grad_out, y, alpha):
    """grad_out * dCELU/dx from y = celu(x, a): grad_out (y >= 0), grad_out (y / a + 1) (y < 0).

    The slope y / a + 1 is computed as (y + a) / a: for y in [-a, -a/2] the sum is exact
    (Sterbenz), so the slope keeps its relative accuracy where it goes to 0 (y -> -a).
    """
    slope = 1.0 if (y >= 0.0 or alpha == math.inf) else divide(y + alpha, alpha)
    slope = math.nan if _is_invalid(y, alpha) else slope
    return grad_out * slope


@register_jitable(inline="always")
def celu_and_grads(x, alpha):
    """(celu, dCELU/dx, dCELU/dalpha) sharing one exp: the same three results, bit for
    bit, from one evaluation of the shared negative branch."""
    z_hi, z_lo, small, q, r, em1, e = _negative_branch(x, alpha)
    invalid = _is_invalid(x, alpha)
    return (
        _finish_celu(x, alpha, invalid, small, q, r, em1),
        _finish_grad(x, alpha, invalid, e),
        _finish_grad_alpha(x, alpha, invalid, z_hi, z_lo, em1, e),
    )


# --- float32: the same functions in float32 arithmetic
#
# Used by the float32 loops of every target (float16 too, through them): 16 lanes per
# 512-bit vector instead of 8, and the CPU's vector units are what these loops are bound
# by (celu_backward_from_output, one division, keeps its float64 kernel).  Same method as
# above, scaled to float32's precision, each result within 1 ULP of exact
# (tests/test_accuracy.py bounds them):
#
# * z = z_hi + z_lo (compensated quotient), r = z - k ln 2 kept as r + r_e;
# * exp(z) = 2**k (1 + r + t), t = r^2 / 2 + r^3 Q1(r) + r_e (a 7-term Q1), so that
#   r^2 / 2, the largest part of t, carries no polynomial error;
# * 2**k (1 + r + t) and the value a (2**k - 1) + (a 2**k)(r + t) are summed with
#   error-free transforms (the two large terms cancel by up to 3 bits for k = -1): the
#   one rounding left that matters is the last.
# celu_grad_alpha_float32 computes in float64 instead (its closed form cancels by up to
# 2.4x near z = -1, more than float32 can absorb), but only to float32's needs: z = x/a
# needs no compensation (x and a are float32: |z| < 2**278, error 2**-52), and both
# polynomials are shorter (14 and 10 terms, truncated at ~2**-40 relative).

F32 = np.float32
INV_LN2_F32 = F32(INV_LN2)
ROUND_MAGIC_F32 = F32(12582912.0)  # 1.5 * 2**23
LN2_HI_F32 = F32(0.693145751953125)  # 16 bits: k * LN2_HI_F32 is exact for |k| < 2**8
LN2_LO_F32 = F32(math.log(2) - 0.693145751953125)
Z_FLOOR_F32 = F32(-104.0)  # exp(z) rounds to 0 in float32 below about -103.97
# g exp(z) for float32 g (< 2**128) rounds to 0 below this
Z_FLOOR_BACKWARD_F32 = F32(-194.0)
# alpha outside [2**-60, 2**60] is rescaled with x (by 2**100 or 2**-64), so that 1/alpha
# and the error terms of the value stay normal numbers (a power-of-two rescaling of x and
# alpha changes no bit of z, nor of the value but for its last scaling back)
SMALL_ALPHA_F32, LARGE_ALPHA_F32 = F32(2.0**-60), F32(2.0**60)
# 2**k below 2**-100 is built as 2**(k + 64) * 2**-64, so that 2**k r and 2**k t stay
# normal (exact) wherever exp(z) is near float32's subnormal range
SUBNORMAL_K_F32 = -100
# expm1(r) = r + r^2 / 2 + r^3 Q1(r), Q1(r) = sum_{n>=3} r^(n-3) / n!, for |r| <= ln(2)/2
_Q1_COEFFS_F32 = tuple(1.0 / math.factorial(n) for n in range(9, 2, -1))
_q1_polynomial_f32 = _polynomial(_Q1_COEFFS_F32, literal=lambda c: f"np.float32({c!r})")
# celu_grad_alpha_float32, in float64: Q to degree 9, S to degree 13
_q_polynomial_short = _polynomial(tuple(1.0 / math.factorial(n) for n in range(11, 1, -1)))
_s_polynomial_short = _polynomial(tuple(float(Fraction(n - 1, math.factorial(n))) for n in range(15, 1, -1)))


def float32_name(name):
    """The name of the float32 version of the kernel `name` (``<name>_float32``, what the
    float32 loops of every target call), or None where float32 uses the float64 kernel."""
    return name + "_float32" if name + "_float32" in globals() else None


@register_jitable(inline="always")
def _rescaled_float32(x, alpha):
    """(x s, alpha s, 1 / s) for a power of two s that brings alpha into [2**-60, 2**60]."""
    small = alpha < SMALL_ALPHA_F32
    large = alpha > LARGE_ALPHA_F32
    scale = F32(2.0**100) if small else (F32(2.0**-64) if large else F32(1.0))
    unscale = F32(2.0**-100) if small else (F32(2.0**64) if large else F32(1.0))
    return x * scale, alpha * scale + F32(0.0), unscale  # + 0: alpha = -0.0 is ReLU


@register_jitable(inline="always")
def _negative_branch_float32(xs, alphas, z_floor):
    """float32 xs < 0 and alphas (rescaled), z clamped to [z_floor, 0]: (small, k, r, q, t).

    exp(z) = 2**k (1 + r + t), t = expm1(r) - r to ~2**-29 (absolute);
    small -- k == 0 (then expm1(z) = r + r^2 q, see _celu_negative_float32).
    """
    inv = F32(1.0) / alphas
    z_hi = xs * inv
    in_range = (z_hi > z_floor) & (z_hi <= F32(0.0))
    z_lo = fma(-z_hi, alphas, xs) * inv if in_range else F32(0.0)
    z_hi = z_hi if in_range else (F32(0.0) if z_hi > F32(0.0) else z_floor)
    kf = fma(z_hi, INV_LN2_F32, ROUND_MAGIC_F32) - ROUND_MAGIC_F32
    r_hi = fma(-kf, LN2_HI_F32, z_hi)  # exact
    c = fma(-kf, LN2_LO_F32, z_lo)
    r = r_hi + c
    r_e = (r_hi - r) + c  # r + r_e == r_hi + c exactly (Fast2Sum)
    q1 = _q1_polynomial_f32(r)
    r2 = r * r
    r2_e = fma(r, r, -r2)  # r2 + r2_e == r^2 exactly
    t = fma(r2, F32(0.5), fma(r2 * r, q1, fma(r2_e, F32(0.5), r_e)))
    q = fma(r, q1, F32(0.5))
    return kf == F32(0.0), np.int32(kf), r, q, t


@register_jitable(inline="always")
def _celu_negative_float32(x, alphas, unscale, small, k, r, q, t):
    """a * expm1(z) for x < 0: a (2**k - 1) + (a 2**k)(r + t), summed without losing a
    bit at the rescaled alphas, then scaled back."""
    s = pow2_float32(max(k, np.int32(-126)))  # below 2**-24 only sm1_e sees it
    big_a = alphas * s
    sm1 = s - F32(1.0)  # exact for k >= -24; below, sm1_e holds the 2**k it lost
    sm1_e = s - (sm1 + F32(1.0))
    h = alphas * sm1
    h_e = fma(alphas, sm1, -h)  # h + h_e == alphas * sm1 exactly
    u = big_a * r
    u_e = fma(big_a, r, -u)
    tail = fma(big_a, t, fma(alphas, sm1_e, h_e + u_e))
    v = h + u
    v_e = (h - v) + u  # Fast2Sum: |h| >= |u|
    big = v + (tail + v_e)
    # k == 0: x + x r q (no alpha in it), exact to ~1 ULP even when z underflows
    return fma(x * r, q, x) if small else big * unscale


@register_jitable(inline="always")
def _finish_celu_float32(x, alpha, neg):
    """celu from its negative branch (x >= 0: x; alpha == inf: x)."""
    out = x if x >= F32(0.0) else neg + F32(0.0)
    out = x if alpha == F32(math.inf) else out
    return F32(math.nan) if _is_invalid(x, alpha) else out


@register_jitable(inline="always")
def _finish_grad_float32(x, alpha, k, r, t):
    """exp(z) = 2**k (1 + r + t): s + s r by Fast2Sum, then + s t (2**k in two factors
    below 2**-100: a subnormal result is rounded twice, the first time finer)."""
    sub = k < SUBNORMAL_K_F32
    s = pow2_float32(k + np.int32(64) if sub else k)
    post = F32(2.0**-64) if sub else F32(1.0)
    sr = s * r
    v = s + sr
    v_e = (s - v) + sr  # v + v_e == s + s r exactly (|s| >= |s r|)
    e = (v + fma(s, t, v_e)) * post
    out = F32(1.0) if (x >= F32(0.0) or alpha == F32(math.inf)) else e
    return F32(math.nan) if _is_invalid(x, alpha) else out


@register_jitable(inline="always")
def celu_float32(x, alpha):
    """CELU(x, a) in float32 arithmetic (float32 x and alpha)."""
    xs, alphas, unscale = _rescaled_float32(x, alpha)
    small, k, r, q, t = _negative_branch_float32(xs, alphas, Z_FLOOR_F32)
    return _finish_celu_float32(x, alpha, _celu_negative_float32(x, alphas, unscale, small, k, r, q, t))


@register_jitable(inline="always")
def celu_grad_float32(x, alpha):
    """dCELU/dx = 1 (x >= 0), exp(x / a) (x < 0), in float32 arithmetic."""
    xs, alphas, unscale = _rescaled_float32(x, alpha)
    small, k, r, q, t = _negative_branch_float32(xs, alphas, Z_FLOOR_F32)
    return _finish_grad_float32(x, alpha, k, r, t)


@register_jitable(inline="always")
def celu_backward_float32(grad_out, x, alpha):
    """grad_out * dCELU/dx: g 2**k (1 + r + t) formed in float64 (to ~2**-52) and rounded
    once, so that neither g 2**k nor a subnormal exp(z) is rounded first."""
    xs, alphas, unscale = _rescaled_float32(x, alpha)
    small, k, r, q, t = _negative_branch_float32(xs, alphas, Z_FLOOR_BACKWARD_F32)
    gs = np.float64(grad_out) * pow2(np.int64(k))
    product = F32(gs * ((1.0 + np.float64(r)) + np.float64(t)))
    out = grad_out if (x >= F32(0.0) or alpha == F32(math.inf)) else product
    return F32(math.nan) if _is_invalid(x, alpha) else out


@register_jitable(inline="always")
def celu_grad_alpha_float32(x, alpha):
    """dCELU/dalpha = 0 (x >= 0), exp(z)(1 - z) - 1 (x < 0) for float32 x and alpha,
    computed in float64 to float32's needs and rounded once."""
    xd = np.float64(x)
    ad = np.float64(alpha) + 0.0  # + 0: alpha = -0.0 is ReLU
    z = xd * divide(1.0, ad)
    in_range = (z > -104.0) & (z <= 0.0)  # below -104, z exp(z) < 2**-140: the result is -1
    z = z if in_range else (0.0 if z > 0.0 else -104.0)
    kf = (z * INV_LN2 + ROUND_MAGIC) - ROUND_MAGIC
    r = (z - kf * LN2_HI) - kf * LN2_LO
    p = fma(r, r * _q_polynomial_short(r), r)  # expm1(r)
    s = pow2(int(kf))
    e = fma(s, p, s)
    em1 = fma(s, p, s - 1.0)
    series = -(z * (z * _s_polynomial_short(z)))
    neg = series if z > -SERIES_LIMIT else fma(-z, e, em1)
    out = 0.0 if (x >= F32(0.0) or alpha == F32(math.inf)) else neg
    return F32(math.nan) if _is_invalid(x, alpha) else F32(out)


@register_jitable(inline="always")
def celu_and_grads_float32(x, alpha):
    """(celu, dCELU/dx, dCELU/dalpha) for float32: the first two from one float32 branch,
    the third as celu_grad_alpha_float32 computes it (the same bits as the singles)."""
    xs, alphas, unscale = _rescaled_float32(x, alpha)
    small, k, r, q, t = _negative_branch_float32(xs, alphas, Z_FLOOR_F32)
    return (
        _finish_celu_float32(x, alpha, _celu_negative_float32(x, alphas, unscale, small, k, r, q, t)),
        _finish_grad_float32(x, alpha, k, r, t),
        celu_grad_alpha_float32(x, alpha),
    )
