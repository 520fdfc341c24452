// db.listen: the endpoint's lifetime, binds, authentication, keys shared with the JS API, limits and
// robustness (protocol errors, clients that never read or vanish mid-reply), all in-process on loopback.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { Engine } from '../lib/engine.js'
import { ArenaKVError } from '../lib/errors.js'
import type { RespListener } from '../lib/server/server.js'
import { RespClient, encodeRequest, plain } from './helpers/resp.js'

let dir: string
const engines: Engine[] = []
const clients: RespClient[] = []

function engine(options?: ConstructorParameters<typeof Engine>[0]): Engine {
  const db = new Engine(options)
  engines.push(db)
  return db
}

async function client(l: RespListener): Promise<RespClient> {
  const c = await RespClient.connect(l.address.path !== undefined ? { path: l.address.path } : { port: l.address.port, host: l.address.host })
  clients.push(c)
  return c
}

/** Waits (bounded) until `cond` holds; false if it never did. */
async function eventually(cond: () => boolean, tries = 400): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return true
    await sleep(10)
  }
  return cond()
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arenakv-listen-'))
})
afterEach(() => {
  for (const c of clients.splice(0)) c.close()
  for (const db of engines.splice(0)) db.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('listen and close', () => {
  test('TCP on 127.0.0.1 by default; port 0 reports the port chosen', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    expect(l.address.host).toBe('127.0.0.1')
    expect(l.address.port).toBeGreaterThan(0)
    const c = await client(l)
    expect(await c.call('PING')).toBe('PONG')
    await l.close()
    await expect(RespClient.connect({ port: l.address.port! })).rejects.toThrow()
  })

  test('a Unix socket is created with mode 0600 and removed on close; a stale socket is replaced', async () => {
    const db = engine()
    const path = join(dir, 's.sock')
    const first = await db.listen({ path })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    // Left behind as a crashed server would leave it: listening again replaces it.
    const stale = net.createServer()
    await first.close()
    await new Promise<void>((resolve) => stale.listen(path, resolve))
    stale.close()
    writeFileSync(join(dir, 'file'), 'x')
    await expect(db.listen({ path: join(dir, 'file') })).rejects.toThrow(/not a socket/)
    const l = await db.listen({ path })
    expect(await (await client(l)).call('PING')).toBe('PONG')
    await l.close()
    expect(() => statSync(path)).toThrow()
  })

  test('closing the engine closes its listeners and drops their clients', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    const c = await client(l)
    await c.call('SET', 'k', 'v')
    db.close()
    await c.closed
    await expect(RespClient.connect({ port: l.address.port! })).rejects.toThrow()
    await expect(db.listen({ port: 0 })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  test('a non-loopback bind is refused without requirepass; bad options are typed errors', async () => {
    const db = engine()
    await expect(db.listen({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without requirepass/)
    await expect(db.listen({ port: 0, host: '10.1.2.3' })).rejects.toBeInstanceOf(RangeError)
    await expect(db.listen({ port: -1 })).rejects.toBeInstanceOf(RangeError)
    await expect(db.listen({ port: 1.5 })).rejects.toBeInstanceOf(RangeError)
    await expect(db.listen({} as never)).rejects.toBeInstanceOf(RangeError)
    await expect(db.listen({ port: 0, nope: 1 } as never)).rejects.toBeInstanceOf(TypeError)
    await expect(db.listen({ path: join(dir, 'x'), port: 1 })).rejects.toBeInstanceOf(TypeError)
    await expect(db.listen({ port: 0, requirepass: '' })).rejects.toBeInstanceOf(TypeError)
    await expect(db.listen({ port: 0, clientOutputBufferLimit: { hard: 'lots' } })).rejects.toBeInstanceOf(RangeError)
    await expect(db.listen(null as never)).rejects.toBeInstanceOf(TypeError)
  })
})

describe('requirepass', () => {
  test('everything but AUTH, HELLO and QUIT answers NOAUTH until the client authenticates', async () => {
    const db = engine()
    const l = await db.listen({ port: 0, requirepass: 's3cret' })
    const c = await client(l)
    expect(await c.call('GET', 'k')).toEqual({ error: 'NOAUTH Authentication required.' })
    expect(await c.call('PING')).toEqual({ error: 'NOAUTH Authentication required.' })
    expect(await c.call('HELLO', '3')).toEqual({ error: expect.stringMatching(/^NOAUTH HELLO must be called with the client already authenticated/) })
    expect(await c.call('AUTH', 'wrong')).toEqual({ error: 'WRONGPASS invalid username-password pair or user is disabled.' })
    expect(await c.call('AUTH', 'someone', 's3cret')).toEqual({ error: 'WRONGPASS invalid username-password pair or user is disabled.' })
    expect(await c.call('AUTH', 's3cret')).toBe('OK')
    expect(await c.call('SET', 'k', 'v')).toBe('OK')
    const d = await client(l)
    expect(plain(await d.call('HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'tool'))).toMatchObject({ proto: 3, server: 'redis' })
    expect(plain(await d.call('GET', 'k'))).toBe('v')
    expect(plain(await d.call('CLIENT', 'GETNAME'))).toBe('tool')
    expect(await d.call('QUIT')).toBe('OK')
    await d.closed
  })

  test('before AUTH, requests of more than 10 arguments or bulks over 16 KB are protocol errors', async () => {
    const db = engine()
    const l = await db.listen({ port: 0, requirepass: 'p' })
    const c = await client(l)
    c.socket.write(encodeRequest(Array.from({ length: 11 }, () => 'x')))
    await c.closed
    expect(c.unread.toString()).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n')
  })
})

describe('keys and values between RESP and the JS API', () => {
  test('UTF-8 keys name the same key on both sides; invalid bytes come back as they went', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    const c = await client(l)
    db.set('héllo', 'from js')
    expect(plain(await c.call('GET', 'héllo'))).toBe('from js')
    await c.call('SET', Buffer.from([0x6b, 0xff]), Buffer.from([0, 1, 2, 255]))
    expect(db.get('k\udcff')).toEqual(Buffer.from([0, 1, 2, 255]))
    expect([...db.scanIterator()].sort()).toEqual(['héllo', 'k\udcff'])
    const [, keys] = (await c.call('SCAN', '0', 'COUNT', '100')) as [Buffer, Buffer[]]
    expect(keys.map((k) => k.toString('hex')).sort()).toEqual([Buffer.from('héllo').toString('hex'), '6bff'].sort())
  })

  test('values of every size, up to tens of MB, arrive and leave intact', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    const c = await client(l)
    for (const size of [0, 1, 16 * 1024 - 1, 16 * 1024, 100_000, 20 * 1024 * 1024]) {
      const v = Buffer.alloc(size)
      for (let i = 0; i < size; i += 997) v[i] = (i / 997) & 255
      expect(await c.call('SET', `k${size}`, v)).toBe('OK')
      const back = (await c.call('GET', `k${size}`)) as Buffer
      expect(back.equals(v), `size ${size}`).toBe(true)
      expect(db.get(`k${size}`)!.equals(v)).toBe(true)
    }
  })

  test('pipelined requests are answered in order, in one batch', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    const c = await client(l)
    const reqs: Buffer[] = []
    for (let i = 0; i < 1000; i++) reqs.push(encodeRequest(['SET', `k${i}`, `v${i}`]), encodeRequest(['GET', `k${i}`]))
    const replies = await c.raw(Buffer.concat(reqs), 2000)
    for (let i = 0; i < 1000; i++) {
      expect(replies[2 * i].value).toBe('OK')
      expect(plain(replies[2 * i + 1].value)).toBe(`v${i}`)
    }
    expect(db.dbsize()).toBe(1000)
  })
})

describe('engine errors and events over RESP', () => {
  test("a refused write answers Redis's OOM text; the engine's events are delivered after the command", async () => {
    const db = engine({ maxmemory: '2mb', maxmemoryPolicy: 'noeviction' })
    const l = await db.listen({ port: 0 })
    const c = await client(l)
    const big = Buffer.alloc(1024 * 1024)
    await c.call('SET', 'a', big)
    expect(await c.call('SET', 'b', big)).toEqual({ error: "OOM command not allowed when used memory > 'maxmemory'." })
    const evicted: string[] = []
    db.on('evicted', (k) => evicted.push(k))
    expect(await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru')).toBe('OK')
    expect(await c.call('SET', 'b', big)).toBe('OK')
    expect(evicted).toEqual(['a'])
    expect(plain(await c.call('INFO', 'stats'))).toMatch(/evicted_keys:1\r\n/)
  })

  test('a listener that throws: its error is the reply, and the server goes on', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    const c = await client(l)
    db.on('expired', () => {
      throw new Error('listener failed')
    })
    await c.call('SET', 'k', 'v', 'PX', '1')
    await sleep(5)
    expect(await c.call('GET', 'k')).toEqual({ error: 'ERR listener failed' })
    expect(await c.call('PING')).toBe('PONG')
  })
})

describe('robustness', () => {
  test('a malformed request closes that connection with the protocol error, never the server', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    const bystander = await client(l)
    const c = await client(l)
    c.socket.write('*1\r\n$4\r\nPING\r\n*1\r\n$-3\r\n')
    await c.closed
    expect(c.unread.toString()).toBe('+PONG\r\n-ERR Protocol error: invalid bulk length\r\n')
    const d = await client(l)
    d.socket.write(`*1\r\n$${512 * 1024 * 1024 + 1}\r\n`)
    await d.closed
    expect(d.unread.toString()).toBe('-ERR Protocol error: invalid bulk length\r\n')
    expect(await bystander.call('PING')).toBe('PONG')
    expect(l.clientCount).toBe(1)
  })

  test('a client that never reads is dropped past the hard output limit; others are served meanwhile', async () => {
    const db = engine()
    db.set('big', Buffer.alloc(256 * 1024, 7))
    const l = await db.listen({ port: 0, clientOutputBufferLimit: { hard: '4mb', soft: 0 } })
    const other = await client(l)
    const sink = net.connect(l.address.port!, '127.0.0.1')
    await new Promise((resolve) => sink.once('connect', resolve))
    sink.pause()
    sink.on('error', () => {})
    const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()))
    const get = encodeRequest(['GET', 'big'])
    // 400 GETs of 256 KB is 100 MB of replies: far past the limit, so the server must drop the client.
    for (let i = 0; i < 400 && !sink.destroyed; i++) {
      sink.write(get)
      if (i % 20 === 0) {
        expect(await other.call('PING')).toBe('PONG')
        await sleep(5)
      }
    }
    expect(await eventually(() => l.clientCount === 1)).toBe(true)
    sink.destroy()
    await closed
    expect(plain(await other.call('GET', 'big'))).toHaveLength(256 * 1024)
  })

  test('a client over the soft output limit for longer than softSeconds is dropped', async () => {
    const db = engine()
    db.set('big', Buffer.alloc(256 * 1024, 7))
    const l = await db.listen({ port: 0, clientOutputBufferLimit: { hard: 0, soft: '1mb', softSeconds: 0 } })
    const other = await client(l)
    const sink = net.connect(l.address.port!, '127.0.0.1')
    await new Promise((resolve) => sink.once('connect', resolve))
    sink.pause()
    sink.on('error', () => {})
    const get = encodeRequest(['GET', 'big'])
    // One request per batch, a few ms apart: the pending output stays over 1 MB across batches.
    for (let i = 0; i < 200 && l.clientCount > 1; i++) {
      sink.write(get)
      await sleep(5)
    }
    expect(await eventually(() => l.clientCount === 1)).toBe(true)
    sink.destroy()
    expect(await other.call('PING')).toBe('PONG')
  })

  test('a client that disconnects mid-reply costs nobody else anything', async () => {
    const db = engine()
    db.set('big', Buffer.alloc(32 * 1024 * 1024, 1))
    const l = await db.listen({ port: 0 })
    const other = await client(l)
    for (let i = 0; i < 5; i++) {
      const c = await client(l)
      c.socket.write(encodeRequest(['GET', 'big']))
      await new Promise((resolve) => c.socket.once('data', resolve))
      c.close()
    }
    expect(await eventually(() => l.clientCount === 1)).toBe(true)
    expect(await other.call('SET', 'k', 'v')).toBe('OK')
    expect(plain(await other.call('GET', 'k'))).toBe('v')
  })

  test('CLIENT LIST and INFO show each client in Redis line format', async () => {
    const db = engine()
    const l = await db.listen({ port: 0 })
    const a = await client(l)
    const b = await client(l)
    await a.call('CLIENT', 'SETNAME', 'alpha')
    await b.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib')
    const list = plain(await a.call('CLIENT', 'LIST')) as string
    const lines = list.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=alpha age=\d+ idle=\d+ flags=N db=0 .* cmd=client\|list user=default redir=-1 resp=2/)
    expect(lines[1]).toMatch(/ name= .* cmd=client\|setinfo .*lib-name=mylib lib-ver=$/)
    const id = (await b.call('CLIENT', 'ID')) as number
    expect(plain(await a.call('CLIENT', 'LIST', 'ID', String(id)))).toMatch(new RegExp(`^id=${id} `))
    expect(plain(await b.call('CLIENT', 'INFO'))).toMatch(new RegExp(`^id=${id} .*cmd=client\\|info .*\\n$`))
    expect(plain(await a.call('INFO', 'clients'))).toMatch(/connected_clients:2\r\n/)
  })

  test('listen on a closed engine, and engine errors, are typed', async () => {
    const db = new Engine()
    db.close()
    await expect(db.listen({ port: 0 })).rejects.toBeInstanceOf(ArenaKVError)
  })
})
