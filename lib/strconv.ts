// Redis's number conversions (util.c): string2ll for INCR's integers, string2ld and ld2string for INCRBYFLOAT's
// long doubles. Redis computes INCRBYFLOAT in the x87 80-bit long double (a 64-bit significand); a JS double has
// 53 bits, which prints 0.1 + 0.2 as 0.30000000000000004 where Redis prints 0.3. So the long double is emulated
// exactly here: a value is a sign, a significand below 2^64 and a power of two, rounded to nearest-even as the
// FPU does, and printed digit for digit as glibc's "%.17Lf".

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n
/** string2ll refuses strings of LONG_STR_SIZE (21) bytes or more. */
const LONG_STR_SIZE = 21
/** string2ld's buffer: strings of this many bytes or more are not floats (MAX_LONG_DOUBLE_CHARS). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024

/**
 * Redis's string2ll: an int64 written exactly as Redis writes one ('0', or an optional '-' then a digit 1-9 and
 * digits, at most 20 bytes: no '+', no spaces, no leading zeros, no '-0'), or null.
 */
export function string2ll(s: string): bigint | null {
  const n = s.length
  if (n === 0 || n >= LONG_STR_SIZE) return null
  if (s === '0') return 0n
  let i = s.charCodeAt(0) === 45 ? 1 : 0
  const first = s.charCodeAt(i)
  if (!(first >= 49 && first <= 57)) return null
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return null
  }
  const value = BigInt(s)
  return value < INT64_MIN || value > INT64_MAX ? null : value
}

/** An x87 extended value: (-1)^neg × m × 2^e with 0 ≤ m < 2^64, or an infinity (m = -1n). */
export interface LongDouble {
  neg: boolean
  m: bigint
  e: number
}

const SIGNIFICAND_BITS = 64
/** The smallest exponent of a significand's unit: 2^-16445 is the smallest subnormal. */
const MIN_EXP = -16445
/** A finite value is below 2^16384. */
const MAX_BINARY_EXP = 16384

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length
}

/**
 * The long double nearest to (-1)^neg × s × 2^e (s ≥ 0 an integer; `sticky` says a nonzero remainder lies below
 * s's last bit, so a tie is not one), ties to even, as the FPU rounds; Infinity past the largest finite value.
 */
function roundExtended(neg: boolean, s: bigint, e: number, sticky = false): LongDouble {
  const bits = bitLength(s)
  if (bits === 0) return { neg, m: 0n, e: 0 }
  let shift = Math.max(bits - SIGNIFICAND_BITS, MIN_EXP - e)
  if (shift > 0) {
    const big = BigInt(shift)
    let q = s >> big
    const rem = s & ((1n << big) - 1n)
    const half = 1n << (big - 1n)
    if (rem > half || (rem === half && (sticky || (q & 1n) === 1n))) q++
    if (bitLength(q) > SIGNIFICAND_BITS) {
      q >>= 1n
      shift++
    }
    s = q
    e += shift
  }
  if (bitLength(s) + e > MAX_BINARY_EXP) return { neg, m: -1n, e: 0 }
  return { neg, m: s, e }
}

export function isInfinite(v: LongDouble): boolean {
  return v.m < 0n
}

