"""High-precision mpmath reference for CELU and its two gradients.

Each input float is taken as an exact binary rational; the reference is the exact
mathematical value at those inputs, evaluated in mpmath with enough working precision
that its own error is far below half an ULP of float64 (about 2**-128 relative).

    celu(x, a)       = x                       if x >= 0 else a * expm1(x / a)
    grad(x, a)       = 1                       if x >= 0 else exp(x / a)
    grad_alpha(x, a) = 0                       if x >= 0 else exp(z) * (1 - z) - 1,  z = x / a

Special inputs follow /work/shared/CELU.md: a == 0 is ReLU, a == inf is the identity,
a < 0 or NaN gives NaN, x = -inf gives (-a, 0, -1), x = +inf gives (+inf, 1, 0).
The a == 0 / a == inf rules are checked before the x = -inf rule, so (x, a) = (-inf, inf)
gives the identity's values (-inf, 1, 0).

mpmath's global precision is never changed: all work is done inside ``mpmath.workprec``.
"""

import functools
import math

import mpmath
import numpy as np

__all__ = [
    "BASE_PREC",
    "FUNCS",
    "celu_ref",
    "grad_ref",
    "grad_alpha_ref",
    "exact_value",
    "exact_values",
    "round_mpf",
    "reference",
    "ulp_of",
    "ulp_error",
    "worst_ulp",
    "sample_grid",
    "special_grid",
]

#: Working precision in bits (~38 decimal digits); raised locally where a formula needs it.
BASE_PREC = 128

_NAN = mpmath.mpf("nan")
_INF = mpmath.mpf("inf")


def _invalid(x, a):
    """True where every function is NaN: x NaN, a NaN, or a < 0."""
    return math.isnan(x) or math.isnan(a) or a < 0


def celu_ref(x, a):
    """Exact CELU: x if x >= 0 else a*expm1(x/a); a == 0 -> max(0, x); a == inf -> x.

    Returns an mpf (possibly mpf inf/nan). Signed zeros are not kept (mpf has one zero).
    """
    x, a = float(x), float(a)
    if _invalid(x, a):
        return _NAN
    with mpmath.workprec(BASE_PREC):
        if a == 0.0:
            return mpmath.mpf(x) if x > 0 else mpmath.mpf(0)
        if math.isinf(a) or x >= 0:
            return mpmath.mpf(x)
        if math.isinf(x):  # x = -inf
            return -mpmath.mpf(a)
        # condition number of a*expm1(z) in z is <= 1 for z < 0: no extra precision needed
        xm, am = mpmath.mpf(x), mpmath.mpf(a)
        return am * mpmath.expm1(xm / am)


def grad_ref(x, a):
    """Exact d celu / dx: 1 if x >= 0 else exp(x/a); a == 0 -> [x >= 0]; a == inf -> 1.

    exp(z) amplifies the relative error of z by |z|, so the precision is raised by log2|z|.
    """
    x, a = float(x), float(a)
    if _invalid(x, a):
        return _NAN
    with mpmath.workprec(BASE_PREC):
        if a == 0.0:
            return mpmath.mpf(1 if x >= 0 else 0)
        if math.isinf(a) or x >= 0:
            return mpmath.mpf(1)
        if math.isinf(x):
            return mpmath.mpf(0)
        xm, am = mpmath.mpf(x), mpmath.mpf(a)
        extra = max(0, mpmath.mag(xm) - mpmath.mag(am) + 1)
    with mpmath.workprec(BASE_PREC + extra + 8):
        return mpmath.exp(xm / am)


def grad_alpha_ref(x, a):
    """Exact d celu / da: 0 if x >= 0 else exp(z)*(1 - z) - 1 with z = x/a.

    Near z = 0 the closed form cancels (result ~ -z**2/2), losing about 2*log2(1/|z|) bits;
    the working precision is raised by that much so the result keeps BASE_PREC bits.
    a == 0 -> -[x < 0]; a == inf -> 0; x = -inf -> -1.
    """
    x, a = float(x), float(a)
    if _invalid(x, a):
        return _NAN
    with mpmath.workprec(BASE_PREC):
        if a == 0.0:
            return mpmath.mpf(0 if x >= 0 else -1)
        if math.isinf(a) or x >= 0:
            return mpmath.mpf(0)
        if math.isinf(x):
            return mpmath.mpf(-1)
        xm, am = mpmath.mpf(x), mpmath.mpf(a)
        zmag = mpmath.mag(xm) - mpmath.mag(am)  # ~ log2|z|, within +-1
        extra = 2 * max(0, 2 - zmag) + max(0, zmag)
    with mpmath.workprec(BASE_PREC + extra + 16):
        z = xm / am
        return mpmath.exp(z) * (1 - z) - 1


#: Scalar references by name; aliases point to the same function.
FUNCS = {
    "celu": celu_ref,
    "value": celu_ref,
    "grad": grad_ref,
    "grad_x": grad_ref,
    "grad_alpha": grad_alpha_ref,
    "grad_a": grad_alpha_ref,
}


