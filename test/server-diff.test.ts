// Differential tests of the RESP endpoint: the same requests go to a redis-server 7.0 the test starts and to
// an engine served by db.listen, and the replies must be byte for byte the same (RESP2 and RESP3), except
// where the endpoint differs on purpose (one database; the command count), which other tests cover.
import { beforeEach, describe, expect, test } from 'vitest'
import { diffPair } from './helpers/resp-diff.js'
import { RespClient, plain, type Reply } from './helpers/resp.js'
import { HAS_REDIS_SERVER, needs } from './helpers/tools.js'

type Cmd = (string | Buffer)[]

describe.skipIf(!HAS_REDIS_SERVER)(needs('RESP endpoint vs redis-server 7.0', HAS_REDIS_SERVER, 'redis-server', 'redis-server'), () => {
  const pair = diffPair()
  let r: RespClient
  let a: RespClient
  beforeEach(async () => {
    r = pair.r
    a = pair.a
    for (const c of [r, a]) {
      await c.call('FLUSHALL')
      await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
    }
  })

  /** Runs each command on both and expects the same bytes back. */
  async function same(cmds: Cmd[]): Promise<void> {
    for (const cmd of cmds) {
      const want = await r.callRaw(...cmd)
      const got = await a.callRaw(...cmd)
      expect(got.raw.toString('latin1'), `${cmd.join(' ')}`).toBe(want.raw.toString('latin1'))
    }
  }

  /** Both replies, decoded. */
  async function both(...cmd: Cmd): Promise<[Reply, Reply]> {
    return [await r.call(...cmd), await a.call(...cmd)]
  }

  const future = String(Math.floor(Date.now() / 1000) + 100_000)

  test('SET and its options, GET', async () => {
    await same([
      ['SET', 'k', 'v'], ['GET', 'k'], ['GET', 'missing'],
      ['SET', 'k', 'v2', 'NX'], ['SET', 'k', 'v3', 'XX'], ['GET', 'k'], ['SET', 'n', 'v', 'XX'], ['GET', 'n'],
      ['SET', 'k', 'v4', 'GET'], ['SET', 'fresh', 'v', 'GET'], ['SET', 'k', 'v5', 'NX', 'GET'], ['GET', 'k'],
      ['SET', 'k', 'v', 'EX', '0'], ['SET', 'k', 'v', 'EX', '-5'], ['SET', 'k', 'v', 'EX', 'x'], ['SET', 'k', 'v', 'PX', '1.5'],
      ['SET', 'k', 'v', 'EX', '10', 'PX', '10'], ['SET', 'k', 'v', 'NX', 'XX'], ['SET', 'k', 'v', 'KEEPTTL', 'EX', '1'],
      ['SET', 'k', 'v', 'FOO'], ['SET', 'k'], ['SET', 'k', 'v', 'EX'], ['SET', 'k', 'v', 'ex', '100'], ['TTL', 'k'],
      ['SET', 'k', 'v', 'KEEPTTL'], ['TTL', 'k'], ['SET', 'k', 'v'], ['TTL', 'k'],
      ['SET', 'k', 'v', 'EXAT', future], ['EXPIRETIME', 'k'], ['SET', 'k', 'v', 'PXAT', `${future}000`], ['PEXPIRETIME', 'k'],
      ['SET', 'gone', 'v', 'PXAT', '1'], ['EXISTS', 'gone'],
      ['SET', 'k', 'v', 'EX', '99999999999999999999'], ['SET', 'k', 'v', 'EX', '9223372036854775807'],
      ['SET', 'e', ''], ['GET', 'e'],
    ])
  })

  test('MGET, MSET, GETDEL, GETEX', async () => {
    await same([
      ['MSET', 'a', '1', 'b', '2'], ['MSET', 'a'], ['MSET', 'a', '1', 'b'], ['MGET', 'a', 'b', 'c'], ['MGET'],
      ['GETDEL', 'a'], ['GETDEL', 'a'], ['GETDEL'],
      ['GETEX', 'b'], ['GETEX', 'b', 'EX', '100'], ['TTL', 'b'], ['GETEX', 'b', 'PERSIST'], ['TTL', 'b'],
      ['GETEX', 'b', 'EX', '0'], ['GETEX', 'b', 'KEEPTTL'], ['GETEX', 'b', 'EX', '10', 'PX', '10'], ['GETEX', 'b', 'PERSIST', 'EX', '1'],
      ['GETEX', 'b', 'EXAT', future], ['EXPIRETIME', 'b'], ['GETEX', 'missing', 'EX', '5'], ['GETEX', 'b', 'PXAT', '1'], ['EXISTS', 'b'],
    ])
  })

  test('DEL, UNLINK, EXISTS, TOUCH, DBSIZE, FLUSHALL, FLUSHDB', async () => {
    await same([
      ['MSET', 'a', '1', 'b', '2', 'c', '3'], ['EXISTS', 'a', 'a', 'x'], ['TOUCH', 'a', 'x'], ['DBSIZE'],
      ['DEL', 'a', 'x'], ['UNLINK', 'b', 'b'], ['DEL'], ['EXISTS'], ['DBSIZE'],
      ['FLUSHALL', 'FOO'], ['FLUSHALL', 'SYNC', 'x'], ['FLUSHALL', 'ASYNC'], ['DBSIZE'], ['SET', 'a', '1'], ['FLUSHDB'], ['FLUSHDB', 'sync'], ['DBSIZE'],
    ])
  })

  test('the EXPIRE family, TTL, PTTL, EXPIRETIME, PERSIST', async () => {
    await same([
      ['SET', 'a', '1'], ['TTL', 'a'], ['PTTL', 'a'], ['TTL', 'missing'], ['PTTL', 'missing'], ['EXPIRETIME', 'a'], ['EXPIRETIME', 'missing'],
      ['EXPIREAT', 'a', future], ['EXPIRETIME', 'a'], ['PEXPIRETIME', 'a'],
      ['EXPIREAT', 'a', future, 'NX'], ['EXPIREAT', 'a', String(Number(future) + 10), 'XX'], ['EXPIRETIME', 'a'],
      ['EXPIREAT', 'a', future, 'GT'], ['EXPIREAT', 'a', future, 'LT'], ['EXPIRETIME', 'a'],
      ['EXPIRE', 'a', '10', 'NX', 'XX'], ['EXPIRE', 'a', '10', 'GT', 'LT'], ['EXPIRE', 'a', '10', 'FOO'], ['EXPIRE', 'a', 'x'],
      ['EXPIRE', 'a', 'x', 'FOO'], ['EXPIRE', 'a'], ['EXPIRE', 'missing', '10'], ['PEXPIRE', 'missing', '10'],
      ['PEXPIREAT', 'a', `${future}500`], ['PEXPIRETIME', 'a'], ['EXPIRETIME', 'a'],
      ['PERSIST', 'a'], ['PERSIST', 'a'], ['PERSIST', 'missing'], ['TTL', 'a'],
      ['EXPIRE', 'a', '100'], ['TTL', 'a'], ['PEXPIRE', 'a', '200000', 'GT'], ['TTL', 'a'],
      ['EXPIRE', 'a', '-1'], ['EXISTS', 'a'], ['SET', 'b', '1'], ['PEXPIREAT', 'b', '1'], ['EXISTS', 'b'],
      ['EXPIRE', 'c', '99999999999999999999'],
    ])
  })

  test('OBJECT, MEMORY USAGE, CONFIG GET/SET', async () => {
    await same([['SET', 'k', 'v']])
    // Redis's LRU clock ticks once a second at hz, so a key set just now may read as idle for 0 or 1 seconds there.
    const [want, got] = await both('OBJECT', 'IDLETIME', 'k')
    expect([typeof want, typeof got]).toEqual(['number', 'number'])
    expect(got).toBeLessThanOrEqual(1)
    await same([
      ['SET', 'k', 'v'], ['OBJECT', 'FREQ', 'k'], ['OBJECT', 'IDLETIME', 'missing'], ['OBJECT', 'FREQ', 'missing'],
      ['OBJECT', 'FOO', 'k'], ['OBJECT'], ['OBJECT', 'IDLETIME'],
      ['MEMORY', 'USAGE', 'missing'], ['MEMORY', 'USAGE', 'k', 'SAMPLES', 'x'], ['MEMORY', 'USAGE', 'k', 'FOO'], ['MEMORY', 'FOO'], ['MEMORY'],
      ['MEMORY', 'PURGE'],
      ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'SET', 'maxmemory', '100mb'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'foo', 'bar'], ['CONFIG', 'SET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory', '1mb', 'hz'], ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'],
      ['CONFIG', 'GET'], ['CONFIG', 'FOO'], ['CONFIG', 'SET', 'maxmemory-samples', 'x'],
      ['CONFIG', 'SET', 'maxmemory', '64mb'],
    ])
    // arenakv's two adaptive policies follow Redis's eight in the list of accepted values.
    const [wantPolicy, gotPolicy] = await Promise.all([
      r.callRaw('CONFIG', 'SET', 'maxmemory-policy', 'foo'),
      a.callRaw('CONFIG', 'SET', 'maxmemory-policy', 'foo'),
    ])
    expect(gotPolicy.raw.toString('latin1')).toBe(
      wantPolicy.raw.toString('latin1').replace('noeviction\r\n', 'noeviction, allkeys-adaptive, volatile-adaptive\r\n'),
    )
  })

  test('connection commands and their errors', async () => {
    await same([
      ['PING'], ['PING', 'hi'], ['PING', 'a', 'b'], ['ping'], ['ECHO', 'x'], ['ECHO'], ['SELECT', '0'], ['SELECT', 'x'], ['SELECT'],
      ['HELLO', '4'], ['HELLO', 'x'], ['HELLO', '1'], ['HELLO', '3', 'FOO'], ['HELLO', '3', 'AUTH', 'a'],
      ['AUTH', 'x'], ['AUTH', 'a', 'b', 'c'], ['AUTH', 'default', 'anything'], ['AUTH', 'someone', 'x'], ['AUTH'],
      ['CLIENT', 'SETNAME', 'x'], ['CLIENT', 'GETNAME'], ['CLIENT', 'SETNAME', 'a b'], ['CLIENT', 'SETNAME', 'a\nb'], ['CLIENT', 'SETNAME'],
      ['CLIENT', 'SETNAME', ''], ['CLIENT', 'GETNAME'], ['CLIENT', 'FOO'], ['CLIENT'], ['CLIENT', 'LIST', 'TYPE', 'foo'], ['CLIENT', 'LIST', 'FOO'],
      ['CLIENT', 'LIST', 'TYPE', 'pubsub'], ['CLIENT', 'LIST', 'ID', 'x'],
      ['TIME', 'x'], ['COMMAND', 'FOO'], ['COMMAND', 'INFO', 'nosuchcommand'], ['COMMAND', 'DOCS', 'nosuchcommand'],
    ])
  })

  test('unknown commands and wrong arities', async () => {
    const long = 'x'.repeat(200)
    await same([
      ['FOO'], ['FOO', 'a', 'b'], ['foo', long, long], ['GET'], ['GET', 'a', 'b'], ['TTL'], ['DBSIZE', 'x'], ['ECHO', 'a', 'b'],
      ['MEMORY', 'USAGE'], ['CONFIG', 'GET'], ['OBJECT', 'FREQ'], ['CLIENT', 'ID', 'x'], ['COMMAND', 'COUNT', 'x'],
    ])
  })

  test('INFO keyspace, and INFO of several sections', async () => {
    await same([['INFO', 'keyspace'], ['SET', 'a', '1'], ['SET', 'b', '2'], ['INFO', 'KEYSPACE'], ['INFO', 'nosuchsection']])
    const [rr, ar] = await both('INFO', 'memory', 'stats')
    const titles = (x: Reply): string[] => (x as Buffer).toString().split('\r\n').filter((l) => l.startsWith('#'))
    expect(titles(ar)).toEqual(titles(rr))
    const fields = (x: Reply): Set<string> => new Set((x as Buffer).toString().split('\r\n').map((l) => l.split(':')[0]))
    for (const f of ['used_memory', 'used_memory_rss', 'maxmemory', 'maxmemory_policy', 'mem_fragmentation_ratio', 'evicted_keys', 'expired_keys', 'keyspace_hits']) {
      expect(fields(rr).has(f) && fields(ar).has(f), f).toBe(true)
    }
  })

  test('inline requests, as telnet and redis-cli send them', async () => {
    const send = async (c: RespClient, bytes: string, n: number): Promise<string> =>
      (await c.raw(bytes, n)).map((x) => x.raw.toString('latin1')).join('')
    const cases: [string, number][] = [
      ['PING\r\n', 1],
      ['set "a b" c\r\nget "a b"\r\n', 2],
      ['\r\n   \r\nPING\n', 1],
      ["set k 'it\\'s'\r\nget k\r\n", 2],
      ['set k "\\x41\\n\\t"\r\nget k\r\n', 2],
      ['echo "a"b\r\n', 1],
      ['get\r\n', 1],
      ['nosuch a b\r\n', 1],
    ]
    for (const [bytes, n] of cases) {
      const want = await send(r, bytes, n)
      const got = await send(a, bytes, n)
      expect(got, JSON.stringify(bytes)).toBe(want)
      if (want.includes('Protocol error')) {
        r.close()
        a.close()
        await pair.reconnect()
        ;({ r, a } = pair)
      }
    }
  })

  test('protocol errors: the same error text, then the connection is closed', async () => {
    const cases = [
      '*1\r\n$-5\r\n',
      '*1\r\n$600000000\r\n',
      '*1\r\nx$3\r\n',
      '*x\r\n',
      '*3000000000\r\n',
      'set "a b\r\n',
      '*1\r\n$2\r\nab\r\n*1\r\n$1x\r\n',
      `${'a'.repeat(70 * 1024)}`,
      `*1\r\n$${'1'.repeat(70 * 1024)}`,
    ]
    for (const bytes of cases) {
      const replies: string[] = []
      for (const c of [r, a]) {
        const out: Buffer[] = []
        c.socket.on('data', (d: Buffer) => out.push(d))
        c.socket.write(bytes)
        await c.closed
        replies.push(Buffer.concat([c.unread, ...out]).toString('latin1'))
      }
      expect(replies[1], JSON.stringify(bytes.slice(0, 40))).toBe(replies[0])
      expect(replies[1]).toMatch(/-ERR Protocol error: /)
      await pair.reconnect()
      ;({ r, a } = pair)
    }
    // The server goes on serving.
    expect(await a.call('PING')).toBe('PONG')
  })

  test('RESP3: HELLO 3, nulls, maps, verbatim strings, doubles', async () => {
    const [rh, ah] = await both('HELLO', '3')
    const strip = (h: Reply): unknown => {
      const o = plain(h) as Record<string, unknown>
      return { ...o, id: typeof o.id }
    }
    expect(strip(ah)).toEqual(strip(rh))
    await same([
      ['GET', 'missing'], ['SET', 'k', 'v'], ['SET', 'k', 'v', 'NX'], ['MGET', 'k', 'missing'], ['CONFIG', 'GET', 'maxmemory'],
      ['MEMORY', 'USAGE', 'missing'], ['OBJECT', 'IDLETIME', 'missing'], ['INFO', 'keyspace'], ['CLIENT', 'GETNAME'],
      ['COMMAND', 'INFO', 'nosuchcommand'], ['HELLO', '3', 'SETNAME', 'bad name'], ['CLIENT', 'GETNAME'],
    ])
    const [rs, as] = await both('MEMORY', 'STATS')
    const kinds = (x: Reply): Record<string, string> => {
      const out: Record<string, string> = {}
      for (const [k, v] of (x as { map: [Reply, Reply][] }).map) {
        out[String(plain(k))] = v !== null && typeof v === 'object' && 'double' in v ? 'double' : typeof v === 'number' ? 'integer' : 'map'
      }
      return out
    }
    const rk = kinds(rs)
    const ak = kinds(as)
    for (const name of ['peak.allocated', 'total.allocated', 'keys.count', 'dataset.percentage', 'peak.percentage', 'fragmentation', 'db.0']) {
      expect(ak[name], name).toBe(rk[name])
    }
  })

  test('COMMAND INFO and DOCS describe commands as Redis does', async () => {
    const names = ['get', 'set', 'mget', 'mset', 'del', 'exists', 'ttl', 'expire', 'scan', 'info', 'ping', 'hello', 'auth', 'dbsize', 'flushall', 'getex', 'getdel']
    const [ri, ai] = await both('COMMAND', 'INFO', ...names)
    const head = (e: Reply): unknown => (plain(e) as unknown[]).slice(0, 8)
    const specFlags = (e: Reply): unknown => ((plain(e) as unknown[])[8] as Record<string, unknown>[]).map((s) => s.flags)
    for (let i = 0; i < names.length; i++) {
      expect(head((ai as Reply[])[i]), names[i]).toEqual(head((ri as Reply[])[i]))
      expect(specFlags((ai as Reply[])[i]), names[i]).toEqual(specFlags((ri as Reply[])[i]))
    }
    await both('HELLO', '3')
    for (const name of ['get', 'mget', 'exists', 'ttl', 'echo', 'dbsize', 'getdel']) {
      const [rd, ad] = await both('COMMAND', 'DOCS', name)
      const doc = (x: Reply): Record<string, unknown> => (plain(x) as Record<string, Record<string, unknown>>)[name]
      for (const field of ['summary', 'since', 'group', 'complexity', 'arguments']) {
        expect(doc(ad)[field], `${name} ${field}`).toEqual(doc(rd)[field])
      }
    }
    const [rsub, asub] = await both('COMMAND', 'INFO', 'client|setname', 'memory|usage', 'config|get')
    expect((plain(asub) as unknown[][]).map((e) => e.slice(0, 8))).toEqual((plain(rsub) as unknown[][]).map((e) => e.slice(0, 8)))
  })

  test('CLIENT INFO and CLIENT LIST lines have the fields of Redis, in its order', async () => {
    const fields = (line: string): string[] => line.trim().split(' ').map((f) => f.split('=')[0])
    const [ri, ai] = await both('CLIENT', 'INFO')
    // Redis 7.2 adds lib-name and lib-ver at the end (CLIENT SETINFO, which clients send, is 7.2's).
    expect(fields(String(plain(ai)))).toEqual([...fields(String(plain(ri))), 'lib-name', 'lib-ver'])
    expect(String(plain(ai))).toMatch(/ addr=[^ ]+\.sock:0 laddr=[^ ]+\.sock:0 .*flags=U .*cmd=client\|info user=default redir=-1 resp=2 /)
    const [rl, al] = await both('CLIENT', 'LIST')
    expect(fields(String(plain(al)).split('\n')[0])).toEqual([...fields(String(plain(rl)).split('\n')[0]), 'lib-name', 'lib-ver'])
  })

  test('COMMAND lists every command; each one Redis 7.0 has is described as Redis describes it', async () => {
    const all = (await a.call('COMMAND')) as Reply[]
    expect(all.length).toBe(await a.call('COMMAND', 'COUNT'))
    const names = all.map((e) => (plain(e) as unknown[])[0] as string)
    expect(names).toEqual(expect.arrayContaining(['get', 'set', 'scan', 'memory', 'config', 'client', 'command', 'hello', 'info']))
    expect(((await a.call('COMMAND', 'LIST')) as Buffer[]).map((b) => b.toString())).toEqual(names)
    const theirs = (await r.call('COMMAND', 'INFO', ...names)) as Reply[]
    const ours = (await a.call('COMMAND', 'INFO', ...names)) as Reply[]
    for (let i = 0; i < names.length; i++) {
      expect(theirs[i], `redis-server 7.0 has ${names[i]}`).not.toBeNull()
      expect((plain(ours[i]) as unknown[]).slice(0, 8), names[i]).toEqual((plain(theirs[i]) as unknown[]).slice(0, 8))
      // Every subcommand the endpoint serves is one Redis has, with the same arity and flags.
      const theirSubs = new Map(((plain(theirs[i]) as unknown[])[9] as unknown[][]).map((e) => [e[0], e.slice(0, 8)]))
      for (const sub of (plain(ours[i]) as unknown[])[9] as unknown[][]) {
        if (sub[0] === 'client|setinfo') continue // Redis 7.2's, which clients send: not in 7.0
        expect(sub.slice(0, 8), String(sub[0])).toEqual(theirSubs.get(sub[0]))
      }
    }
    await a.call('HELLO', '3')
    const docs = plain(await a.call('COMMAND', 'DOCS')) as Record<string, Record<string, unknown>>
    expect(Object.keys(docs).sort()).toEqual([...names].sort())
    for (const [name, doc] of Object.entries(docs)) {
      expect(doc, name).toMatchObject({ summary: expect.any(String), since: expect.any(String), group: expect.any(String) })
    }
  })

  test('SCAN: errors as Redis, and every key, binary ones included, comes back as it was written', async () => {
    await same([['SCAN', 'x'], ['SCAN', '0', 'COUNT', '0'], ['SCAN', '0', 'COUNT', 'x'], ['SCAN', '0', 'MATCH'], ['SCAN', '0', 'FOO', 'bar'], ['SCAN', '0', 'TYPE', 'list']])
    const keys: Buffer[] = [Buffer.from('héllo'), Buffer.from([0xff, 0xfe, 0x00, 0x41]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('plain')]
    for (let i = 0; i < 40; i++) keys.push(Buffer.from(Array.from({ length: 1 + (i % 7) }, (_, j) => (i * 37 + j * 101) & 255)))
    const unique = [...new Map(keys.map((k) => [k.toString('hex'), k])).values()]
    const scanAll = async (c: RespClient): Promise<string[]> => {
      const seen = new Set<string>()
      let cursor = '0'
      for (let i = 0; i < 1000; i++) {
        const [next, page] = (await c.call('SCAN', cursor, 'COUNT', '7')) as [Buffer, Buffer[]]
        for (const k of page) seen.add(k.toString('hex'))
        cursor = next.toString()
        if (cursor === '0') break
      }
      return [...seen].sort()
    }
    for (const k of unique) {
      await same([['SET', k, Buffer.concat([Buffer.from('v:'), k])], ['GET', k]])
    }
    const want = unique.map((k) => k.toString('hex')).sort()
    expect(await scanAll(a)).toEqual(want)
    expect(await scanAll(r)).toEqual(want)
    await same([['DBSIZE'], ['SCAN', '0', 'MATCH', 'pl*', 'COUNT', '1000'], ['SCAN', '0', 'MATCH', 'h*llo', 'COUNT', '1000', 'TYPE', 'string']])
  })
})
