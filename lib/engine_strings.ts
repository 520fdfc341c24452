// The Engine's string commands beyond SET / GET (t_string.ts, t_string_incr.ts, t_string_range.ts, lcs.ts): one
// delegation each, with the TSDoc users read. Errors are ArenaKVError with Redis's message (without the 'ERR '
// prefix its protocol adds) and a `code`.
import type { Value } from './db.js'
import { EngineBase, engineDb } from './engine_base.js'
import { lcsCommand, type LcsIdx, type LcsOptions } from './lcs.js'
import { msetnxCommand, setCommand, setGetCommand, type SetOptions } from './t_string.js'
import { decrbyCommand, incrbyBigCommand, incrbyCommand, incrbyfloatCommand } from './t_string_incr.js'
import {
  appendCommand,
  bitcountCommand,
  bitposCommand,
  getbitCommand,
  getrangeCommand,
  setbitCommand,
  setrangeCommand,
  strlenCommand,
  type BitRange,
} from './t_string_range.js'

export type { LcsIdx, LcsMatch, LcsOptions } from './lcs.js'
export type { BitRange } from './t_string_range.js'

/** An int64 argument: an integral number, a bigint, or a string in Redis's integer form ('-12', not '+12'). */
export type Int64 = number | bigint | string

export class StringCommands extends EngineBase {
  /**
   * SETEX: SET with a time to live in seconds. `ERR_INVALID_EXPIRE` ('invalid expire time in 'setex' command')
   * unless it is a positive integer whose deadline fits in int64 ms.
   */
  setex(key: string, seconds: number | bigint, value: Value): void {
    setCommand(engineDb(this), key, value, { ex: seconds }, 'setex')
  }

  /** PSETEX: SET with a time to live in milliseconds (as {@link StringCommands.setex}). */
  psetex(key: string, milliseconds: number | bigint, value: Value): void {
    setCommand(engineDb(this), key, value, { px: milliseconds }, 'psetex')
  }

  /** SETNX: SET only when the key is missing; whether it was written. */
  setnx(key: string, value: Value): boolean {
    return setCommand(engineDb(this), key, value, { nx: true }, 'setnx')
  }

  /** GETSET: sets the value (clearing the TTL) and returns the old one, or undefined. */
  getset(key: string, value: Value): Buffer | undefined {
    return setGetCommand(engineDb(this), key, value, undefined, 'getset')
  }

  /**
   * SET … GET: the old value (undefined when missing); the write happens as SET's options allow, NX and XX
   * included (Redis 7). Options and errors as {@link Engine.set}.
   */
  setGet(key: string, value: Value, opts?: SetOptions): Buffer | undefined {
    return setGetCommand(engineDb(this), key, value, opts)
  }

  /** MSETNX: sets every pair only if none of the keys exists; false (nothing written) otherwise. */
  msetnx(entries: Iterable<readonly [string, Value]>): boolean {
    return msetnxCommand(engineDb(this), entries)
  }

  /**
   * APPEND: appends to the value (creating the key), growing its slot in place when the size class allows; the new
   * length. `ERR_VALUE_TOO_LARGE` past 512 MB. The TTL is kept.
   */
  append(key: string, value: Value): number {
    return appendCommand(engineDb(this), key, value)
  }

  /** STRLEN: the value's length in bytes, 0 when missing. */
  strlen(key: string): number {
    return strlenCommand(engineDb(this), key)
  }

  /**
   * GETRANGE: bytes `start` to `end` inclusive; negative indexes count from the end; clamped to the value; empty
   * when missing or the range is empty.
   */
  getrange(key: string, start: Int64, end: Int64): Buffer {
    return getrangeCommand(engineDb(this), key, start, end)
  }

  /**
   * SETRANGE: writes `value` at byte `offset`, zero-padding a gap past the end; the new length. An empty value
   * writes nothing (and creates no key). `ERR_OUT_OF_RANGE` for a negative offset, `ERR_VALUE_TOO_LARGE` past 512 MB.
   */
  setrange(key: string, offset: Int64, value: Value): number {
    return setrangeCommand(engineDb(this), key, offset, value)
  }