def _func(func_name):
    try:
        return FUNCS[func_name]
    except KeyError:
        raise ValueError(f"unknown function {func_name!r}; expected one of {sorted(FUNCS)}")


@functools.lru_cache(maxsize=1 << 18)
def _exact_cached(func, x, a):
    return func(x, a)


def exact_value(func_name, x, a):
    """Exact value (mpf) of ``func_name`` at the floats x, a (cached per (name, x, a))."""
    return _exact_cached(_func(func_name), float(x), float(a))


def exact_values(func_name, x, a):
    """Exact values at broadcast(x, a) as an object ndarray of mpf."""
    func = _func(func_name)
    xb, ab = np.broadcast_arrays(np.asarray(x), np.asarray(a))
    out = np.empty(xb.shape, dtype=object)
    for idx in np.ndindex(xb.shape):
        out[idx] = _exact_cached(func, float(xb[idx]), float(ab[idx]))
    return out


def _format(dtype):
    """(p, emin, emax) of a binary float dtype: p significand bits, normal range
    [2**emin, 2**emax)."""
    fi = np.finfo(dtype)
    return fi.nmant + 1, int(fi.minexp), int(fi.maxexp)


def _ulp_exp(v, p, emin, emax):
    """Exponent k with 2**k = spacing of the format at |v| (finite mpf; 0 -> 2**(emin-p+1)).

    For 2**e <= |v| < 2**(e+1): k = max(e, emin) - (p - 1), capped at emax - p.
    """
    if not v:
        return emin - (p - 1)
    _, man, exp, bc = v._mpf_
    e = exp + bc - 1
    return min(max(e, emin), emax - 1) - (p - 1)


def ulp_of(v, dtype=np.float64):
    """ULP of ``dtype`` at the exact value v (mpf or float): 2**(max(floor(log2|v|), emin) - p + 1).

    Below the smallest normal this is the subnormal spacing (2**-1074 for f64, 2**-149 for f32).
    """
    p, emin, emax = _format(dtype)
    return mpmath.ldexp(1, _ulp_exp(mpmath.mpf(v), p, emin, emax))


def round_mpf(v, dtype=np.float64):
    """Round the mpf v to nearest (ties to even) in ``dtype``, with subnormals and overflow.

    Done with integer arithmetic on v's exact mantissa, so there is no double rounding.
    """
    dtype = np.dtype(dtype)
    v = mpmath.mpf(v)
    if mpmath.isnan(v):
        return dtype.type(np.nan)
    if mpmath.isinf(v):
        return dtype.type(np.inf if v > 0 else -np.inf)
    if not v:
        return dtype.type(0.0)
    p, emin, emax = _format(dtype)
    sign, man, exp, _ = v._mpf_
    k = _ulp_exp(v, p, emin, emax)
    shift = k - exp
    if shift <= 0:
        n = man << -shift
    else:
        n, rem = man >> shift, man & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and n & 1):
            n += 1
    if n.bit_length() + k > emax:  # |result| >= 2**emax: overflow
        r = math.inf
    else:
        r = math.ldexp(n, k)  # n < 2**(p+1) and in range: exact in float64
    return dtype.type(-r if sign else r)


def reference(func_name, x, a, dtype=np.float64):
    """Correctly rounded ``dtype`` array of ``func_name`` at broadcast(x, a).

    x and a are taken as exact (use values already representable in the dtype under test).
    """
    ex = exact_values(func_name, x, a)
    out = np.empty(ex.shape, dtype=dtype)
    for idx in np.ndindex(ex.shape):
        out[idx] = round_mpf(ex[idx], dtype)
    return out


def _ulp_error_one(c, v, p, emin, emax, dtype):
    """Error of the float c against the exact mpf v, in ULP of the format at v."""
    c_nan, v_nan = math.isnan(c), mpmath.isnan(v)
    if c_nan or v_nan:
        return 0.0 if (c_nan and v_nan) else math.inf
    if mpmath.isinf(v):
        return 0.0 if (math.isinf(c) and (c > 0) == (v > 0)) else math.inf
    if math.isinf(c):
        # correct only if v itself rounds to this infinity (overflow)
        return 0.0 if float(round_mpf(v, dtype)) == c else math.inf
    k = _ulp_exp(v, p, emin, emax)
    with mpmath.workprec(BASE_PREC):
        diff = abs(mpmath.mpf(c) - v)  # correctly rounded: accurate relative to itself
        return float(mpmath.ldexp(diff, -k))


def ulp_error(computed, x, a, func_name, dtype=None):
    """|computed - exact| / ulp(exact) per element, in ULP of ``dtype`` (default computed.dtype).

    The difference is taken in mpmath. NaN vs NaN and inf vs same-sign inf give 0; any other
    NaN/inf mismatch gives inf. +0 and -0 are equal.
    """
    computed = np.asarray(computed)
    if dtype is None:
        dtype = computed.dtype if computed.dtype.kind == "f" else np.float64
    p, emin, emax = _format(dtype)
    cb, xb, ab = np.broadcast_arrays(computed, np.asarray(x), np.asarray(a))
    func = _func(func_name)
    out = np.empty(cb.shape, dtype=np.float64)
    for idx in np.ndindex(cb.shape):
        v = _exact_cached(func, float(xb[idx]), float(ab[idx]))
        out[idx] = _ulp_error_one(float(cb[idx]), v, p, emin, emax, dtype)
    return out


