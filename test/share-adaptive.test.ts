// The adaptive policies on a shared engine (ARCHITECTURE.md "Sharing", "The adaptive policies"): the sketch, ghosts
// and window queue live in the engine's shared regions, their scalars in its header, so every thread evicts by the
// same state. The workers run dist/ (test/helpers/share-worker.mjs), so ensureDist builds it first.
import type { Worker } from 'node:worker_threads'
import { beforeAll, describe, expect, test } from 'vitest'
import { Engine } from '../lib/index.js'
import { allocator } from '../lib/allocator.js'
import { sharedEngineRecoveries } from '../lib/share.js'
import { ensureDist } from './helpers/dist.js'
import { runShareWorker } from './helpers/share-run.js'
import { ZipfSampler } from '../bench/zipf.js'
import { Rng } from '../bench/rng.js'

const SHARING = allocator.name !== 'mimalloc'

beforeAll(() => ensureDist(), 120_000)

type Info = Record<string, string | number>

/** The adaptive_* fields of INFO memory (absent under other policies). */
function adaptiveFields(info: Info): Info {
  return Object.fromEntries(Object.entries(info).filter(([name]) => name.startsWith('adaptive_')))
}

/** A worker in 'rpc' mode: `call` runs one Engine method in its thread and returns the result. */
async function rpcWorker(descriptor: unknown): Promise<{ worker: Worker; call: <T>(method: string, ...args: unknown[]) => Promise<T> }> {
  const { worker, result } = runShareWorker<string>({ mode: 'rpc', descriptor, id: 0 })
  await result
  const call = <T>(method: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      worker.once('message', (m: { result?: T; error?: { code: string; message: string } }) => {
        if (m.error !== undefined) reject(Object.assign(new Error(m.error.message), { code: m.error.code }))
        else resolve(m.result as T)
      })
      worker.postMessage({ method, args })
    })
  return { worker, call }
}