  /**
   * INCR: adds 1 to the integer the value holds (a missing key is 0); the new value. `ERR_NOT_INTEGER` when the
   * value is not an int64 in Redis's form, `ERR_OVERFLOW` past int64. A result a JS number cannot carry exactly
   * (beyond ±2^53 - 1) is a RangeError and nothing is written: use {@link StringCommands.incrbyBig} there.
   */
  incr(key: string): number {
    return incrbyCommand(engineDb(this), key, 1)
  }

  /** DECR: subtracts 1, as {@link StringCommands.incr}. */
  decr(key: string): number {
    return incrbyCommand(engineDb(this), key, -1)
  }

  /** INCRBY: adds an int64 increment, as {@link StringCommands.incr}. */
  incrby(key: string, increment: Int64): number {
    return incrbyCommand(engineDb(this), key, increment)
  }

  /** DECRBY: subtracts an int64 decrement, as {@link StringCommands.incr} ('decrement would overflow' for -2^63). */
  decrby(key: string, decrement: Int64): number {
    return decrbyCommand(engineDb(this), key, decrement)
  }

  /** INCRBY over the whole int64 range, exactly: the increment and the result are bigints. */
  incrbyBig(key: string, increment: Int64): bigint {
    return incrbyBigCommand(engineDb(this), key, increment)
  }

  /**
   * INCRBYFLOAT: adds a float, computed in Redis's 80-bit long double and written as Redis writes it ('%.17Lf'
   * with trailing zeros trimmed: 0.1 + 0.2 is '0.3'); the new value as that text. A number increment is
   * taken as the text JS writes for it. `ERR_NOT_FLOAT` when the value or increment is not a float,
   * `ERR_OVERFLOW` when the result would be NaN or infinite.
   */
  incrbyfloat(key: string, increment: number | string): string {
    return incrbyfloatCommand(engineDb(this), key, increment)
  }

  /**
   * SETBIT: sets bit `offset` (0 = the most significant bit of the first byte) to `bit`, growing the value with
   * zeros; the bit's old value. `ERR_OUT_OF_RANGE` for an offset outside 0..2^32 - 1 or a bit other than 0 or 1.
   */
  setbit(key: string, offset: Int64, bit: 0 | 1): 0 | 1 {
    return setbitCommand(engineDb(this), key, offset, bit)
  }

  /** GETBIT: the bit at `offset`; 0 past the end or when missing. */
  getbit(key: string, offset: Int64): 0 | 1 {
    return getbitCommand(engineDb(this), key, offset)
  }

  /** BITCOUNT: set bits in the value, or in a range in bytes (default) or bits (`unit: 'BIT'`); 0 when missing. */
  bitcount(key: string, range?: BitRange): number {
    return bitcountCommand(engineDb(this), key, range)
  }

  /**
   * BITPOS: the position of the first `bit` in the value or a range of it, or -1. A missing key reads as zeros;
   * without `range.end`, a clear bit is found just past the value when it has none.
   */
  bitpos(key: string, bit: 0 | 1, range?: BitRange): number {
    return bitposCommand(engineDb(this), key, bit, range)
  }

  /**
   * LCS: the longest common subsequence of two values (a missing key is empty): the bytes; with `len`, its
   * length; with `idx`, the matching ranges and the length ({@link LcsIdx}), filtered by `minmatchlen`, with
   * lengths when `withmatchlen`.
   */
  lcs(key1: string, key2: string, opts: LcsOptions & { idx: true }): LcsIdx
  lcs(key1: string, key2: string, opts: LcsOptions & { len: true }): number
  lcs(key1: string, key2: string, opts?: LcsOptions): Buffer
  lcs(key1: string, key2: string, opts?: LcsOptions): Buffer | number | LcsIdx {
    return lcsCommand(engineDb(this), key1, key2, opts)
  }
}
