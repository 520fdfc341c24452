// LCS (Redis 7's lcsCommand in t_string.c): the longest common subsequence of two values by the textbook dynamic
// programming table, read back from its end, with LEN, IDX, MINMATCHLEN and WITHMATCHLEN. The table is transient
// JavaScript memory dropped when the command returns; like Redis, it is refused past proto-max-bulk-len.
import { checkKey, type Db } from './db.js'
import { ArenaKVError, syntaxError } from './errors.js'
import { MAX_VALUE_BYTES } from './store.js'
import { int64Arg } from './t_string_incr.js'
import { runCommand } from './write.js'

export interface LcsOptions {
  /** The length of the match only. */
  len?: boolean
  /** The matching ranges (and the length): an {@link LcsIdx}. Not with `len`. */
  idx?: boolean
  /** IDX lists only ranges at least this long (negative counts as 0). */
  minmatchlen?: number | bigint
  /** IDX gives each range's length as a third element. */
  withmatchlen?: boolean
}

/** A matching range: [start, end] inclusive in the first value, then in the second, then its length if asked. */
export type LcsMatch = [a: [number, number], b: [number, number]] | [a: [number, number], b: [number, number], len: number]

/** LCS … IDX: the ranges, last match first (the order Redis emits them in), and the LCS's length. */
export interface LcsIdx {
  matches: LcsMatch[]
  len: number
}

export function lcsCommand(db: Db, key1: string, key2: string, opts: LcsOptions = {}): Buffer | number | LcsIdx {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('lcs options must be an object')
  const getlen = opts.len === true
  const getidx = opts.idx === true
  const withmatchlen = opts.withmatchlen === true
  let minmatchlen = opts.minmatchlen === undefined ? 0 : Number(int64Arg(opts.minmatchlen, 'minmatchlen'))
  if (minmatchlen < 0) minmatchlen = 0
  checkKey(key1)
  checkKey(key2)
  if (getlen && getidx) throw syntaxError('If you want both the length and indexes, please just use IDX.')
  return runCommand(db, () => {
    const a = readValue(db, key1)
    const b = readValue(db, key2)
    const alen = a.length
    const blen = b.length
    if ((alen + 1) * (blen + 1) * 4 > MAX_VALUE_BYTES) {
      throw new ArenaKVError('ERR_NOMEM', 'Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len')
    }
    // dp[j + (blen + 1) * i]: the LCS length of a[0, i) and b[0, j).
    const w = blen + 1
    const dp = new Uint32Array((alen + 1) * w)
    for (let i = 1; i <= alen; i++) {
      const ai = a[i - 1]
      for (let j = 1; j <= blen; j++) {
        const at = i * w + j
        if (ai === b[j - 1]) dp[at] = dp[at - w - 1] + 1
        else dp[at] = Math.max(dp[at - w], dp[at - 1])
      }
    }
    const len = dp[alen * w + blen]
    if (getlen) return len
    const result = Buffer.alloc(len)
    const matches: LcsMatch[] = []
    let idx = len
    let i = alen
    let j = blen
    // A range being grown backwards; aStart === alen means none.
    let aStart = alen
    let aEnd = 0
    let bStart = 0
    let bEnd = 0
    while (i > 0 && j > 0) {
      let emit = false
      if (a[i - 1] === b[j - 1]) {
        result[idx - 1] = a[i - 1]
        if (aStart === alen) {
          aStart = aEnd = i - 1
          bStart = bEnd = j - 1
        } else if (aStart === i && bStart === j) {
          aStart--
          bStart--
        } else {
          emit = true
        }
        // A match at the first byte of either value ends the walk: emit now.
        if (aStart === 0 || bStart === 0) emit = true
        idx--
        i--
        j--
      } else {
        if (dp[(i - 1) * w + j] > dp[i * w + j - 1]) i--
        else j--
        if (aStart !== alen) emit = true
      }
      if (emit) {
        const matchLen = aEnd - aStart + 1
        if (getidx && (minmatchlen === 0 || matchLen >= minmatchlen)) {
          matches.push(withmatchlen ? [[aStart, aEnd], [bStart, bEnd], matchLen] : [[aStart, aEnd], [bStart, bEnd]])
        }
        aStart = alen
      }
    }
    return getidx ? { matches, len } : result
  })
}

/** A value for LCS: a missing key is the empty string. */
function readValue(db: Db, key: string): Buffer {
  const handle = db.lookupRead(key)
  return handle === 0 ? Buffer.alloc(0) : db.copyValue(handle)
}
