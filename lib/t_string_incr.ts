// INCR, INCRBY, DECR, DECRBY and INCRBYFLOAT (Redis's t_string.c incrDecrCommand and incrbyfloatCommand). Counters
// stay compact: the result is written as its decimal text into the key's slot (resized in place when its size
// class allows), and a key's TTL is kept, as Redis keeps it.
import { checkKey, type Db } from './db.js'
import { notFloatError, notIntegerError, overflowError } from './errors.js'
import { INT64_MAX, INT64_MIN, addLongDouble, isInfinite, ld2stringHuman, string2ld, string2ll } from './strconv.js'
import { lookupWriteRead, readShortValue, reserveValue, runCommand, storeValue } from './write.js'

/** string2ll's longest integer text; string2ld's longest float text is one byte short of 5 KiB. */
const MAX_INTEGER_CHARS = 20
const MAX_FLOAT_CHARS = 5 * 1024 - 1

/**
 * An int64 argument as Redis's getLongLongFromObjectOrReply takes one: a bigint or an integral number in the int64
 * range, or a string in string2ll's form; anything else is Redis's 'value is not an integer or out of range'.
 */
export function int64Arg(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < INT64_MIN || value > INT64_MAX) throw notIntegerError()
    return value
  }
  if (typeof value === 'number') {
    // 2^63 is the first double past INT64_MAX; -2^63 is INT64_MIN itself.
    if (!Number.isInteger(value) || value >= 2 ** 63 || value < -(2 ** 63)) throw notIntegerError()
    return BigInt(value)
  }
  if (typeof value === 'string') {
    const n = string2ll(value)
    if (n === null) throw notIntegerError()
    return n
  }
  throw new TypeError(`${name} must be a number, a bigint or a string`)
}

/** A JS number when exact; incr and friends refuse (before writing) a result a number cannot carry. */
function exactNumber(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`the result ${n} is outside the safe integer range of a JS number: use incrbyBig`)
  }
  return Number(n)
}

/**
 * The value lookupWriteRead left in scratch as an int64 in string2ll's form, or null: a number when it has at most
 * 15 digits (exact, and no BigInt on a counter's common path), a bigint beyond.
 */
function scratchInteger(db: Db, length: number): number | bigint | null {
  if (length === 0 || length > MAX_INTEGER_CHARS) return null
  const bytes = db.scratch
  const negative = bytes[0] === 45
  const first = negative ? 1 : 0
  if (length === 1 && bytes[0] === 48) return 0
  // string2ll: a digit 1-9 first (no leading zero, no '-0'), then digits only.
  if (first >= length || bytes[first] < 49 || bytes[first] > 57) return null
  let n = 0
  for (let i = first; i < length; i++) {
    const c = bytes[i]
    if (c < 48 || c > 57) return null
    n = n * 10 + (c - 48)
  }
  if (length - first <= 15) return negative ? -n : n
  return string2ll(bytes.toString('latin1', 0, length))
}

/**
 * Redis's incrDecrCommand: the new value, or an error with the key left as it was. `byNumber` is the increment as
 * a safe integer when it is one: counters within ±2^53 are then counted in plain numbers.
 */
function incrDecr(db: Db, key: string, by: bigint | null, byNumber: number | null, asNumber: boolean): number | bigint {
  return runCommand(db, () => {
    checkKey(key)
    const now = db.now()
    const hash = db.ks.hashKey(key)
    let handle = lookupWriteRead(db, key, hash, now)
    let old: number | bigint = 0
    const oldLength = db.ks.readLength
    if (handle !== 0) {
      const parsed = scratchInteger(db, oldLength)
      if (parsed === null) throw notIntegerError()
      old = parsed
    }
    let result: number | bigint
    if (byNumber !== null && typeof old === 'number' && Number.isSafeInteger(old + byNumber)) {
      result = old + byNumber
    } else {
      const o = BigInt(old)
      // `by` is null only when the increment is the safe integer byNumber (no BigInt made on the common path).
      const b = by ?? BigInt(byNumber as number)
      if ((b < 0n && o < 0n && b < INT64_MIN - o) || (b > 0n && o > 0n && b > INT64_MAX - o)) throw overflowError()
      result = o + b
      if (asNumber) exactNumber(result)
    }
    const text = String(result)
    handle = reserveValue(db, key, hash, handle, text.length, now, handle === 0 ? -1 : oldLength)
    storeValue(db, key, hash, handle, text, now)
    return result
  })
}

/** The increment as a number when it is a safe integer (the fast path), else null. */
function safeNumber(n: bigint): number | null {
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : null
}

export function incrbyCommand(db: Db, key: string, by: unknown): number {
  if (typeof by === 'number' && Number.isSafeInteger(by)) return Number(incrDecr(db, key, null, by, true))
  const big = int64Arg(by, 'increment')
  return Number(incrDecr(db, key, big, safeNumber(big), true))
}

export function incrbyBigCommand(db: Db, key: string, by: unknown): bigint {
  const big = int64Arg(by, 'increment')
  return BigInt(incrDecr(db, key, big, safeNumber(big), false))
}

export function decrbyCommand(db: Db, key: string, by: unknown): number {
  const n = int64Arg(by, 'decrement')
  // Negating INT64_MIN overflows (Redis's decrbyCommand refuses it first).
  if (n === INT64_MIN) throw overflowError('decrement would overflow')
  return Number(incrDecr(db, key, -n, safeNumber(-n), true))
}

/**
 * Redis's incrbyfloatCommand, in its long double (strconv.ts emulates it exactly): the value and the increment are
 * floats as strtold reads them, the sum is written as "%.17Lf" with trailing zeros trimmed, and returned so.
 * A number increment is read as the text JS writes for it (String(by)), as a client would send it.
 */
export function incrbyfloatCommand(db: Db, key: string, by: number | string): string {
  let text: string
  if (typeof by === 'number') text = Number.isFinite(by) ? String(by) : ''
  else if (typeof by === 'string') text = by
  else throw new TypeError('increment must be a number or a string')
  return runCommand(db, () => {
    checkKey(key)
    const now = db.now()
    const hash = db.ks.hashKey(key)
    let handle = db.lookupWrite(key, hash, now)
    let old = string2ld('0')
    if (handle !== 0) {
      const value = readShortValue(db, handle, MAX_FLOAT_CHARS)
      old = value === null ? null : string2ld(value)
    }
    const incr = string2ld(text)
    if (old === null || incr === null) throw notFloatError()
    const sum = addLongDouble(old, incr)
    if (isInfinite(sum)) throw overflowError('increment would produce NaN or Infinity')
    const result = ld2stringHuman(sum)
    handle = reserveValue(db, key, hash, handle, result.length, now)
    storeValue(db, key, hash, handle, result, now)
    return result
  })
}
