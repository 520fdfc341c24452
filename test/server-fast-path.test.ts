// The RESP endpoint's fast path (lib/server/fast-path.ts) against redis-server 7.0 and against itself: the shapes it
// takes (GET, SET key value, INCR, MGET, any case), the near misses it must leave to the general parser (options,
// wrong arity, leading zeros, bytes other than CRLF after a bulk, unauthenticated clients), and requests split
// anywhere across reads, must all give the bytes the general path and Redis give. Then the read buffer the
// listener's clients share (lib/server/socket-reader.ts): what outlives a read is copied, replies the socket still
// holds are never overwritten, and connections over the re-wrapped handles are counted and closed as before.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { Engine } from '../lib/engine.js'
import type { RespListener } from '../lib/server/server.js'
import { diffPair } from './helpers/resp-diff.js'
import { RespClient, encodeRequest } from './helpers/resp.js'
import { HAS_REDIS_SERVER, needs } from './helpers/tools.js'

const bulk = (s: string | Buffer): Buffer => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')])
}
const req = (...args: (string | Buffer)[]): Buffer => Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map(bulk)])

/** One pipelined batch: the fast shapes, their near misses, and the replies' edge cases. */
function batch(): { bytes: Buffer; replies: number } {
  const manyKeys = Array.from({ length: 20 }, (_, i) => `k${i % 7}`)
  const parts: Buffer[] = [
    req('GET', 'k'),
    req('SET', 'k', 'abc'),
    req('get', 'k'),
    req('GeT', 'k'),
    req('sEt', 'k0', ''),
    req('GET', 'k0'),
    req('SET', '', 'empty key'),
    req('GET', ''),
    req('SET', 'k1', 'v', 'EX', '100'),
    req('SET', 'k2', 'v', 'NX'),
    req('SET', 'k2', 'w', 'NX'),
    req('INCR', 'n'),
    req('incr', 'n'),
    req('INCR', 'k'),
    req('SET', 'big', '9007199254740991'),
    req('INCR', 'big'),
    req('INCR', 'big'),
    req('SET', 'max', '9223372036854775806'),
    req('INCR', 'max'),
    req('INCR', 'max'),
    req('GET', 'max'),
    req('SET', 'neg', '-9007199254740993'),
    req('INCR', 'neg'),
    req('MGET', 'k', 'k0', 'missing', 'n'),
    req('MGET', ...manyKeys),
    req('mget', 'k'),
    req('SET', Buffer.from('h\xc3\xa9llo', 'latin1'), 'utf8 key'),
    req('GET', Buffer.from('h\xc3\xa9llo', 'latin1')),
    req('SET', Buffer.from('\xff\xfe', 'latin1'), 'invalid utf8 key'),
    req('GET', Buffer.from('\xff\xfe', 'latin1')),
    req('INCR', Buffer.from('\xff\xfe', 'latin1')),
    req('SET', 'bin', Buffer.from([0, 13, 10, 255, 36, 42])),
    req('GET', 'bin'),
    req('GET'),
    req('GET', 'k', 'x'),
    req('SET', 'k'),
    req('INCR', 'n', 'x'),
    req('MGET'),
    req('GETX', 'k'),
    req('GE', 'k'),
    // Bytes other than CRLF after a bulk: Redis skips two bytes whatever they are.
    Buffer.from('*2\r\n$3\r\nGETxx$1\r\nkyy'),
    Buffer.from('*3\r\n$3\r\nSET\r\n$2\r\nzz\r\n$5\r\nhello..'),
    req('GET', 'zz'),
    // An empty multibulk and an inline request between the fast ones.
    Buffer.from('*0\r\n'),
    Buffer.from('GET k\r\n'),
    req('SET', 'v', 'x'.repeat(20_000)),
    req('GET', 'v'),
    req('STRLEN', 'v'),
  ]
  // Replies: one per request but `*0` (none).
  return { bytes: Buffer.concat(parts), replies: parts.length - 1 }
}

async function collect(c: RespClient, bytes: Buffer, replies: number, chunk: number): Promise<string> {
  const pending = c.raw(Buffer.alloc(0), replies)
  for (let i = 0; i < bytes.length; i += chunk) {
    c.socket.write(bytes.subarray(i, i + chunk))
    // A pause so the server reads the pieces apart.
    if (chunk < bytes.length) await new Promise((r) => setTimeout(r, 1))
  }
  const out = await pending
  return Buffer.concat(out.map((x) => x.raw)).toString('latin1')
}