def worst_ulp(computed, x, a, func_name, dtype=None):
    """(max ULP error, x, a at the worst point) over broadcast(computed, x, a).

    Returns (0.0, nan, nan) for empty input.
    """
    err = ulp_error(computed, x, a, func_name, dtype)
    if err.size == 0:
        return 0.0, math.nan, math.nan
    _, xb, ab = np.broadcast_arrays(err, np.asarray(x), np.asarray(a))
    i = np.unravel_index(int(np.argmax(err)), err.shape)
    return float(err[i]), float(xb[i]), float(ab[i])


def ulp_distance(a, b):
    """Representable floats between a and b, elementwise (same dtype), exactly.

    0 for equal values (+0 and -0 too) and for NaN against NaN; inf if only one is NaN.
    The floats are mapped to integers in value order (sign-magnitude to two's
    complement) and subtracted as unsigned 64-bit integers, so no step is lost: float64
    bit patterns exceed float64's exact integer range (2**53).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype:
        raise TypeError(f"ulp_distance of {a.dtype} and {b.dtype}")
    ints = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]

    def ordered(v):
        i = v.view(ints).astype(np.int64)
        return np.where(i < 0, np.iinfo(ints).min - i, i)  # -0 -> 0, then monotone

    oa, ob = np.broadcast_arrays(ordered(a), ordered(b))
    high, low = np.maximum(oa, ob), np.minimum(oa, ob)
    distance = (high.view(np.uint64) - low.view(np.uint64)).astype(np.float64)  # mod 2**64: exact
    distance[np.isnan(a) & np.isnan(b)] = 0
    distance[np.isnan(a) ^ np.isnan(b)] = np.inf
    return distance


def special_grid(dtype=np.float64):
    """Outer product of special inputs, flattened:
    x in {0, -0, inf, -inf, nan, 1, -1} x a in {0, inf, 1, 1e-3, 1e3}."""
    xs = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0], dtype=dtype)
    as_ = np.array([0.0, np.inf, 1.0, 1e-3, 1e3], dtype=dtype)
    xg, ag = np.meshgrid(xs, as_, indexing="ij")
    return xg.ravel(), ag.ravel()


def sample_grid(dtype=np.float64, n_random=2000, seed=0, special=True):
    """Sample (x, a) of ``dtype`` for accuracy tests (exactly representable, deterministic).

    - grid: |x| log-spaced in [tiny, 1e6] (tiny = smallest subnormal) plus smallest normal,
      subnormals, 1e-30, 1e-8, 1, both signs, times a log-spaced in [1e-3, 1e3] and 1;
    - n_random // 2 points with x, a log-uniform (|x| in [1e-30, 1e6], 3/4 negative);
    - n_random - n_random // 2 points aimed at the negative branch: z = x/a = -10**u,
      u uniform in [-20, log10(750)], a log-uniform, x = z * a (rounded to dtype);
    - if ``special``: ``special_grid(dtype)`` appended.
    About 1300 + n_random + 35 points by default.
    """
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    tiny_sub = float(fi.smallest_subnormal)
    tiny_norm = float(fi.smallest_normal)
    mags = np.concatenate([
        np.logspace(np.log10(tiny_sub), 6.0, 40),
        [tiny_sub, 3 * tiny_sub, tiny_norm / 2, tiny_norm, 1e-30, 1e-8, 1.0],
    ])
    mags = np.unique(mags.astype(dtype))
    mags = mags[mags > 0]
    xs = np.concatenate([mags, -mags])
    as_ = np.unique(np.concatenate([np.logspace(-3, 3, 13), [1.0]]).astype(dtype))
    xg, ag = np.meshgrid(xs, as_, indexing="ij")
    parts_x, parts_a = [xg.ravel()], [ag.ravel()]

    n1 = n_random // 2
    n2 = n_random - n1
    xr = 10.0 ** rng.uniform(-30, 6, n1) * np.where(rng.random(n1) < 0.75, -1.0, 1.0)
    ar = 10.0 ** rng.uniform(-3, 3, n1)
    parts_x.append(xr.astype(dtype))
    parts_a.append(ar.astype(dtype))

    ar2 = (10.0 ** rng.uniform(-3, 3, n2)).astype(dtype)
    z = -(10.0 ** rng.uniform(-20, np.log10(750.0), n2))
    parts_x.append((z * ar2.astype(np.float64)).astype(dtype))
    parts_a.append(ar2)

    if special:
        sx, sa = special_grid(dtype)
        parts_x.append(sx)
        parts_a.append(sa)
    return np.concatenate(parts_x).astype(dtype), np.concatenate(parts_a).astype(dtype)