/** Exact division p / q (q > 0) to long double precision: enough quotient bits, then a sticky remainder. */
function roundQuotient(neg: boolean, p: bigint, q: bigint, e: number): LongDouble {
  const k = Math.max(0, bitLength(q) - bitLength(p) + SIGNIFICAND_BITS + 2)
  const scaled = p << BigInt(k)
  const quotient = scaled / q
  return roundExtended(neg, quotient, e - k, scaled % q !== 0n)
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/
const INFINITY = /^([+-]?)(?:inf|infinity)$/i

/**
 * Redis's string2ld (strtold with its checks): a decimal or hex float, or inf / infinity, the whole string and
 * nothing more (no leading space), not NaN, and not out of range (an overflow or an underflow to zero). Null
 * when it is not a float.
 */
export function string2ld(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null
  let m = INFINITY.exec(s)
  if (m !== null) return { neg: m[1] === '-', m: -1n, e: 0 }
  let value: LongDouble
  let zero: boolean
  if ((m = HEX.exec(s)) !== null) {
    const int = m[2]
    const frac = m[3] ?? ''
    if (int.length + frac.length === 0) return null
    const digits = BigInt('0x' + (int + frac || '0'))
    zero = digits === 0n
    const exp = m[4] === undefined ? 0 : Number(m[4])
    if (!zero && Math.abs(exp) > 10 * MAX_BINARY_EXP) return null
    value = zero ? { neg: m[1] === '-', m: 0n, e: 0 } : roundExtended(m[1] === '-', digits, exp - 4 * frac.length)
  } else if ((m = DECIMAL.exec(s)) !== null) {
    const int = m[2]
    const frac = m[3] ?? ''
    if (int.length + frac.length === 0) return null
    const digits = BigInt((int + frac).replace(/^0+/, '') || '0')
    zero = digits === 0n
    const exp10 = (m[4] === undefined ? 0 : Number(m[4])) - frac.length
    const neg = m[1] === '-'
    if (zero) {
      value = { neg, m: 0n, e: 0 }
    } else {
      // Orders of magnitude far outside the long double's range (about 1e±4932) need no exact arithmetic.
      const magnitude = digits.toString().length + exp10
      if (magnitude > 4940) return null
      if (magnitude < -4960) return null
      value = exp10 >= 0 ? roundExtended(neg, digits * 10n ** BigInt(exp10), 0) : roundQuotient(neg, digits, 10n ** BigInt(-exp10), 0)
    }
  } else {
    return null
  }
  // strtold's ERANGE: an overflow to HUGE_VAL, or a nonzero number that rounded to zero.
  if (isInfinite(value) || (!zero && value.m === 0n)) return null
  return value
}

/** The exact sum of two finite long doubles, rounded once: the FPU's addition. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (isInfinite(a) || isInfinite(b)) {
    // inf + -inf is NaN, which the caller refuses as it refuses an infinity.
    return { neg: isInfinite(a) ? a.neg : b.neg, m: -1n, e: 0 }
  }
  const e = Math.min(a.e, b.e)
  const sa = (a.neg ? -a.m : a.m) << BigInt(a.e - e)
  const sb = (b.neg ? -b.m : b.m) << BigInt(b.e - e)
  const sum = sa + sb
  return roundExtended(sum < 0n, sum < 0n ? -sum : sum, e)
}

/** A long double from a JS double (exact: every double is a long double). */
export function fromDouble(x: number): LongDouble {
  if (!Number.isFinite(x)) return { neg: x < 0, m: -1n, e: 0 }
  const neg = x < 0 || Object.is(x, -0)
  let v = Math.abs(x)
  let e = 0
  // Scale to an integer by powers of two (exact in binary).
  while (v !== Math.floor(v)) {
    v *= 2
    e--
  }
  return roundExtended(neg, BigInt(v), e)
}

/**
 * Redis's ld2string in LD_STR_HUMAN mode: "%.17Lf" (glibc rounds the exact value to 17 decimals, ties to even),
 * trailing zeros and a trailing point removed, and "-0" written "0".
 */
export function ld2stringHuman(v: LongDouble): string {
  let digits: bigint
  const scale = 10n ** 17n
  if (v.e >= 0) {
    digits = (v.m << BigInt(v.e)) * scale
  } else {
    const n = v.m * scale
    const d = 1n << BigInt(-v.e)
    digits = n / d
    const rem = n % d
    const twice = rem * 2n
    if (twice > d || (twice === d && (digits & 1n) === 1n)) digits++
  }
  let text = digits.toString().padStart(18, '0')
  text = `${text.slice(0, -17)}.${text.slice(-17)}`.replace(/0+$/, '').replace(/\.$/, '')
  if (v.neg) text = '-' + text
  return text === '-0' ? '0' : text
}
