// arenakv/redis against real servers: a redis-server 7 on a Unix socket and a three-master Redis Cluster on loopback,
// each started (and stopped, also on failure) by this file. Coherence across processes, faults (server killed and
// restarted, CLIENT KILL, FLUSHALL, a full tracking table), memory bounds. Delays are printed, never asserted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises'
import { BasicClientSideCache, createClient, createClientPool, createCluster, RESP_TYPES } from 'redis'
import { ArenaKVClientSideCache } from '../lib/redis/index.js'
import { ensureDist } from './helpers/dist.js'
import { startPeer, type Peer } from './helpers/nearcache-peer.js'
import { startRedisCluster, startRedisNode, type RedisCluster, type RedisNode } from './helpers/redis-node.js'
import { HAS_REDIS_CLI, HAS_REDIS_SERVER, needs } from './helpers/tools.js'

const reconnectStrategy = (): number => 20
const noop = (): void => {}

/** Counts the invalidations and flushes a cache has processed, per key, and waits for the next one. */
function watch(cache: ArenaKVClientSideCache) {
  const perKey = new Map<string, number>()
  let flushes = 0
  let waiters: Array<{ key: string; resolve: (t: number) => void }> = []
  const at = (): number => performance.timeOrigin + performance.now()
  cache.on('invalidate', (key: string | Buffer | null) => {
    const t = at()
    if (key === null) return
    const k = key.toString()
    perKey.set(k, (perKey.get(k) ?? 0) + 1)
    waiters = waiters.filter((w) => (w.key === k ? (w.resolve(t), false) : true))
  })
  cache.on('flush', () => {
    flushes++
    const t = at()
    for (const w of waiters.splice(0)) w.resolve(t)
  })
  return {
    /** Invalidations of `key` plus whole-cache flushes so far: a read after this grew must not be stale. */
    seen: (key: string): number => (perKey.get(key) ?? 0) + flushes,
    flushes: (): number => flushes,
    next(key: string, timeoutMs = 10_000): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no invalidation of ${key} within ${timeoutMs} ms`)), timeoutMs)
        waiters.push({ key, resolve: (t) => (clearTimeout(timer), resolve(t)) })
      })
    },
    async flushed(before: number, timeoutMs = 10_000): Promise<void> {
      for (let i = 0; flushes === before; i++) {
        if (i * 5 > timeoutMs) throw new Error(`the cache was not flushed within ${timeoutMs} ms`)
        await sleep(5)
      }
    },
  }
}

/** CLIENT KILL of every connection named `name` on the server `admin` talks to. @returns how many. */
async function killByName(admin: { sendCommand(args: string[]): Promise<unknown> }, name: string): Promise<number> {
  const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
  const ids = list
    .split('\n')
    .filter((l) => l.includes(` name=${name} `))
    .map((l) => /id=(\d+)/.exec(l)![1])
  for (const id of ids) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id])
  return ids.length
}

/** mulberry32: a seeded generator whose low bits are as random as its high ones. */
function seeded(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)
  }
}

function percentiles(xs: number[]): { p50: number; p99: number; max: number } {
  const a = [...xs].sort((x, y) => x - y)
  const p = (q: number): number => a[Math.min(a.length - 1, Math.floor(q * a.length))]
  return { p50: +p(0.5).toFixed(3), p99: +p(0.99).toFixed(3), max: +a[a.length - 1].toFixed(3) }
}

interface Reader {
  get(key: string): Promise<string | null>
}

/**
 * 1,000 writes by the peer process, each to a key the reader has cached: the reader's cache drops the key when
 * the invalidation arrives, and its next read returns the new value. Returns the delays from the start of the
 * peer's SET to the reader's processing of the invalidation (ms, wall clock of one machine).
 */
async function invalidationDelays(reader: Reader, cache: ArenaKVClientSideCache, peer: Peer, keys: string[], writes: number) {
  const w = watch(cache)
  const delays: number[] = []
  let stale = 0
  for (let i = 0; i < writes; i++) {
    const key = keys[i % keys.length]
    await reader.get(key)
    const hits = cache.stats().hits
    await reader.get(key)
    expect(cache.stats().hits).toBe(hits + 1)
    const invalidated = w.next(key)
    const { t0 } = await peer.request<{ t0: number; t1: number }>({ op: 'set', key, value: `v${i}` })
    delays.push((await invalidated) - t0)
    if ((await reader.get(key)) !== `v${i}`) stale++
  }
  return { stale, ...percentiles(delays) }
}

describe.skipIf(!HAS_REDIS_SERVER)(needs('near cache in front of redis-server (standalone)', HAS_REDIS_SERVER, 'redis-server', 'redis-server'), () => {
  let server: RedisNode
  const closers: Array<() => unknown> = []
  const track = <T>(close: () => unknown, value: T): T => (closers.push(close), value)

  beforeAll(async () => {
    await ensureDist()
    server = await startRedisNode({ socket: true })
  })
  afterAll(async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(noop)
    await server?.stop()
  })

  async function clients(options: ConstructorParameters<typeof ArenaKVClientSideCache>[0] = {}) {
    const cache = new ArenaKVClientSideCache(options)
    const reader = createClient({ socket: { path: server.path!, reconnectStrategy }, RESP: 3, clientSideCache: cache, name: 'nc-reader' })
    const writer = createClient({ socket: { path: server.path!, reconnectStrategy } })
    reader.on('error', noop)
    writer.on('error', noop)
    await reader.connect()
    await writer.connect()
    track(() => (reader.destroy(), writer.destroy(), cache.close()), null)
    return { cache, reader, writer }
  }

  it('serves hits from the engine, shares one request among concurrent misses, and drops every command of a key', async () => {
    const { cache, reader, writer } = await clients()
    await writer.flushAll()
    await writer.mSet({ a: '1', b: '2' })
    const [g1, g2, g3] = await Promise.all([reader.get('a'), reader.get('a'), reader.get('a')])
    expect([g1, g2, g3]).toEqual(['1', '1', '1'])
    expect(cache.stats().loadSuccessCount).toBe(1)
    expect(await reader.get('a')).toBe('1')
    expect(cache.stats().hits).toBe(1)
    expect(await reader.mGet(['a', 'b'])).toEqual(['1', '2'])
    expect(await reader.get('b')).toBe('2')
    expect(await reader.mGet(['a', 'b'])).toEqual(['1', '2'])
    expect(cache.isCached(['MGET', 'a', 'b'], ['a', 'b'])).toBe(true)
    expect(cache.isCached(['GET', 'a'], ['a'])).toBe(true)
    expect(cache.size()).toBe(3)
    const w = watch(cache)
    const inv = w.next('a')
    await writer.set('a', 'changed')
    await inv
    expect(cache.isCached(['GET', 'a'], ['a'])).toBe(false)
    expect(cache.isCached(['MGET', 'a', 'b'], ['a', 'b'])).toBe(false)
    expect(cache.isCached(['GET', 'b'], ['b'])).toBe(true)
    expect(await reader.mGet(['a', 'b'])).toEqual(['changed', '2'])
    expect(await reader.get('a')).toBe('changed')
    const info = cache.engine.infoObject('stats')
    expect(Number(info.keyspace_hits)).toBeGreaterThan(0)
  })

  it('caches hashes, sets and typed-mapped Buffers as their types, and each caller gets its own copy', async () => {
    const { cache, reader, writer } = await clients()
    await writer.hSet('h', { x: '1', y: '2' })
    await writer.sAdd('s', ['m1', 'm2'])
    const h1 = await reader.hGetAll('h')
    const h2 = await reader.hGetAll('h')
    expect(h2).toEqual({ x: '1', y: '2' })
    expect(Object.getPrototypeOf(h2)).toBe(Object.getPrototypeOf(h1))
    ;(h2 as Record<string, string>).x = 'mutated'
    expect(await reader.hGetAll('h')).toEqual({ x: '1', y: '2' })
    expect((await reader.sMembers('s')).sort()).toEqual(['m1', 'm2'])
    expect((await reader.sMembers('s')).sort()).toEqual(['m1', 'm2'])
    expect(cache.stats().hits).toBe(3)

    const bufCache = new ArenaKVClientSideCache()
    const bin = createClient({
      socket: { path: server.path!, reconnectStrategy },
      RESP: 3,
      clientSideCache: bufCache,
      commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } },
    })
    bin.on('error', noop)
    await bin.connect()
    track(() => (bin.destroy(), bufCache.close()), null)
    await writer.set('bin', Buffer.from([0, 255, 1]))
    const b1 = (await bin.get('bin')) as unknown as Buffer
    const b2 = (await bin.get('bin')) as unknown as Buffer
    expect(Buffer.isBuffer(b2)).toBe(true)
    expect([...b2]).toEqual([0, 255, 1])
    b2[0] = 9
    expect([...((await bin.get('bin')) as unknown as Buffer)]).toEqual([0, 255, 1])
    expect([...b1]).toEqual([0, 255, 1])
    expect(bufCache.stats().hits).toBe(2)
  })

  it('does not store a reply whose key was invalidated while it was on its way', async () => {
    const { cache, reader, writer } = await clients()
    await writer.set('race', 'old')
    const pending = reader.get('race')
    cache.invalidate('race')
    expect(await pending).toBe('old')
    expect(cache.isCached(['GET', 'race'], ['race'])).toBe(false)
    expect(await reader.get('race')).toBe('old')
    expect(cache.stats().hits).toBe(0)
    expect(await reader.get('race')).toBe('old')
    expect(cache.stats().hits).toBe(1)
  })

  it('flushes on FLUSHALL (a null invalidation), on CLIENT KILL, and gives entries the ttl', async () => {
    const { cache, reader, writer } = await clients({ ttl: 60_000 })
    await writer.set('t', 'v')
    await reader.get('t')
    // One-key replies live in their key's entry (named by the key), which carries the ttl.
    const pttl = cache.engine.pttl('t')
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(60_000)
    const w = watch(cache)
    let before = w.flushes()
    await writer.flushAll()
    await w.flushed(before)
    expect(cache.size()).toBe(0)
    await writer.set('t', 'v2')
    expect(await reader.get('t')).toBe('v2')
    expect(cache.size()).toBe(1)
    before = w.flushes()
    expect(await killByName(writer, 'nc-reader')).toBeGreaterThan(0)
    await w.flushed(before)
    expect(cache.size()).toBe(0)
    expect(await reader.get('t')).toBe('v2')
  })

  it('stays coherent when the server drops keys from a full tracking table', async () => {
    const { cache, reader, writer } = await clients()
    await writer.configSet('tracking-table-max-keys', '10')
    try {
      for (let i = 0; i < 100; i++) await writer.set(`tt:${i}`, 'a')
      for (let i = 0; i < 100; i++) expect(await reader.get(`tt:${i}`)).toBe('a')
      // The server invalidated what it stopped tracking: the cache holds at most what it still tracks.
      for (let i = 0; i < 100 && (cache.size() > 10 || cache.stats().invalidations < 90); i++) await sleep(10)
      expect(cache.size()).toBeLessThanOrEqual(10)
      expect(cache.stats().invalidations).toBeGreaterThanOrEqual(90)
      for (let i = 0; i < 100; i++) await writer.set(`tt:${i}`, 'b')
      await sleep(50)
      for (let i = 0; i < 100; i++) expect(await reader.get(`tt:${i}`)).toBe('b')
    } finally {
      await writer.configSet('tracking-table-max-keys', '1000000')
    }
  })

  it('works as a pool client cache', async () => {
    const cache = new ArenaKVClientSideCache()
    const pool = createClientPool({ socket: { path: server.path!, reconnectStrategy }, RESP: 3 }, { minimum: 2, maximum: 4, clientSideCache: cache })
    pool.on('error', noop)
    await pool.connect()
    const writer = createClient({ socket: { path: server.path!, reconnectStrategy } })
    await writer.connect()
    try {
      await writer.set('p', '1')
      expect(await Promise.all([pool.get('p'), pool.get('p'), pool.get('p'), pool.get('p')])).toEqual(['1', '1', '1', '1'])
      expect(await pool.get('p')).toBe('1')
      expect(cache.stats().hits).toBeGreaterThan(0)
      const w = watch(cache)
      const inv = w.next('p')
      await writer.set('p', '2')
      await inv
      expect(await pool.get('p')).toBe('2')
    } finally {
      await pool.close()
      writer.destroy()
      cache.close()
    }
  })

  it('is coherent across processes: a write by one process reaches the other within the invalidation delay', async () => {
    const { cache, reader, writer } = await clients()
    const peer = await startPeer({ path: server.path! })
    track(() => peer.close(), null)
    const keys = Array.from({ length: 50 }, (_, i) => `x:${i}`)
    const r = await invalidationDelays(reader, cache, peer, keys, 1000)
    console.log(`nearcache standalone invalidation delay over 1000 writes (noisy machine): p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`)
    expect(r.stale).toBe(0)
    // The other way round: the peer caches, this process writes.
    expect((await peer.request<{ value: string }>({ op: 'get', key: 'x:0' })).value).toBe('v950')
    expect((await peer.request<{ value: string }>({ op: 'get', key: 'x:0' })).value).toBe('v950')
    await writer.set('x:0', 'from-parent')
    let seen = ''
    for (let i = 0; i < 1000 && seen !== 'from-parent'; i++) {
      seen = (await peer.request<{ value: string }>({ op: 'get', key: 'x:0' })).value
      if (seen !== 'from-parent') await sleep(2)
    }
    expect(seen).toBe('from-parent')
    expect((await peer.request<{ hits: number }>({ op: 'stats' })).hits).toBeGreaterThan(0)
  })

  it('never serves a stale value after a server restart, CLIENT KILL or FLUSHALL (1,000-operation fault loop)', async () => {
    const { cache, reader, writer } = await clients({ maxmemory: '4mb' })
    await writer.flushAll()
    const w = watch(cache)
    const keys = Array.from({ length: 20 }, (_, i) => `f:${i}`)
    const truth = new Map<string, string | null>()
    /** Per key, w.seen(key) just before its truth last changed: a wrong read once seen() has passed it is stale. */
    const changedAt = new Map<string, number>()
    const setTruth = (k: string, v: string | null, seenBefore: number): void => {
      truth.set(k, v)
      changedAt.set(k, seenBefore)
    }
    const rand = seeded(12345)
    let stale = 0
    let staleAllowed = 0
    const staleOps: string[] = []
    const counts = { write: 0, read: 0, kill: 0, restart: 0, flushall: 0 }
    /** One read through the cache; a wrong value is stale once the cache has processed an invalidation or flush since the change. */
    const check = async (key: string, op: string): Promise<boolean> => {
      const v = await reader.get(key)
      if (v === (truth.get(key) ?? null)) return true
      if (w.seen(key) > (changedAt.get(key) ?? -1)) {
        stale++
        staleOps.push(`${op} ${key}: read ${v}, truth ${truth.get(key)}`)
      } else staleAllowed++
      return false
    }
    /** Reads `key` until it shows the truth (bounded). */
    const converge = async (key: string, op: string): Promise<void> => {
      for (let i = 0; i < 3000; i++) {
        if (await check(key, op)) return
        await (i % 20 === 19 ? sleep(1) : turn())
      }
      throw new Error(`${key} never showed ${truth.get(key)}`)
    }
    const readyAgain = async (): Promise<void> => {
      for (let i = 0; i < 2000 && !(reader.isReady && writer.isReady); i++) await sleep(5)
      await writer.ping()
    }
    for (let op = 0; op < 1000; op++) {
      const key = keys[rand(keys.length)]
      const r = rand(100)
      if (r < 55) {
        counts.write++
        const before = w.seen(key)
        const value = `v${op}`
        await writer.set(key, value)
        setTruth(key, value, before)
        await converge(key, 'write')
      } else if (r < 90) {
        counts.read++
        await check(key, 'read')
      } else if (r < 95) {
        // Kill the cache's connection and write at once: until the reader sees the close, the old value may be
        // served (that is the invalidation delay); once it has, never.
        counts.kill++
        const flushes = w.flushes()
        const before = w.seen(key)
        expect(await killByName(writer, 'nc-reader')).toBeGreaterThan(0)
        const value = `k${op}`
        await writer.set(key, value)
        setTruth(key, value, before)
        await w.flushed(flushes)
        await readyAgain()
        await converge(key, 'kill')
      } else if (r < 98) {
        counts.restart++
        const flushes = w.flushes()
        const before = new Map(keys.map((k) => [k, w.seen(k)]))
        await server.restart()
        for (const k of keys) setTruth(k, null, before.get(k)!)
        await w.flushed(flushes)
        await readyAgain()
        for (const k of keys) await check(k, 'restart')
      } else {
        // The server's null invalidation must empty the cache: wait for it, then every key reads as gone.
        counts.flushall++
        const flushes = w.flushes()
        const before = new Map(keys.map((k) => [k, w.seen(k)]))
        await writer.flushAll()
        for (const k of keys) setTruth(k, null, before.get(k)!)
        await w.flushed(flushes)
        for (const k of keys) await check(k, 'flushall')
      }
    }
    console.log(`nearcache fault loop: ${JSON.stringify(counts)}, reads within the invalidation delay ${staleAllowed}, stale ${stale}`)
    expect(staleOps).toEqual([])
    expect(counts.restart).toBeGreaterThan(0)
    expect(counts.kill).toBeGreaterThan(0)
    expect(counts.flushall).toBeGreaterThan(0)
    expect(stale).toBe(0)
  })

  it('keeps used_memory within maxmemory while caching more than fits (node-redis cache measured beside it)', async () => {
    const maxmemory = 2 * 1024 * 1024
    const { cache, reader, writer } = await clients({ maxmemory, maxmemoryPolicy: 'allkeys-lru' })
    const value = 'x'.repeat(500)
    const n = 20_000
    for (let i = 0; i < n; i += 500) await writer.mSet(Array.from({ length: 500 }, (_, j) => [`m:${i + j}`, value] as [string, string]))
    let maxUsed = 0
    for (let i = 0; i < n; i++) {
      expect(await reader.get(`m:${i}`)).toBe(value)
      if (i % 500 === 499) {
        await turn()
        maxUsed = Math.max(maxUsed, cache.engine.usedMemory())
      }
    }
    expect(maxUsed).toBeLessThanOrEqual(maxmemory)
    expect(cache.stats().evictions).toBeGreaterThan(0)
    expect(cache.size()).toBeLessThan(n)
    const held = cache.size()
    // Hits still decode to the right value after evictions.
    const last = `m:${n - 1}`
    expect(await reader.get(last)).toBe(value)

    // node-redis's own cache holding as many entries, for the record (its size is entries, not bytes; heap
    // figures without a forced GC are rough: the bench measures RSS per key properly).
    global.gc?.()
    const heap0 = process.memoryUsage().heapUsed
    const basic = new BasicClientSideCache({ maxEntries: held })
    const other = createClient({ socket: { path: server.path!, reconnectStrategy }, RESP: 3, clientSideCache: basic })
    other.on('error', noop)
    await other.connect()
    track(() => other.destroy(), null)
    for (let i = n - held; i < n; i++) await other.get(`m:${i}`)
    global.gc?.()
    const heapGrowth = process.memoryUsage().heapUsed - heap0
    console.log(
      `nearcache memory: arenakv holds ${held} entries in used_memory ${cache.engine.usedMemory()} B (max seen ${maxUsed}, maxmemory ${maxmemory}); ` +
        `BasicClientSideCache with ${basic.size()} entries: V8 heap +${heapGrowth} B (rough)`,
    )
  })
})

describe.skipIf(!HAS_REDIS_SERVER || !HAS_REDIS_CLI)(
  needs(needs('near cache in front of a 3-master Redis Cluster', HAS_REDIS_SERVER, 'redis-server', 'redis-server'), HAS_REDIS_CLI, 'redis-cli', 'redis-tools'),
  () => {
    let cluster: RedisCluster
    beforeAll(async () => {
      await ensureDist()
      cluster = await startRedisCluster()
    })
    afterAll(async () => {
      await cluster?.stop()
    })

    it('is coherent across processes and never stale after CLIENT KILL on any node (1,000 writes, 1,000-op fault loop)', async () => {
      const ports = cluster.nodes.map((n) => n.port)
      const cache = new ArenaKVClientSideCache({ maxmemory: '8mb' })
      const rootNodes = ports.map((port) => ({ socket: { host: '127.0.0.1', port, reconnectStrategy } }))
      const reader = createCluster({ rootNodes, defaults: { name: 'nc-reader' }, RESP: 3, clientSideCache: cache })
      const writer = createCluster({ rootNodes })
      reader.on('error', noop)
      writer.on('error', noop)
      const peer = await startPeer({ cluster: ports })
      try {
        await reader.connect()
        await writer.connect()
        const keys = Array.from({ length: 60 }, (_, i) => `c:${i}`)
        const r = await invalidationDelays(reader, cache, peer, keys, 1000)
        console.log(`nearcache cluster invalidation delay over 1000 writes (noisy machine): p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms`)
        expect(r.stale).toBe(0)

        const w = watch(cache)
        const truth = new Map<string, string | null>()
        for (const k of keys) truth.set(k, await writer.get(k))
        const rand = seeded(99)
        let stale = 0
        let kills = 0
        for (let op = 0; op < 1000; op++) {
          const key = keys[rand(keys.length)]
          const r = rand(100)
          const before = w.seen(key)
          if (r < 5) {
            kills++
            const port = ports[rand(ports.length)]
            const flushes = w.flushes()
            const admin = createClient({ socket: { host: '127.0.0.1', port } })
            await admin.connect()
            const killed = await killByName(admin, 'nc-reader')
            await admin.close()
            if (killed > 0) await w.flushed(flushes)
          }
          if (r < 60) {
            const value = `w${op}`
            await writer.set(key, value)
            truth.set(key, value)
          }
          for (let i = 0; ; i++) {
            const v = await reader.get(key)
            if (v === (truth.get(key) ?? null)) break
            if (w.seen(key) > before) stale++
            if (i > 3000) {
              throw new Error(
                `${key} never converged: reader ${v}, truth ${truth.get(key)}, server ${await writer.get(key)}, cached ${cache.isCached(['GET', key], [key])}, op ${op} r ${r}`,
              )
            }
            await (i % 20 === 19 ? sleep(1) : turn())
          }
        }
        console.log(`nearcache cluster fault loop: 1000 ops, ${kills} CLIENT KILL rounds, stale ${stale}`)
        expect(kills).toBeGreaterThan(0)
        expect(stale).toBe(0)
        expect(cache.stats().hits).toBeGreaterThan(0)
      } finally {
        await peer.close()
        reader.destroy()
        writer.destroy()
        cache.close()
      }
    })
  },
)
