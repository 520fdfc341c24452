// ArenaKVClientSideCache's hooks driven directly, as node-redis drives them (no server: the command is a function
// the test resolves), and the arenakv/redis entry as a user imports it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BasicPooledClientSideCache } from 'redis'
import { ArenaKVClientSideCache } from '../lib/redis/index.js'
import { ensureDist } from './helpers/dist.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const open: ArenaKVClientSideCache[] = []
function cache(options?: ConstructorParameters<typeof ArenaKVClientSideCache>[0]): ArenaKVClientSideCache {
  const c = new ArenaKVClientSideCache(options)
  open.push(c)
  return c
}
afterEach(() => {
  for (const c of open.splice(0)) c.close()
})

type HC = Parameters<ArenaKVClientSideCache['handleCache']>
const client = {} as HC[0]
function parser(args: string[], keys: string[]): HC[1] {
  return { redisArgs: args, keys, preserve: undefined } as unknown as HC[1]
}
/** A command whose reply the test releases. */
function deferred<T>(): { fn: () => Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void; calls: () => number } {
  let calls = 0
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const p = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { fn: () => (calls++, p), resolve, reject, calls: () => calls }
}
const get = (c: ArenaKVClientSideCache, key: string, reply: unknown): Promise<unknown> =>
  c.handleCache(client, parser(['GET', key], [key]), (async () => reply) as unknown as HC[2])

