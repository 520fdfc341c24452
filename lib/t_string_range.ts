// The string commands that work on part of a value (Redis's t_string.c and bitops.c): APPEND, STRLEN, GETRANGE,
// SETRANGE, SETBIT, GETBIT, BITCOUNT, BITPOS. Writes grow the value in its slot through the allocator
// (native/string_binding.cc: in place when the size class allows), never by reading the value into JavaScript
// and writing it back; reads copy only the part they need.
import { checkKey, type Db, type Value } from './db.js'
import { outOfRangeError, stringTooLongError, syntaxError } from './errors.js'
import { checkValue } from './t_string.js'
import { int64Arg } from './t_string_incr.js'
import { MAX_VALUE_BYTES } from './store.js'
import { reserveValue, runCommand, settled, storeValue } from './write.js'

/** BITCOUNT's and BITPOS's range: start and end in bytes (default) or bits, negative counting from the end. */
export interface BitRange {
  start: number | bigint
  /** Required by BITCOUNT; BITPOS without it searches to the end (and a clear bit past the end counts). */
  end?: number | bigint
  unit?: 'BYTE' | 'BIT' | 'byte' | 'bit'
}

/** The largest bit offset SETBIT / GETBIT take: the byte must be within proto-max-bulk-len. */
const MAX_BIT_OFFSET = MAX_VALUE_BYTES * 8 - 1
const oneByte = Buffer.alloc(1)

/** An int64 argument as a JS number: exact within the range any value length needs, clamped beyond it. */
function indexArg(value: unknown, name: string): number {
  const n = int64Arg(value, name)
  const limit = 2n ** 53n
  return Number(n > limit ? limit : n < -limit ? -limit : n)
}

function valueBytes(value: Value): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
}

/** Redis's checkStringLength: a result past proto-max-bulk-len (512 MB). */
function checkStringLength(size: number, append: number): void {
  if (size + append > MAX_VALUE_BYTES) throw stringTooLongError()
}

/**
 * APPEND: the value's new length; a missing key is created with `value`. The TTL is kept. The native append
 * checks the 512 MB limit itself (Redis's checkStringLength, same code and text); the length is read here only
 * to size the reservation under maxmemory.
 */
export function appendCommand(db: Db, key: string, value: Value): number {
  return runCommand(db, () => {
    checkKey(key)
    checkValue(value)
    const now = db.now()
    const hash = db.ks.hashKey(key)
    let handle = db.lookupWrite(key, hash, now)
    if (db.cfg.maxmemory !== 0) {
      const add = valueBytes(value)
      const old = handle === 0 ? 0 : db.store.valueLength(handle)
      if (handle !== 0) checkStringLength(old, add)
      handle = reserveValue(db, key, hash, handle, old + add, now)
    }
    if (handle === 0) {
      storeValue(db, key, hash, 0, value, now)
      return valueBytes(value)
    }
    db.touchKey(handle, now, hash)
    return settled(db, () => db.store.appendValue(handle, value))
  })
}

/** STRLEN: the value's length in bytes, 0 when missing. */
export function strlenCommand(db: Db, key: string): number {
  return runCommand(db, () => {
    checkKey(key)
    return db.lookupRead(key) === 0 ? 0 : db.ks.readLength
  })
}

/** GETRANGE: bytes start..end inclusive, negative counting from the end, clamped; empty when missing. */
export function getrangeCommand(db: Db, key: string, start: unknown, end: unknown): Buffer {
  let from = indexArg(start, 'start')
  let to = indexArg(end, 'end')
  return runCommand(db, () => {
    checkKey(key)
    const handle = db.lookupRead(key)
    if (handle === 0) return Buffer.alloc(0)
    const length = db.ks.readLength
    if (from < 0 && to < 0 && from > to) return Buffer.alloc(0)
    if (from < 0) from = Math.max(0, length + from)
    if (to < 0) to = Math.max(0, length + to)
    if (to >= length) to = length - 1
    if (from > to || length === 0) return Buffer.alloc(0)
    const out = Buffer.allocUnsafe(to - from + 1)
    // lookupRead left a value that fits in scratch there.
    if (length <= db.scratch.length) out.set(db.scratch.subarray(from, to + 1))
    else db.store.readRange(handle, from, out)
    return out
  })
}

/**
 * SETRANGE: writes `value` at `offset`, zero-padding past the end; the new length. Writing nothing creates no key
 * (0) and leaves a value as it is (its length).
 */
export function setrangeCommand(db: Db, key: string, offset: unknown, value: Value): number {
  const at = indexArg(offset, 'offset')
  checkKey(key)
  checkValue(value)
  if (at < 0) throw outOfRangeError('offset is out of range')
  const add = valueBytes(value)
  return runCommand(db, () => {
    const now = db.now()
    const hash = db.ks.hashKey(key)
    let handle = db.lookupWrite(key, hash, now)
    const old = handle === 0 ? 0 : db.store.valueLength(handle)
    if (handle !== 0) db.touchKey(handle, now, hash)
    if (add === 0) return old
    checkStringLength(at, add)
    handle = reserveValue(db, key, hash, handle, Math.max(old, at + add), now)
    return settled(db, () => {
      if (handle === 0) handle = db.writeValue(key, hash, '', 0, now)
      return db.store.writeRange(handle, at, value)
    })
  })
}

