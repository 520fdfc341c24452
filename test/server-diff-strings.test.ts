// Differential tests of the RESP endpoint for the string and key commands beyond SET / GET (SETEX … LCS, KEYS …
// OBJECT ENCODING, CONFIG RESETSTAT, INFO of several sections): the same requests go to a redis-server 7.0 the
// test starts and to an engine served by db.listen, and the replies must be byte for byte the same, in RESP2
// and again in RESP3.
import { beforeEach, describe, expect, test } from 'vitest'
import { diffPair } from './helpers/resp-diff.js'
import { RespClient, plain, type Reply } from './helpers/resp.js'
import { HAS_REDIS_SERVER, needs } from './helpers/tools.js'

type Cmd = (string | Buffer)[]

describe.skipIf(!HAS_REDIS_SERVER)(needs('RESP endpoint vs redis-server 7.0: strings and keys', HAS_REDIS_SERVER, 'redis-server', 'redis-server'), () => {
  const pair = diffPair()
  let r: RespClient
  let a: RespClient
  beforeEach(() => {
    ;({ r, a } = pair)
  })

  /** Runs the commands on both from an empty keyspace, in RESP2 then RESP3, and expects the same bytes back. */
  async function same(cmds: Cmd[]): Promise<void> {
    for (const proto of ['2', '3']) {
      for (const c of [r, a]) {
        await c.call('HELLO', proto)
        await c.call('FLUSHALL')
      }
      for (const cmd of cmds) {
        const want = await r.callRaw(...cmd)
        const got = await a.callRaw(...cmd)
        expect(got.raw.toString('latin1'), `RESP${proto}: ${cmd.join(' ')}`).toBe(want.raw.toString('latin1'))
      }
    }
  }

  async function both(...cmd: Cmd): Promise<[Reply, Reply]> {
    return [await r.call(...cmd), await a.call(...cmd)]
  }

  test('SETEX, PSETEX, SETNX, GETSET, SET … GET, MSETNX', async () => {
    await same([
      ['SETEX', 'k', '100', 'v'], ['TTL', 'k'], ['GET', 'k'], ['SETEX', 'k', '0', 'v'], ['SETEX', 'k', '-1', 'v'], ['SETEX', 'k', 'x', 'v'],
      ['SETEX', 'k', '9223372036854775807', 'v'], ['SETEX', 'k', '99999999999999999999', 'v'], ['SETEX', 'k', '10'], ['GET', 'k'],
      ['PSETEX', 'p', '100000', 'v'], ['TTL', 'p'], ['PSETEX', 'p', '0', 'v'], ['PSETEX', 'p', '1.5', 'v'], ['PSETEX', 'p', '9223372036854775807', 'v'],
      ['SETNX', 'n', '1'], ['SETNX', 'n', '2'], ['GET', 'n'], ['SETNX', 'n'],
      ['GETSET', 'g', '1'], ['GETSET', 'g', '2'], ['SET', 'g', 'v', 'EX', '100'], ['GETSET', 'g', '3'], ['TTL', 'g'], ['GET', 'g'],
      ['SET', 's', 'old', 'GET'], ['SET', 's', 'new', 'GET', 'NX'], ['GET', 's'], ['SET', 's', 'newer', 'GET', 'XX'], ['GET', 's'],
      ['SET', 'm', 'v', 'XX', 'GET'], ['EXISTS', 'm'], ['SET', 'm', 'v', 'NX', 'GET'], ['GET', 'm'], ['SET', 's', 'v', 'GET', 'EX', '100'], ['TTL', 's'],
      ['SET', 's', 'v', 'GET', 'GET'], ['SET', 's', 'v', 'GET', 'EX', '0'],
      ['MSETNX', 'm1', 'a', 'm2', 'b'], ['MSETNX', 'm2', 'c', 'm3', 'd'], ['MGET', 'm1', 'm2', 'm3'], ['MSETNX', 'm1'], ['MSETNX', 'x', '1', 'y'],
      ['MSETNX', 'x', '1', 'x', '2'], ['GET', 'x'],
    ])
  })

  test('APPEND, STRLEN, GETRANGE, SETRANGE', async () => {
    await same([
      ['APPEND', 'ap', 'hello'], ['APPEND', 'ap', ' world'], ['GET', 'ap'], ['STRLEN', 'ap'], ['STRLEN', 'missing'], ['APPEND', 'ap', ''],
      ['SET', 't', 'v', 'EX', '100'], ['APPEND', 't', 'w'], ['TTL', 't'], ['SET', 'num', '12'], ['APPEND', 'num', '3'], ['INCR', 'num'],
      ['GETRANGE', 'ap', '0', '4'], ['GETRANGE', 'ap', '-5', '-1'], ['GETRANGE', 'ap', '5', '2'], ['GETRANGE', 'ap', '0', '-100'],
      ['GETRANGE', 'ap', '-100', '100'], ['GETRANGE', 'missing', '0', '-1'], ['GETRANGE', 'ap', 'x', '1'], ['GETRANGE', 'ap', '0', 'x'],
      ['GETRANGE', 'ap', '0', '9223372036854775807'], ['GETRANGE', 'ap', '-9223372036854775808', '-1'], ['GETRANGE', 'ap', '0', '99999999999999999999'],
      ['SETRANGE', 'sr', '5', 'x'], ['GET', 'sr'], ['SETRANGE', 'sr', '0', 'ab'], ['GET', 'sr'], ['SETRANGE', 'sr', '-1', 'x'], ['SETRANGE', 'sr', 'x', 'x'],
      ['SETRANGE', 'empty', '3', ''], ['EXISTS', 'empty'], ['SETRANGE', 'sr', '536870912', 'x'], ['SETRANGE', 'sr', '536870911', ''], ['SETRANGE', 'sr', '1', ''],
      ['STRLEN', 'sr'],
    ])
  })

  test('INCR, DECR, INCRBY, DECRBY over the whole int64 range, INCRBYFLOAT', async () => {
    await same([
      ['INCR', 'i'], ['INCRBY', 'i', '10'], ['DECR', 'i'], ['DECRBY', 'i', '5'], ['GET', 'i'],
      ['INCRBY', 'i', 'x'], ['INCRBY', 'i', '1.5'], ['INCRBY', 'i', '+1'], ['INCRBY', 'i', ' 1'], ['INCRBY', 'i', '99999999999999999999'],
      ['SET', 'i', '9223372036854775806'], ['INCR', 'i'], ['INCR', 'i'], ['GET', 'i'], ['SET', 'i', '-9223372036854775808'], ['DECR', 'i'],
      ['DECRBY', 'i', '-9223372036854775808'], ['SET', 'i', '5'], ['DECRBY', 'i', '-9223372036854775808'], ['INCRBY', 'i', '9223372036854775807'],
      ['SET', 'i', '9007199254740993'], ['INCR', 'i'], ['DECRBY', 'i', '9007199254740994'], ['INCRBY', 'i', '-9223372036854775807'],
      ['SET', 'i', 'abc'], ['INCR', 'i'], ['SET', 'i', ' 1'], ['INCR', 'i'], ['SET', 'i', '01'], ['INCR', 'i'], ['SET', 'i', '-0'], ['INCR', 'i'],
      ['SET', 'i', '1', 'EX', '100'], ['INCR', 'i'], ['TTL', 'i'],
      ['INCRBYFLOAT', 'f', '0.1'], ['INCRBYFLOAT', 'f', '0.2'], ['INCRBYFLOAT', 'f', '1e3'], ['INCRBYFLOAT', 'f', '-1000.3'], ['GET', 'f'],
      ['INCRBYFLOAT', 'f', 'x'], ['INCRBYFLOAT', 'f', 'inf'], ['INCRBYFLOAT', 'f', ''], ['SET', 'f', '1.5e10'], ['INCRBYFLOAT', 'f', '1'],
      ['SET', 'f', 'x'], ['INCRBYFLOAT', 'f', '1'], ['INCRBYFLOAT', 'nf', '5.0e3'], ['INCRBYFLOAT', 'f2', '3'], ['INCRBYFLOAT', 'f2', '-3.0'],
      ['SET', 'f3', '1.7976931348623157e308'], ['INCRBYFLOAT', 'f3', '1.7976931348623157e308'],
    ])
  })

  test('SETBIT, GETBIT, BITCOUNT, BITPOS', async () => {
    await same([
      ['SETBIT', 'b', '7', '1'], ['GET', 'b'], ['SETBIT', 'b', '7', '0'], ['SETBIT', 'b', '100', '1'], ['STRLEN', 'b'], ['GETBIT', 'b', '100'],
      ['GETBIT', 'b', '1000'], ['GETBIT', 'missing', '0'], ['SETBIT', 'b', '-1', '1'], ['SETBIT', 'b', '4294967296', '1'], ['SETBIT', 'b', 'x', '1'],
      ['SETBIT', 'b', '1', '2'], ['SETBIT', 'b', '1', 'x'], ['SETBIT', 'b', 'x', 'x'], ['SETBIT', 'b', '1', '01'], ['GETBIT', 'b', '-1'],
      ['GETBIT', 'b', '4294967295'], ['GETBIT', 'b', '4294967296'], ['GETBIT', 'b', 'x'],
      ['SET', 'bc', 'foobar'], ['BITCOUNT', 'bc'], ['BITCOUNT', 'bc', '0', '0'], ['BITCOUNT', 'bc', '1', '1'], ['BITCOUNT', 'bc', '1', '1', 'BIT'],
      ['BITCOUNT', 'bc', '5', '30', 'bit'], ['BITCOUNT', 'bc', '-2', '-1'], ['BITCOUNT', 'bc', '0'], ['BITCOUNT', 'bc', '0', '1', 'FOO'],
      ['BITCOUNT', 'bc', 'x', '1'], ['BITCOUNT', 'missing'], ['BITCOUNT', 'missing', '0', '1'], ['BITCOUNT', 'bc', '0', '1', 'BYTE', 'x'],
      ['BITCOUNT', 'bc', '3', '1'], ['BITCOUNT', 'bc', '-100', '100'],
      ['SET', 'bp', Buffer.from([0xff, 0xf0, 0x00])], ['BITPOS', 'bp', '0'], ['BITPOS', 'bp', '1'], ['BITPOS', 'bp', '0', '2'], ['BITPOS', 'bp', '1', '2'],
      ['BITPOS', 'bp', '1', '2', '-1'], ['BITPOS', 'bp', '0', '8', '-1', 'BIT'], ['BITPOS', 'bp', '1', '7', '15', 'BIT'], ['BITPOS', 'bp', '2'],
      ['BITPOS', 'bp', 'x'], ['BITPOS', 'missing', '0'], ['BITPOS', 'missing', '1'], ['BITPOS', 'bp', '0', '0', '1', 'FOO'],
      ['BITPOS', 'bp', '0', '0', '1', 'BIT', 'x'], ['BITPOS', 'bp', '0', 'x'],
      ['SET', 'ones', Buffer.from([0xff, 0xff])], ['BITPOS', 'ones', '0'], ['BITPOS', 'ones', '0', '0', '-1'], ['BITPOS', 'ones', '0', '0'],
    ])
  })

  test('LCS', async () => {
    await same([
      ['MSET', 'l1', 'ohmytext', 'l2', 'mynewtext'], ['LCS', 'l1', 'l2'], ['LCS', 'l1', 'l2', 'LEN'], ['LCS', 'l1', 'l2', 'IDX'],
      ['LCS', 'l1', 'l2', 'IDX', 'MINMATCHLEN', '4'], ['LCS', 'l1', 'l2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'], ['LCS', 'l1', 'l2', 'idx', 'withmatchlen'],
      ['LCS', 'l1', 'l2', 'LEN', 'IDX'], ['LCS', 'l1', 'l2', 'FOO'], ['LCS', 'l1', 'l2', 'MINMATCHLEN'], ['LCS', 'l1', 'l2', 'IDX', 'MINMATCHLEN', 'x'],
      ['LCS', 'l1', 'missing'], ['LCS', 'l1', 'missing', 'IDX'], ['LCS', 'l1', 'l2', 'IDX', 'MINMATCHLEN', '-5'], ['LCS', 'l1', 'l1', 'LEN'], ['LCS', 'l1'],
    ])
  })

  test('KEYS, RENAME, RENAMENX, COPY, TYPE, RANDOMKEY, OBJECT ENCODING, SCAN TYPE', async () => {
    await same([
      ['RANDOMKEY'], ['MSET', 'a', '1', 'b', '2'], ['KEYS', 'a'], ['KEYS', 'z*'], ['KEYS', '[a]'], ['RENAME', 'a', 'c'], ['GET', 'c'], ['EXISTS', 'a'],
      ['RENAME', 'missing', 'x'], ['RENAME', 'c', 'c'], ['RENAMENX', 'c', 'b'], ['RENAMENX', 'c', 'd'], ['RENAMENX', 'd', 'd'], ['RENAMENX', 'missing', 'x'],
      ['SET', 't', 'v', 'EX', '100'], ['RENAME', 't', 't2'], ['TTL', 't2'], ['SET', 'x', 'y'], ['RENAME', 't2', 'x'], ['TTL', 'x'], ['RENAME', 'x', 't2'],
      ['COPY', 't2', 't3'], ['TTL', 't3'], ['GET', 't3'], ['COPY', 't2', 't3'], ['COPY', 't2', 't3', 'REPLACE'], ['COPY', 't2', 't2'],
      ['COPY', 'missing', 'x'], ['COPY', 't2', 't4', 'DB', '0'], ['COPY', 't2', 't5', 'DB', '99999'], ['COPY', 't2', 't5', 'DB', 'x'],
      ['COPY', 't2', 't5', 'FOO'], ['COPY', 't2', 't5', 'DB'], ['COPY', 't2', 't2', 'REPLACE'], ['TYPE', 't2'], ['TYPE', 'missing'],
      ['SCAN', '0', 'TYPE', 'string', 'COUNT', '100', 'MATCH', 't2'], ['SCAN', '0', 'TYPE', 'STRING', 'MATCH', 't2', 'COUNT', '100'], ['SCAN', '0', 'TYPE', 'hash'],
      ['FLUSHALL'], ['SET', 'only', '1'], ['RANDOMKEY'],
      ['SET', 'e1', '12345'], ['OBJECT', 'ENCODING', 'e1'], ['SET', 'e2', 'hello'], ['OBJECT', 'ENCODING', 'e2'], ['SET', 'e3', 'x'.repeat(45)],
      ['OBJECT', 'ENCODING', 'e3'], ['SET', 'e4', 'x'.repeat(44)], ['OBJECT', 'ENCODING', 'e4'], ['OBJECT', 'ENCODING', 'missing'],
      ['SET', 'e5', '-12'], ['OBJECT', 'ENCODING', 'e5'], ['SET', 'e6', '9223372036854775808'], ['OBJECT', 'ENCODING', 'e6'],
      ['SET', 'e7', '01'], ['OBJECT', 'ENCODING', 'e7'], ['OBJECT', 'ENCODING'], ['OBJECT', 'ENCODING', 'a', 'b'],
    ])
  })

  test('expire times over the whole int64 range', async () => {
    await same([
      ['SET', 'x', '1'], ['PEXPIREAT', 'x', '9223372036854770000'], ['PEXPIRETIME', 'x'], ['EXPIREAT', 'x', '-9223372036854775808'], ['EXISTS', 'x'],
      ['SET', 'x', '1'], ['EXPIRE', 'x', '9223372036854775807'], ['PEXPIRE', 'x', '9223372036854775807'], ['EXPIREAT', 'x', '9223372036854775807'],
      ['PEXPIRE', 'x', '-9223372036854775808'], ['EXISTS', 'x'], ['SET', 'x', '1'], ['EXPIRE', 'x', '99999999999999999999'], ['TTL', 'x'],
    ])
  })

  test('INFO of several sections, CONFIG RESETSTAT', async () => {
    await both('SET', 'k', 'v')
    const titles = (x: Reply): string[] => String(plain(x)).split('\r\n').filter((l) => l.startsWith('#'))
    for (const sections of [['keyspace', 'server'], ['clients', 'server'], ['Stats', 'memory', 'keyspace', 'stats'], ['clients'], ['KEYSPACE', 'nosuch', 'clients']]) {
      const [rr, ar] = await both('INFO', ...sections)
      expect(titles(ar), sections.join(' ')).toEqual(titles(rr))
    }
    await same([['GET', 'missing'], ['SET', 'k', 'v'], ['GET', 'k'], ['CONFIG', 'RESETSTAT'], ['CONFIG', 'RESETSTAT', 'x']])
    await both('HELLO', '2')
    const stat = (x: Reply, name: string): string | undefined => String(plain(x)).split('\r\n').find((l) => l.startsWith(`${name}:`))
    const [rs, as] = await both('INFO', 'stats')
    for (const f of ['keyspace_hits', 'keyspace_misses', 'expired_keys', 'evicted_keys']) expect(stat(as, f), f).toBe(stat(rs, f))
    expect(stat(as, 'keyspace_misses')).toBe('keyspace_misses:0')
  })

  test('COMMAND INFO and DOCS describe the new commands as Redis does', async () => {
    const names = ['setex', 'getset', 'msetnx', 'append', 'getrange', 'incrbyfloat', 'setbit', 'bitpos', 'lcs', 'keys', 'rename', 'renamenx', 'copy', 'randomkey', 'type', 'object|encoding', 'config|resetstat']
    const [ri, ai] = await both('COMMAND', 'INFO', ...names)
    for (let i = 0; i < names.length; i++) {
      const [want, got] = [plain((ri as Reply[])[i]) as unknown[], plain((ai as Reply[])[i]) as unknown[]]
      expect(got.slice(0, 9), names[i]).toEqual(want.slice(0, 9))
    }
    await both('HELLO', '3')
    for (const name of ['setex', 'setnx', 'strlen', 'getrange', 'incrbyfloat', 'getbit', 'lcs', 'rename', 'copy', 'keys', 'type', 'setrange', 'object|encoding']) {
      const [rd, ad] = await both('COMMAND', 'DOCS', name)
      const doc = (x: Reply): Record<string, unknown> => (plain(x) as Record<string, Record<string, unknown>>)[name]
      for (const field of ['summary', 'since', 'group', 'complexity', 'arguments']) {
        expect(doc(ad)[field], `${name} ${field}`).toEqual(doc(rd)[field])
      }
    }
  })
})