describe.skipIf(!HAS_REDIS_SERVER)(needs('RESP fast path vs redis-server 7.0', HAS_REDIS_SERVER, 'redis-server', 'redis-server'), () => {
  const pair = diffPair()

  test('a pipelined batch of fast shapes and near misses replies as Redis does, in RESP2 and RESP3', async () => {
    const { bytes, replies } = batch()
    for (const proto of ['2', '3']) {
      for (const c of [pair.r, pair.a]) {
        await c.call('HELLO', proto)
        await c.call('FLUSHALL')
      }
      const want = await collect(pair.r, bytes, replies, bytes.length)
      const got = await collect(pair.a, bytes, replies, bytes.length)
      expect(got, `RESP${proto}`).toBe(want)
    }
  })

  test('the same batch split across reads at every few bytes gives the same replies', async () => {
    const { bytes, replies } = batch()
    await pair.a.call('FLUSHALL')
    const whole = await collect(pair.a, bytes, replies, bytes.length)
    for (const chunk of [7, 64, 1000]) {
      await pair.a.call('FLUSHALL')
      expect(await collect(pair.a, bytes, replies, chunk), `chunks of ${chunk}`).toBe(whole)
    }
  })

  test('a protocol error after fast requests: their replies, then the error, then the connection closes', async () => {
    const bytes = Buffer.concat([req('SET', 'p', '1'), req('GET', 'p'), Buffer.from('*2\r\n$03\r\nGET\r\n$1\r\np\r\n')])
    const want = await collect(pair.r, bytes, 3, bytes.length)
    const got = await collect(pair.a, bytes, 3, bytes.length)
    expect(got).toBe(want)
    await pair.a.closed
    await pair.r.closed
  })
})

describe('RESP fast path: authentication and client state', () => {
  let db: Engine
  let listener: RespListener
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'arenakv-fast-'))
    db = new Engine({ maxmemory: '16mb' })
    listener = await db.listen({ path: join(dir, 'a.sock'), requirepass: 'pw' })
  })
  afterAll(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })
  let c: RespClient
  beforeEach(async () => {
    c = await RespClient.connect({ path: listener.address.path! })
    return () => c.close()
  })

  test('before AUTH, GET / SET / INCR / MGET are refused, whole requests pipelined or not', async () => {
    const bytes = Buffer.concat([req('SET', 'a', '1'), req('GET', 'a'), req('INCR', 'a'), req('MGET', 'a')])
    const out = await c.raw(bytes, 4)
    for (const r of out) expect(r.raw.toString()).toBe('-NOAUTH Authentication required.\r\n')
    expect(db.get('a')).toBeUndefined()
    const after = await c.raw(Buffer.concat([encodeRequest(['AUTH', 'pw']), req('SET', 'a', '1'), req('INCR', 'a'), req('GET', 'a')]), 4)
    expect(after.map((r) => r.raw.toString())).toEqual(['+OK\r\n', '+OK\r\n', ':2\r\n', '$1\r\n2\r\n'])
  })

  test('CLIENT LIST names the last fast command; the engine sees the same keys and values', async () => {
    await c.call('AUTH', 'pw')
    const other = await RespClient.connect({ path: listener.address.path! })
    await other.call('AUTH', 'pw')
    try {
      await c.raw(Buffer.concat([req('SET', 'ключ', 'значение'), req('incr', 'cnt')]), 2)
      expect(String(await other.call('CLIENT', 'LIST'))).toMatch(/ cmd=incr /)
      await c.call('MGET', 'ключ', 'cnt')
      expect(String(await other.call('CLIENT', 'LIST'))).toMatch(/ cmd=mget /)
    } finally {
      other.close()
    }
    expect(db.getString('ключ')).toBe('значение')
    expect(db.getString('cnt')).toBe('1')
  })
})