/** Redis's getBitOffsetFromArgument: 0 to 2^32 - 1 (the byte within proto-max-bulk-len). */
function bitOffsetArg(offset: unknown): number {
  if (typeof offset !== 'number' && typeof offset !== 'bigint' && typeof offset !== 'string') {
    throw new TypeError('offset must be a number, a bigint or a string')
  }
  let n: number
  try {
    n = indexArg(offset, 'offset')
  } catch {
    n = -1
  }
  if (n < 0 || n > MAX_BIT_OFFSET) throw outOfRangeError('bit offset is not an integer or out of range')
  return n
}

/** SETBIT: sets or clears one bit (0 = the high bit of byte 0), growing the value zeroed; the old bit. */
export function setbitCommand(db: Db, key: string, offset: unknown, bit: unknown): 0 | 1 {
  const at = bitOffsetArg(offset)
  if (bit !== 0 && bit !== 1 && bit !== 0n && bit !== 1n && bit !== '0' && bit !== '1') {
    throw outOfRangeError('bit is not an integer or out of range')
  }
  const on = Number(bit)
  checkKey(key)
  return runCommand(db, () => {
    const now = db.now()
    const hash = db.ks.hashKey(key)
    let handle = db.lookupWrite(key, hash, now)
    const old = handle === 0 ? 0 : db.store.valueLength(handle)
    const byte = Math.floor(at / 8)
    if (handle !== 0) db.touchKey(handle, now, hash)
    handle = reserveValue(db, key, hash, handle, Math.max(old, byte + 1), now)
    return settled(db, () => {
      if (handle === 0) handle = db.writeValue(key, hash, '', 0, now)
      return db.store.setBit(handle, at, on) as 0 | 1
    })
  })
}

/** GETBIT: the bit at `offset`, 0 past the end or when missing. */
export function getbitCommand(db: Db, key: string, offset: unknown): 0 | 1 {
  const at = bitOffsetArg(offset)
  checkKey(key)
  return runCommand(db, () => {
    const handle = db.lookupRead(key)
    if (handle === 0) return 0
    const byte = Math.floor(at / 8)
    if (byte >= db.ks.readLength) return 0
    db.store.readRange(handle, byte, oneByte)
    return ((oneByte[0] >> (7 - (at % 8))) & 1) as 0 | 1
  })
}

function isBitUnit(unit: unknown): boolean {
  if (unit === undefined) return false
  if (typeof unit !== 'string') throw new TypeError("unit must be 'BYTE' or 'BIT'")
  const u = unit.toUpperCase()
  if (u === 'BIT') return true
  if (u === 'BYTE') return false
  throw syntaxError()
}

/** A range normalized as Redis does: negative indexes from the end, clamped; [start, end] may be empty. */
function normalize(start: number, end: number, total: number): [number, number] {
  if (start < 0) start = total + start
  if (end < 0) end = total + end
  if (start < 0) start = 0
  if (end < 0) end = 0
  if (end >= total) end = total - 1
  return [start, end]
}

/** BITCOUNT: set bits in the value, or in a byte or bit range of it; 0 when missing. */
export function bitcountCommand(db: Db, key: string, range?: BitRange): number {
  let start = 0
  let end = -1
  let isBit = false
  if (range !== undefined) {
    if (typeof range !== 'object' || range === null) throw new TypeError('range must be an object')
    if (range.end === undefined) throw syntaxError()
    start = indexArg(range.start, 'start')
    end = indexArg(range.end, 'end')
    isBit = isBitUnit(range.unit)
  }
  checkKey(key)
  return runCommand(db, () => {
    const handle = db.lookupRead(key)
    if (handle === 0) return 0
    const length = db.ks.readLength
    if (range !== undefined && start < 0 && end < 0 && start > end) return 0
    let [from, to] = normalize(start, end, isBit ? length * 8 : length)
    if (from > to) return 0
    let firstMask = 0xff
    let lastMask = 0xff
    if (isBit) {
      firstMask = (1 << (8 - (from & 7))) - 1
      lastMask = ~((1 << (7 - (to & 7))) - 1) & 0xff
      from = Math.floor(from / 8)
      to = Math.floor(to / 8)
    }
    return db.store.bitcount(handle, from, to, firstMask, lastMask)
  })
}

/**
 * BITPOS: the first bit equal to `bit` in the value or a range of it, or -1. A missing key is all zeros (0 for a
 * clear bit, -1 for a set one); without an end, the zeros past the value count, so a clear bit is found there.
 */
export function bitposCommand(db: Db, key: string, bit: unknown, range?: BitRange): number {
  const b = int64Arg(bit, 'bit')
  if (b !== 0n && b !== 1n) throw outOfRangeError('The bit argument must be 1 or 0.')
  checkKey(key)
  if (range !== undefined && (typeof range !== 'object' || range === null)) throw new TypeError('range must be an object')
  return runCommand(db, () => {
    const handle = db.lookupRead(key)
    if (handle === 0) return b === 1n ? -1 : 0
    const length = db.ks.readLength
    let from = 0
    let to = length - 1
    let isBit = false
    const endGiven = range?.end !== undefined
    if (range !== undefined) {
      from = indexArg(range.start, 'start')
      isBit = isBitUnit(range.unit)
      to = endGiven ? indexArg(range.end, 'end') : isBit ? length * 8 + 7 : length - 1
      ;[from, to] = normalize(from, to, isBit ? length * 8 : length)
    }
    if (from > to) return -1
    const startBit = isBit ? from : from * 8
    const endBit = isBit ? to : to * 8 + 7
    const pos = db.store.bitpos(handle, Number(b), startBit, endBit)
    if (pos !== -1 || b === 1n || endGiven) return pos
    // No clear bit in the range, searched to the value's end: the first bit past the range's last byte.
    return (Math.floor(endBit / 8) + 1) * 8
  })
}