describe.runIf(SHARING)('a shared engine under an adaptive policy', () => {
  test('4 workers under allkeys-adaptive: exact reads, no key lost or evicted twice, the bound held', async () => {
    const maxmemory = 2 * 1024 * 1024
    const db = new Engine({ maxmemory, maxmemoryPolicy: 'allkeys-adaptive' })
    const descriptor = db.share()
    const mainEvicted: string[] = []
    db.on('evicted', (key) => mainEvicted.push(key))
    const workers = 4
    const count = 12_000
    const runs = Array.from({ length: workers }, (_, id) =>
      runShareWorker<{ wrong: number; hits: number; reads: number; evicted: string[]; written: number }>({
        mode: 'adaptive', descriptor, id, count, workers, valueBytes: 100,
      }),
    )
    const results = await Promise.all(runs.map((r) => r.result))
    for (let i = 0; i < 20 && db.usedMemory() > maxmemory; i++) await new Promise((r) => setImmediate(r))
    for (const r of results) {
      expect(r.wrong).toBe(0)
      expect(r.hits).toBeGreaterThan(0)
    }
    const evicted = [...mainEvicted, ...results.flatMap((r) => r.evicted)]
    // 48,000 values of ~120 B need ~8 MB: most were evicted, by every thread's writes, under the adaptive policy.
    expect(evicted.length).toBeGreaterThan(20_000)
    expect(new Set(evicted).size).toBe(evicted.length)
    expect(db.stats.evicted_keys).toBe(evicted.length)
    const present = new Set<string>()
    let cursor = 0
    do {
      const [next, batch] = db.scan(cursor, { count: 500 })
      for (const key of batch) present.add(key)
      cursor = next
    } while (cursor !== 0)
    expect(present.size).toBe(db.dbsize())
    for (const key of evicted) expect(present.has(key)).toBe(false)
    // Every key written is either present or was evicted exactly once: none lost, none duplicated.
    expect(present.size + evicted.length).toBe(workers * count)
    const info = db.infoObject('memory')
    expect(info.used_memory).toBeLessThanOrEqual(maxmemory)
    expect(Number(info.adaptive_admitted) + Number(info.adaptive_admissions_refused)).toBeGreaterThan(0)
    expect(Number(info.adaptive_sketch_keys)).toBeGreaterThan(1000)
    db.close()
  }, 90_000)

  test('a policy switch from a worker is seen by the others; the adaptive INFO fields agree across threads', async () => {
    const maxmemory = 1024 * 1024
    const db = new Engine({ maxmemory, maxmemoryPolicy: 'allkeys-lru' })
    const descriptor = db.share()
    const { worker, call } = await rpcWorker(descriptor)
    expect(adaptiveFields(db.infoObject('memory'))).toEqual({})

    await call('configSet', 'maxmemory-policy', 'allkeys-adaptive')
    expect(db.config.maxmemoryPolicy).toBe('allkeys-adaptive')
    expect(db.configGet('maxmemory-policy')).toEqual({ 'maxmemory-policy': 'allkeys-adaptive' })
    // The adaptive arrays are counted in this thread too, exactly as in the worker's.
    expect(await call<number>('usedMemory')).toBe(db.usedMemory())
    const value = 'x'.repeat(100)
    for (let i = 0; i < 20_000; i++) {
      db.set(`k${i}`, value)
      db.get(`k${i % 50}`)
    }
    expect(db.usedMemory()).toBeLessThanOrEqual(maxmemory)
    const mainInfo = adaptiveFields(db.infoObject('memory'))
    expect(Number(mainInfo.adaptive_admitted) + Number(mainInfo.adaptive_admissions_refused)).toBeGreaterThan(0)
    expect(Number(mainInfo.adaptive_sketch_bytes)).toBeGreaterThan(0)
    const workerInfo = adaptiveFields(await call<Info>('infoObject', 'memory'))
    expect(workerInfo).toEqual(mainInfo)
    expect(await call<number>('usedMemory')).toBe(db.usedMemory())
    // The sketch is one: a key this thread read often is as frequent in the worker's view.
    expect(db.objectFreq('k7')).toBeGreaterThan(3)
    expect(await call<number>('objectFreq', 'k7')).toBe(db.objectFreq('k7'))

    // The worker's writes go through the same window and sketch.
    for (let i = 0; i < 200; i++) await call('set', `w${i}`, value)
    const after = adaptiveFields(db.infoObject('memory'))
    expect(after).toEqual(adaptiveFields(await call<Info>('infoObject', 'memory')))
    expect(db.usedMemory()).toBeLessThanOrEqual(maxmemory)

    db.configSet('maxmemory-policy', 'volatile-adaptive')
    expect(await call<Record<string, string>>('configGet', 'maxmemory-policy')).toEqual({ 'maxmemory-policy': 'volatile-adaptive' })
    expect(await call<number>('objectFreq', 'k7')).toBe(db.objectFreq('k7'))

    // Back to a policy of Redis's: the adaptive arrays go, in every thread's figures, to the byte.
    const last = adaptiveFields(db.infoObject('memory'))
    const adaptiveBytes = Number(last.adaptive_sketch_bytes) + Number(last.adaptive_ghost_bytes) + Number(last.adaptive_window_bytes)
    const usedBefore = db.usedMemory()
    await call('configSet', 'maxmemory-policy', 'allkeys-lfu')
    expect(db.config.maxmemoryPolicy).toBe('allkeys-lfu')
    expect(adaptiveFields(db.infoObject('memory'))).toEqual({})
    const used = db.usedMemory()
    expect(used).toBe(usedBefore - adaptiveBytes)
    expect(await call<number>('usedMemory')).toBe(used)
    // LFU counters now: OBJECT FREQ reads them in both threads alike.
    expect(await call<number>('objectFreq', 'k7')).toBe(db.objectFreq('k7'))
    await call('close')
    await worker.terminate()
    db.close()
  }, 60_000)

  test('a poisoned engine rebuilds the adaptive state with the keyspace', () => {
    // The flag a dying owner's teardown sets (native/store_state.cc): the next locker rebuilds. Set here directly,
    // after tearing the adaptive regions (saturated sketch counters, garbage in the window queue and the ghosts),
    // as a thread killed in the middle of an eviction could leave them.
    const db = new Engine({ maxmemory: 1024 * 1024, maxmemoryPolicy: 'allkeys-adaptive' })
    const descriptor = db.share()
    const other = Engine.attach(descriptor)
    const value = 'y'.repeat(100)
    for (let i = 0; i < 20_000; i++) other.set(`k${i}`, value)
    const before = db.infoObject('memory')
    const evictedBefore = db.stats.evicted_keys
    expect(evictedBefore).toBeGreaterThan(0)
    expect(Number(before.adaptive_sketch_keys)).toBeGreaterThan(1000)
    for (const region of descriptor.regions.slice(7)) new Uint8Array(region).fill(0xff)
    Atomics.store(new Int32Array(descriptor.header), 1, 1)
    // The rebuild runs in whichever thread locks next.
    expect(db.dbsize()).toBe(0)
    expect(sharedEngineRecoveries(descriptor)).toBe(1)
    const info = db.infoObject('memory')
    // The state of an adaptive engine with no key: an empty window, a sketch sized from nothing.
    expect(info.adaptive_window_queued).toBe(0)
    expect(info.adaptive_sketch_keys).toBe(0)
    expect(info.adaptive_admitted).toBe(before.adaptive_admitted)
    expect(adaptiveFields(other.infoObject('memory'))).toEqual(adaptiveFields(info))
    // Counts start again from nothing: no counter kept the torn 15s.
    other.set('fresh', value)
    expect(db.objectFreq('fresh')).toBe(1)
    for (let i = 0; i < 20_000; i++) {
      db.set(`n${i}`, value)
      other.get(`n${i % 20}`)
    }
    expect(other.usedMemory()).toBeLessThanOrEqual(1024 * 1024)
    expect(db.stats.evicted_keys).toBeGreaterThan(evictedBefore)
    expect(other.objectFreq('n3')).toBeGreaterThan(3)
    other.close()
    db.close()
  })

  test('workers terminated mid-command under allkeys-adaptive: no deadlock, no wrong value, a working engine', async () => {
    // Every attached thread's scratch counts against the bound (64 KiB each, 8 threads at once here).
    const maxmemory = 4 * 1024 * 1024
    const db = new Engine({ maxmemory, maxmemoryPolicy: 'allkeys-adaptive' })
    const descriptor = db.share()
    const stop = new SharedArrayBuffer(4)
    const survivor = runShareWorker<{ wrong: number; lost: number; ops: number }>({ mode: 'survivor', descriptor, id: 99, stop })
    // Batches until a kill has landed while a victim held the lock (about one in seven do), 120 kills at most.
    let killed = 0
    for (let b = 0; killed < 120 && (killed < 24 || sharedEngineRecoveries(descriptor) === 0); b++) {
      const victims = Array.from({ length: 6 }, (_, v) => runShareWorker<string>({ mode: 'victim', descriptor, id: b * 6 + v, keys: 20_000, pad: 200 }))
      await Promise.all(victims.map((v) => v.result))
      await Promise.all(victims.map(async (v) => {
        await new Promise((r) => setTimeout(r, Math.random() * 5))
        await v.worker.terminate()
      }))
      killed += victims.length
      db.set('main:key', `m${b}`)
      const got = db.getString('main:key')
      if (got !== undefined) expect(got).toBe(`m${b}`)
    }
    Atomics.store(new Int32Array(stop), 0, 1)
    const s = await survivor.result
    const recoveries = sharedEngineRecoveries(descriptor)
    console.log(`${killed} adaptive workers terminated; ${recoveries} held the lock (rebuilt); survivor: ${s.ops} ops, ${s.lost} lost`)
    expect(s.wrong).toBe(0)
    expect(s.ops).toBeGreaterThan(0)
    expect(recoveries).toBeGreaterThan(0)
    // Consistent afterwards, and still evicting by the adaptive policy within the bound.
    let cursor = 0
    let scanned = 0
    do {
      const [next, batch] = db.scan(cursor, { count: 200 })
      for (const key of batch) expect(db.exists(key)).toBe(1)
      scanned += batch.length
      cursor = next
    } while (cursor !== 0)
    expect(scanned).toBe(db.dbsize())
    const evictedBefore = db.stats.evicted_keys
    for (let i = 0; i < 30_000; i++) db.set(`after:${i}`, 'z'.repeat(200))
    expect(db.stats.evicted_keys).toBeGreaterThan(evictedBefore)
    expect(db.usedMemory()).toBeLessThanOrEqual(maxmemory)
    expect(db.getString('after:29999')).toBe('z'.repeat(200))
    db.close()
  }, 300_000)

  test("Zipf cache-aside: a shared adaptive engine's hit ratio is a private one's", async () => {
    // Two workers each replay their own Zipf trace against one shared engine; a private engine replays both traces
    // interleaved in one thread, with the bound less what the two attached threads hold (their scratch and cells
    // blocks, counted in the shared engine's used memory). Hit ratios, not times, are compared.
    const workload = { keySpace: 50_000, zipfS: 0.9, ops: 150_000, valueBytes: 100 }
    const maxmemory = 2 * 1024 * 1024
    const seeds = [11, 23]
    const ratio = async (policy: 'allkeys-adaptive' | 'allkeys-lru'): Promise<{ shared: number; priv: number }> => {
      const db = new Engine({ maxmemory, maxmemoryPolicy: policy })
      const descriptor = db.share()
      const alone = db.usedMemory()
      const probe = Engine.attach(descriptor)
      const perThread = db.usedMemory() - alone
      probe.close()
      const results = await Promise.all(seeds.map((seed, id) =>
        runShareWorker<{ hits: number; gets: number }>({ mode: 'zipf', descriptor, id, seed, ...workload }).result))
      db.close()
      const shared = results.reduce((n, r) => n + r.hits, 0) / results.reduce((n, r) => n + r.gets, 0)
      const priv = new Engine({ maxmemory: maxmemory - seeds.length * perThread, maxmemoryPolicy: policy })
      const traces = seeds.map((seed) => new ZipfSampler(workload.keySpace, workload.zipfS, new Rng(seed)).trace(workload.ops))
      const value = 'z'.repeat(workload.valueBytes)
      let hits = 0
      for (let i = 0; i < workload.ops; i++) {
        for (const trace of traces) {
          const key = `z:${trace[i]}`
          if (priv.get(key) !== undefined) hits++
          else priv.set(key, value)
        }
      }
      priv.close()
      return { shared, priv: hits / (workload.ops * traces.length) }
    }
    const adaptive = await ratio('allkeys-adaptive')
    const lru = await ratio('allkeys-lru')
    console.log(`Zipf ${workload.zipfS}, ${workload.keySpace} keys, 2 MB: hit ratio allkeys-adaptive shared ${adaptive.shared.toFixed(4)} / private ${adaptive.priv.toFixed(4)}; allkeys-lru shared ${lru.shared.toFixed(4)} / private ${lru.priv.toFixed(4)}`)
    expect(adaptive.shared).toBeGreaterThan(adaptive.priv - 0.01)
    // The shared state is the adaptive policy's own: it keeps its lead over LRU across threads.
    expect(adaptive.shared).toBeGreaterThan(lru.shared)
  }, 120_000)
})