describe('ArenaKVClientSideCache hooks', () => {
  it('is a pooled provider node-redis accepts, and asks for tracking', () => {
    const c = cache()
    expect(c).toBeInstanceOf(BasicPooledClientSideCache)
    expect(c.trackingOn()).toEqual(['CLIENT', 'TRACKING', 'ON'])
  })

  it('checks its options', () => {
    expect(() => new ArenaKVClientSideCache({ ttl: -1 })).toThrow(RangeError)
    expect(() => new ArenaKVClientSideCache({ ttl: 1.5 })).toThrow(RangeError)
    expect(() => new ArenaKVClientSideCache({ ttl: '5' as unknown as number })).toThrow(TypeError)
    expect(() => new ArenaKVClientSideCache(null as unknown as object)).toThrow(TypeError)
    expect(() => new ArenaKVClientSideCache({ maxmemory: 'lots' })).toThrow()
    expect(() => new ArenaKVClientSideCache({ bogus: 1 } as unknown as object)).toThrow(TypeError)
    const c = cache({ maxmemory: '1mb' })
    expect(c.engine.config.maxmemory).toBe(1024 * 1024)
    expect(c.engine.config.maxmemoryPolicy).toBe('allkeys-lru')
  })

  it('counts hits and misses, times loads, and decodes a fresh copy on every hit', async () => {
    const c = cache()
    const reply = { field: ['a', 'b'] }
    expect(await get(c, 'k', reply)).toBe(reply)
    const h1 = (await get(c, 'k', 'unused')) as typeof reply
    const h2 = (await get(c, 'k', 'unused')) as typeof reply
    expect(h1).toEqual(reply)
    expect(h1).not.toBe(h2)
    h1.field.push('mutated')
    expect(await get(c, 'k', 'unused')).toEqual(reply)
    const s = c.stats()
    expect([s.hits, s.misses, s.loadSuccessCount]).toEqual([3, 1, 1])
    expect(s.averageLoadTime).toBeGreaterThanOrEqual(0)
    expect(s.hitRate()).toBe(0.75)
    expect(s.minus(s).hits).toBe(0)
    expect(s.plus(s).misses).toBe(2)
  })

  it('answers a hit synchronously with the value (node-redis awaits it); a miss is a promise', async () => {
    const c = cache()
    const miss = get(c, 'k', 'v1')
    expect(miss).toBeInstanceOf(Promise)
    expect(await miss).toBe('v1')
    const hit: unknown = get(c, 'k', 'unused')
    expect(hit).toBe('v1')
    // An await takes it as it takes a promise, which is all node-redis's client does with it.
    expect(await hit).toBe('v1')
    const hash = parser(['HGETALL', 'h'], ['h'])
    await c.handleCache(client, hash, (async () => ({ then: 'not a function', a: '1' })) as unknown as HC[2])
    const obj: unknown = c.handleCache(client, hash, (async () => 'unused') as unknown as HC[2])
    expect(obj).not.toBeInstanceOf(Promise)
    expect(await obj).toEqual({ then: 'not a function', a: '1' })
    const mget = parser(['MGET', 'a', 'b'], ['a', 'b'])
    await c.handleCache(client, mget, (async () => ['1', '2']) as unknown as HC[2])
    const multi: unknown = c.handleCache(client, mget, (async () => ['unused']) as unknown as HC[2])
    expect(multi).toEqual(['1', '2'])
    expect(c.stats().hits).toBe(3)
    // Disabled, invalidated or closed: never answered from the cache, even synchronously.
    c.disable()
    expect(await get(c, 'k', 'v2')).toBe('v2')
    c.enable()
    c.invalidate('k')
    expect(await get(c, 'k', 'v3')).toBe('v3')
    expect(get(c, 'k', 'unused')).toBe('v3')
    // An error on the way to a hit is a rejection, as from an async method, not a synchronous throw.
    const bad = { toString: (): string => { throw new Error('unprintable key') } }
    const rejected = c.handleCache(client, parser(['GET', 'x'], [bad as unknown as string]), (async () => 'unused') as unknown as HC[2])
    expect(rejected).toBeInstanceOf(Promise)
    await expect(rejected).rejects.toThrow('unprintable key')
    c.close()
    expect(await get(c, 'k', 'v4')).toBe('v4')
  })

  it('shares one request among concurrent misses; waiters get their own copies', async () => {
    const c = cache()
    const d = deferred<string[]>()
    const p = parser(['LRANGE', 'l', '0', '-1'], ['l'])
    const all = [c.handleCache(client, p, d.fn as unknown as HC[2]), c.handleCache(client, p, d.fn as unknown as HC[2]), c.handleCache(client, p, d.fn as unknown as HC[2])]
    d.resolve(['x', 'y'])
    const [a, b, cc] = (await Promise.all(all)) as string[][]
    expect(d.calls()).toBe(1)
    expect([a, b, cc]).toEqual([['x', 'y'], ['x', 'y'], ['x', 'y']])
    expect(a).not.toBe(b)
    expect(b).not.toBe(cc)
  })

  it('does not cache a reply whose key was invalidated, or the cache flushed, while it was on its way', async () => {
    const c = cache()
    for (const interrupt of [() => c.invalidate('k'), () => c.invalidate(Buffer.from('k')), () => c.onError(), () => c.invalidate(null)]) {
      const d = deferred<string>()
      const pending = c.handleCache(client, parser(['GET', 'k'], ['k']), d.fn as unknown as HC[2])
      interrupt()
      d.resolve('old')
      expect(await pending).toBe('old')
      expect(c.isCached(['GET', 'k'], ['k'])).toBe(false)
    }
    // An invalidation of another key does not matter.
    const d = deferred<string>()
    const pending = c.handleCache(client, parser(['GET', 'k'], ['k']), d.fn as unknown as HC[2])
    c.invalidate('other')
    d.resolve('v')
    await pending
    expect(c.isCached(['GET', 'k'], ['k'])).toBe(true)
  })

  it('a miss after an invalidation or a flush does not wait for a load sent before it', async () => {
    const c = cache()
    for (const interrupt of [() => c.invalidate('k'), () => c.onError(), () => c.invalidate(null)]) {
      const before = deferred<string>()
      const old = c.handleCache(client, parser(['GET', 'k'], ['k']), before.fn as unknown as HC[2])
      interrupt()
      const after = deferred<string>()
      const fresh = c.handleCache(client, parser(['GET', 'k'], ['k']), after.fn as unknown as HC[2])
      expect(after.calls()).toBe(1)
      before.resolve('old')
      after.resolve('new')
      expect(await old).toBe('old')
      expect(await fresh).toBe('new')
      expect(await get(c, 'k', 'unused')).toBe('new')
      c.invalidate('k')
    }
  })

  it('drops every command of an invalidated key, multi-key ones included, and nothing else', async () => {
    const c = cache()
    await get(c, 'a', '1')
    await get(c, 'b', '2')
    await c.handleCache(client, parser(['HGET', 'a', 'f'], ['a']), (async () => 'hf') as unknown as HC[2])
    await c.handleCache(client, parser(['MGET', 'a', 'b'], ['a', 'b']), (async () => ['1', '2']) as unknown as HC[2])
    expect(c.size()).toBe(3)
    c.invalidate('a')
    expect(c.isCached(['GET', 'a'], ['a'])).toBe(false)
    expect(c.isCached(['HGET', 'a', 'f'], ['a'])).toBe(false)
    expect(c.isCached(['MGET', 'a', 'b'], ['a', 'b'])).toBe(false)
    expect(c.isCached(['GET', 'b'], ['b'])).toBe(true)
    expect(c.stats().invalidations).toBe(1)
  })

  it('a multi-key entry whose key entry was evicted is a miss, never a stale hit', async () => {
    const c = cache()
    await c.handleCache(client, parser(['MGET', 'a', 'b'], ['a', 'b']), (async () => ['1', '2']) as unknown as HC[2])
    // As eviction would: the key entry goes, and with it the list invalidate('a') would have used.
    c.engine.del('a')
    c.invalidate('a')
    expect(c.isCached(['MGET', 'a', 'b'], ['a', 'b'])).toBe(false)
    // A key entry made again for 'a' has a new token: the old entry still does not match.
    await get(c, 'a', '1')
    expect(c.isCached(['MGET', 'a', 'b'], ['a', 'b'])).toBe(false)
    expect(await c.handleCache(client, parser(['MGET', 'a', 'b'], ['a', 'b']), (async () => ['new', '2']) as unknown as HC[2])).toEqual(['new', '2'])
  })

  it('flushes on error, close, a null invalidation and clear; disable() bypasses it', async () => {
    const c = cache()
    const flushes: string[] = []
    c.on('flush', (reason: string) => flushes.push(reason))
    for (const f of [() => c.onError(), () => c.onClose(), () => c.onPoolClose(), () => c.invalidate(null), () => c.clear()]) {
      await get(c, 'k', 'v')
      expect(c.size()).toBe(1)
      f()
      expect(c.size()).toBe(0)
    }
    expect(flushes).toEqual(['error', 'close', 'close', 'server', 'clear'])
    expect(c.stats().hits).toBe(0)
    c.disable()
    await get(c, 'k', 'v')
    expect(await get(c, 'k', 'v2')).toBe('v2')
    expect(c.size()).toBe(0)
    c.enable()
    await get(c, 'k', 'v')
    expect(await get(c, 'k', 'v3')).toBe('v')
  })

  it('does not cache what the codec refuses, nor keyless commands, nor after close', async () => {
    const c = cache()
    const err = new Error('reply holding an Error')
    expect(await get(c, 'e', [err])).toEqual([err])
    expect(c.size()).toBe(0)
    expect(await c.handleCache(client, parser(['TIME'], []), (async () => ['1', '2']) as unknown as HC[2])).toEqual(['1', '2'])
    expect(c.size()).toBe(0)
    c.close()
    expect(await get(c, 'k', 'v')).toBe('v')
    expect(c.size()).toBe(0)
    c.enable()
    expect(await get(c, 'k', 'v')).toBe('v')
  })

  it('stays within maxmemory, stops caching under noeviction, and gives replies the ttl', async () => {
    const lru = cache({ maxmemory: '1mb' })
    for (let i = 0; i < 5000; i++) await get(lru, `k${i}`, 'x'.repeat(500))
    expect(lru.engine.usedMemory()).toBeLessThanOrEqual(1024 * 1024)
    expect(lru.stats().evictions).toBeGreaterThan(0)
    const full = cache({ maxmemory: '1mb', maxmemoryPolicy: 'noeviction' })
    for (let i = 0; i < 5000; i++) expect(await get(full, `k${i}`, 'x'.repeat(500))).toBe('x'.repeat(500))
    expect(full.engine.usedMemory()).toBeLessThanOrEqual(1024 * 1024)
    expect(full.size()).toBeLessThan(5000)
    const ttl = cache({ ttl: 5000 })
    await get(ttl, 'k', 'v')
    expect(ttl.engine.pttl('k')).toBeGreaterThan(0)
    expect(ttl.engine.pttl('k')).toBeLessThanOrEqual(5000)
  })

  it('serves each reply for ttl ms at most, though a younger reply of the same key renews its entry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(1_700_000_000_000)
      const c = cache({ ttl: 1000 })
      await get(c, 'k', 'get-reply')
      vi.setSystemTime(1_700_000_000_600)
      await c.handleCache(client, parser(['STRLEN', 'k'], ['k']), (async () => 9) as unknown as HC[2])
      expect(await get(c, 'k', 'unused')).toBe('get-reply')
      vi.setSystemTime(1_700_000_001_100)
      expect(c.engine.pttl('k')).toBeGreaterThan(0)
      expect(await get(c, 'k', 'reloaded')).toBe('reloaded')
      expect(await c.handleCache(client, parser(['STRLEN', 'k'], ['k']), (async () => 0) as unknown as HC[2])).toBe(9)
      vi.setSystemTime(1_700_000_001_700)
      expect(await c.handleCache(client, parser(['STRLEN', 'k'], ['k']), (async () => 0) as unknown as HC[2])).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('the arenakv/redis entry', () => {
  it('is the only part of lib/ that imports redis', () => {
    const files = readdirSync(join(root, 'lib'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
    const importers = files.filter((f) => /from 'redis'|import\('redis'\)|require\('redis'\)/.test(readFileSync(join(root, 'lib', f), 'utf8')))
    expect(importers.length).toBeGreaterThan(0)
    for (const f of importers) expect(f.startsWith('redis/') || f.startsWith('redis\\'), f).toBe(true)
  })

  it('resolves through the package exports, with types', async () => {
    await ensureDist()
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>
      peerDependenciesMeta: Record<string, { optional: boolean }>
    }
    expect(pkg.exports['./redis'].types).toBe('./dist/lib/redis/index.d.ts')
    expect(pkg.peerDependenciesMeta.redis.optional).toBe(true)
    expect(readFileSync(join(root, pkg.exports['./redis'].types), 'utf8')).toMatch(/ArenaKVClientSideCache/)
    const mod = (await import(join(root, pkg.exports['./redis'].default))) as { ArenaKVClientSideCache: unknown }
    expect(typeof mod.ArenaKVClientSideCache).toBe('function')
    const main = readFileSync(join(root, 'dist/lib/index.js'), 'utf8')
    expect(main).not.toMatch(/redis\//)
  })
})