describe('RESP endpoint: the read buffer its clients share', () => {
  let db: Engine
  let listener: RespListener
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'arenakv-shared-'))
    db = new Engine({ maxmemory: '64mb' })
    listener = await db.listen({ path: join(dir, 'a.sock') })
  })
  afterAll(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 5))

  test("a client's request not whole yet survives other clients' reads in between", async () => {
    const a = await RespClient.connect({ path: listener.address.path! })
    const b = await RespClient.connect({ path: listener.address.path! })
    try {
      const value = 'v'.repeat(3000)
      const request = Buffer.concat([req('SET', 'ka', value), req('MSET', 'x', 'first', 'y', 'second'), req('MGET', 'ka', 'x', 'y')])
      const replies = a.raw(Buffer.alloc(0), 3)
      // Cut inside the first bulk's bytes, after MSET's first arguments, and inside a header.
      const cuts = [0, 1500, request.indexOf('first') + 5, request.length - 3, request.length]
      for (let i = 0; i + 1 < cuts.length; i++) {
        a.socket.write(request.subarray(cuts[i], cuts[i + 1]))
        await pause()
        // Another client's read lands in the same buffer meanwhile.
        expect(await b.call('SET', `noise${i}`, 'z'.repeat(5000 + i))).toBe('OK')
        await pause()
      }
      const out = await replies
      expect(out.map((r) => r.raw.toString('latin1'))).toEqual([
        '+OK\r\n',
        '+OK\r\n',
        `*3\r\n$3000\r\n${value}\r\n$5\r\nfirst\r\n$6\r\nsecond\r\n`,
      ])
    } finally {
      a.close()
      b.close()
    }
  })

  test('batches written while the client does not read arrive whole and in order', async () => {
    const a = await RespClient.connect({ path: listener.address.path! })
    try {
      for (let i = 0; i < 26; i++) db.set(`g${i}`, String.fromCharCode(97 + i).repeat(1000))
      a.socket.pause()
      const count = 3000
      const replies = a.raw(Buffer.alloc(0), count)
      // Batches of 10 GETs, 10 KB of replies each (one write from the writer's buffer), until the socket takes no
      // more while nobody reads: a write the kernel takes in part is still held when the next batch is encoded.
      for (let i = 0; i < count; i += 10) {
        a.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, j) => req('GET', `g${(i + j) % 26}`))))
        await new Promise((r) => setTimeout(r, 1))
      }
      a.socket.resume()
      const out = await replies
      expect(out.every((r, i) => r.raw.toString('latin1') === `$1000\r\n${String.fromCharCode(97 + (i % 26)).repeat(1000)}\r\n`)).toBe(true)
    } finally {
      a.close()
    }
  })

  test('a big ECHO the socket still holds is not overwritten by the next reads', async () => {
    const a = await RespClient.connect({ path: listener.address.path! })
    const b = await RespClient.connect({ path: listener.address.path! })
    try {
      // 40 replies of 20 KB while the client does not read: the socket's writes go pending. Then one more ECHO,
      // whole in one read (a view into the shared buffer), queued behind them, and other clients' reads.
      a.socket.pause()
      const messages = Array.from({ length: 41 }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(20_000))
      const replies = a.raw(Buffer.concat(messages.slice(0, 40).map((m) => req('ECHO', m))), messages.length)
      await pause()
      await pause()
      a.socket.write(req('ECHO', messages[40]))
      await pause()
      for (let i = 0; i < 5; i++) expect(await b.call('SET', `k${i}`, 'x'.repeat(30_000))).toBe('OK')
      a.socket.resume()
      const out = await replies
      expect(out.map((r) => r.value?.toString())).toEqual(messages)
    } finally {
      a.close()
      b.close()
    }
  })
})

describe('RESP endpoint: connections over re-wrapped handles', () => {
  test('maxclients refuses the extra client, a freed place is taken again, and close() ends with clients connected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arenakv-max-'))
    const db = new Engine({ maxmemory: '16mb' })
    try {
      const l = await db.listen({ path: join(dir, 'a.sock'), maxclients: 1 })
      const first = await RespClient.connect({ path: l.address.path! })
      expect(await first.call('SET', 'k', 'v')).toBe('OK')
      const second = await RespClient.connect({ path: l.address.path! })
      await second.closed
      expect(second.unread.toString()).toBe('-ERR max number of clients reached\r\n')
      first.close()
      await first.closed
      for (let i = 0; i < 100 && l.clientCount > 0; i++) await new Promise((r) => setTimeout(r, 5))
      expect(l.clientCount).toBe(0)
      const third = await RespClient.connect({ path: l.address.path! })
      expect(await third.call('GET', 'k')).toEqual(Buffer.from('v'))
      // close() resolves only once the server's own count of connections is back to 0.
      await l.close()
      await third.closed
      expect(l.clientCount).toBe(0)
    } finally {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
