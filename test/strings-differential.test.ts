// The string and key commands against a real redis-server: the same random command sequences run on both, and
// every reply must be the same (errors as Redis's text). Needs redis-server on PATH (started on a Unix socket).
// ARENAKV_DIFF_SEEDS=1,2,… runs other or more sequences.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Engine } from '../lib/engine.js'
import { ArenaKVError } from '../lib/errors.js'
import { startRedisServer, type RedisServer } from './helpers/redis-server.js'
import { RespClient, type Reply as RespReply } from './helpers/resp.js'
import { HAS_REDIS_SERVER, needs } from './helpers/tools.js'

/** A reply as compared here: integers as bigints, bulk strings as latin1 text (one char per byte). */
type Reply = string | bigint | null | Reply[] | { error: string }

function fromResp(r: RespReply): Reply {
  if (Buffer.isBuffer(r)) return r.toString('latin1')
  if (typeof r === 'number') return BigInt(r)
  if (typeof r === 'bigint' || typeof r === 'string' || r === null) return r
  if (Array.isArray(r)) return r.map(fromResp)
  if (typeof r === 'object' && 'error' in r) return r
  throw new Error(`unexpected reply ${JSON.stringify(r)}`)
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The engine's result as the RESP reply Redis gives for the command. */
function norm(v: unknown): Reply {
  if (v === undefined || v === null) return null
  if (Buffer.isBuffer(v)) return v.toString('latin1')
  if (typeof v === 'number') return BigInt(v)
  if (typeof v === 'bigint' || typeof v === 'string') return v
  if (Array.isArray(v)) return v.map(norm)
  if (typeof v === 'object') {
    // LCS IDX: Redis's map as a flat array in RESP2.
    const o = v as { matches: unknown[]; len: number }
    return ['matches', norm(o.matches), 'len', BigInt(o.len)]
  }
  throw new Error(`cannot normalize ${typeof v}`)
}

const bool = (b: boolean): Reply => (b ? 1n : 0n)
const ok = (): Reply => 'OK'

interface Op {
  redis: Array<string | number | bigint>
  engine: (db: Engine) => Reply
}

const KEYS = ['a', 'b', 'c', 'd']
const VALUES = ['', '0', '1', '-1', '10', '-5', '007', '+3', ' 4', '3.5', '-0.25', '1e3', '0x10', 'inf', 'abc', 'hello world',
  '9223372036854775806', '-9223372036854775807', '9223372036854775808', 'x'.repeat(50), '\u00ff\u0080\u0001', '1.1']
const INCRS = [1n, -1n, 7n, -100n, 9223372036854775807n, -9223372036854775808n, 2n, 1000000n]
const FLOATS = ['0.1', '1.5', '-2', '1e3', '3.0e1', 'abc', '0x1p2', '-0.1', '5', '1e-5', ' 1', 'inf']
const RANGES = [0, 1, 2, 3, -1, -2, -3, -7, 5, 10, 100, -100]

function generate(r: () => number): Op {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
  const k = pick(KEYS)
  const k2 = pick(KEYS)
  const v = pick(VALUES)
  // The engine gets the bytes Redis gets (a JS string would be written as UTF-8).
  const vb = Buffer.from(v, 'latin1')
  const s = pick(RANGES)
  const e = pick(RANGES)
  switch (Math.floor(r() * 34)) {
    case 0: return { redis: ['SET', k, v], engine: (db) => (db.set(k, vb), ok()) }
    case 1: return { redis: ['GET', k], engine: (db) => norm(db.get(k)) }
    case 2: return { redis: ['APPEND', k, v], engine: (db) => norm(db.append(k, vb)) }
    case 3: return { redis: ['STRLEN', k], engine: (db) => norm(db.strlen(k)) }
    case 4: return { redis: ['GETRANGE', k, s, e], engine: (db) => norm(db.getrange(k, s, e)) }
    case 5: {
      const off = Math.floor(r() * 40) - 2
      return { redis: ['SETRANGE', k, off, v], engine: (db) => norm(db.setrange(k, off, vb)) }
    }
    case 6: return { redis: ['INCR', k], engine: (db) => norm(db.incrbyBig(k, 1n)) }
    case 7: return { redis: ['DECR', k], engine: (db) => norm(db.incrbyBig(k, -1n)) }
    case 8: {
      const n = pick(INCRS)
      return { redis: ['INCRBY', k, n], engine: (db) => norm(db.incrbyBig(k, n)) }
    }
    case 9: {
      const n = pick(INCRS)
      if (n === -9223372036854775808n) return { redis: ['DECRBY', k, n], engine: (db) => norm(db.decrby(k, n)) }
      return { redis: ['DECRBY', k, n], engine: (db) => norm(db.incrbyBig(k, -n)) }
    }
    case 10: {
      const f = pick(FLOATS)
      return { redis: ['INCRBYFLOAT', k, f], engine: (db) => norm(db.incrbyfloat(k, f)) }
    }
    case 11: {
      const off = Math.floor(r() * 120)
      const bit = r() < 0.6 ? 1 : 0
      return { redis: ['SETBIT', k, off, bit], engine: (db) => norm(db.setbit(k, off, bit)) }
    }
    case 12: {
      const off = Math.floor(r() * 130)
      return { redis: ['GETBIT', k, off], engine: (db) => norm(db.getbit(k, off)) }
    }
    case 13: return { redis: ['BITCOUNT', k], engine: (db) => norm(db.bitcount(k)) }
    case 14: {
      const unit = pick(['BYTE', 'BIT'] as const)
      return { redis: ['BITCOUNT', k, s, e, unit], engine: (db) => norm(db.bitcount(k, { start: s, end: e, unit })) }
    }
    case 15: {
      const bit = r() < 0.5 ? 1 : 0
      const form = Math.floor(r() * 4)
      const unit = pick(['BYTE', 'BIT'] as const)
      if (form === 0) return { redis: ['BITPOS', k, bit], engine: (db) => norm(db.bitpos(k, bit)) }
      if (form === 1) return { redis: ['BITPOS', k, bit, s], engine: (db) => norm(db.bitpos(k, bit, { start: s })) }
      if (form === 2) return { redis: ['BITPOS', k, bit, s, e], engine: (db) => norm(db.bitpos(k, bit, { start: s, end: e })) }
      return { redis: ['BITPOS', k, bit, s, e, unit], engine: (db) => norm(db.bitpos(k, bit, { start: s, end: e, unit })) }
    }
    case 16: return { redis: ['LCS', k, k2], engine: (db) => norm(db.lcs(k, k2)) }
    case 17: return { redis: ['LCS', k, k2, 'LEN'], engine: (db) => norm(db.lcs(k, k2, { len: true })) }
    case 18: {
      const min = Math.floor(r() * 3)
      return {
        redis: ['LCS', k, k2, 'IDX', 'MINMATCHLEN', min, 'WITHMATCHLEN'],
        engine: (db) => norm(db.lcs(k, k2, { idx: true, minmatchlen: min, withmatchlen: true })),
      }
    }
    case 19: return { redis: ['GETSET', k, v], engine: (db) => norm(db.getset(k, vb)) }
    case 20: {
      const flag = pick(['NX', 'XX'] as const)
      return { redis: ['SET', k, v, flag, 'GET'], engine: (db) => norm(db.setGet(k, vb, flag === 'NX' ? { nx: true } : { xx: true })) }
    }
    case 21: return { redis: ['SETNX', k, v], engine: (db) => bool(db.setnx(k, vb)) }
    case 22: return { redis: ['MSETNX', k, v, k2, v], engine: (db) => bool(db.msetnx([[k, vb], [k2, vb]])) }
    case 23: return { redis: ['RENAME', k, k2], engine: (db) => (db.rename(k, k2), ok()) }
    case 24: return { redis: ['RENAMENX', k, k2], engine: (db) => bool(db.renamenx(k, k2)) }
    case 25: {
      const replace = r() < 0.5
      return {
        redis: replace ? ['COPY', k, k2, 'REPLACE'] : ['COPY', k, k2],
        engine: (db) => bool(db.copy(k, k2, { replace })),
      }
    }
    case 26: return { redis: ['TYPE', k], engine: (db) => db.type(k) }
    case 27: return { redis: ['DEL', k], engine: (db) => norm(db.del(k)) }
    case 28: {
      const when = pick([4102444800000, 9223372036854770000n, -9223372036854770000n, 1, 2n ** 63n - 1n, 2n ** 63n])
      return { redis: ['PEXPIREAT', k, when], engine: (db) => bool(db.pexpireat(k, when)) }
    }
    case 29: return { redis: ['PEXPIRETIME', k], engine: (db) => norm(db.pexpiretime(k)) }
    case 30: {
      const secs = pick([100, 9223372036854775n, 9223372036854776n, -9223372036854775n, -9223372036854776n, 0])
      return { redis: ['EXPIRE', k, secs], engine: (db) => bool(db.expire(k, secs)) }
    }
    case 31: return { redis: ['EXISTS', k], engine: (db) => norm(db.exists(k)) }
    case 32: {
      const secs = pick([10, 0, -1, 9223372036854775n, 9223372036854776n])
      return { redis: ['SETEX', k, secs, v], engine: (db) => (db.setex(k, secs, vb), ok()) }
    }
    default: return { redis: ['KEYS', '*'], engine: (db) => db.keys('*').sort() }
  }
}

/**
 * PEXPIRETIME past 2^53 is a double in the engine: compared as one. A deadline set relative to now (EXPIRE 100,
 * SETEX 10) differs by the milliseconds between the two calls: only its being within the next 100 s is compared.
 */
function comparable(cmd: string, reply: Reply): Reply {
  if (cmd === 'PEXPIRETIME' && typeof reply === 'bigint') {
    const when = Number(reply)
    const now = Date.now()
    return when > now - 1000 && when <= now + 100_000 ? 'relative to now' : BigInt(when)
  }
  if (cmd === 'KEYS' && Array.isArray(reply)) return [...reply].sort()
  return reply
}

describe.skipIf(!HAS_REDIS_SERVER)(needs('string and key commands against redis-server', HAS_REDIS_SERVER, 'redis-server', 'redis-server'), () => {
  let redis: RedisServer
  let client: RespClient
  beforeAll(async () => {
    redis = await startRedisServer()
    client = await RespClient.connect({ path: redis.path })
  })
  afterAll(async () => {
    client?.close()
    await redis?.stop()
  })

  for (const seed of (process.env.ARENAKV_DIFF_SEEDS ?? '1,2,3,4,5').split(',').map(Number)) {
    test(`random sequence ${seed}: every reply is Redis's`, async () => {
      await client.call('FLUSHALL')
      using db = new Engine()
      const r = rng(seed)
      for (let i = 0; i < 2000; i++) {
        const op = generate(r)
        const cmd = String(op.redis[0])
        // Every argument as the bytes its text stands for (latin1: the values hold bytes 0x80..0xff).
        const args = op.redis.map((a) => Buffer.from(String(a), 'latin1'))
        const expected = comparable(cmd, fromResp(await client.call(...args)))
        let actual: Reply
        try {
          actual = comparable(cmd, op.engine(db))
        } catch (error) {
          if (!(error instanceof ArenaKVError)) throw error
          actual = { error: `ERR ${error.message}` }
        }
        expect(actual, `#${i} ${op.redis.join(' ')}`).toEqual(expected)
      }
    })
  }
})
