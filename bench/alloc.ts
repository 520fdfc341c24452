// Child of the allocator comparison: one workload, in a fresh process, on the build ARENAKV_BINARY names.
import { allocator } from '../lib/allocator.js'
import { Engine } from '../lib/engine.js'
import { collectGarbage, progressReporter, rssBytes, runChild } from './child.js'
import { KeyDecoder } from './keys.js'
import { settledMemoryFigures } from './measure.js'
import { ALLOC_SIZES, type AllocFigures, type AllocParams, type AllocResult, type AllocSizes, type AllocWorkload } from './alloc-sizes.js'
import { Rng, permutation } from './rng.js'
import { ZipfSampler } from './zipf.js'

const VALUE_BYTES = 100
const progress = progressReporter()

/**
 * INFO's allocator_frag_ratio counts a build that cannot report small-bin fragmentation (mimalloc) as 1.00, which
 * reads as "no fragmentation": the comparison gives null there instead, so the table shows it as unmeasured.
 */
function smallbinFrag(ratio: number): number | null {
  return allocator.info().fragSmallbinsBytes === null ? null : ratio
}

function value(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes)
  for (let i = 0; i < bytes; i++) b[i] = (seed + i * 31) & 0xff
  return b
}

/** Fills an allkeys-lru engine with several times its maxmemory of 100 B values. */
async function fillEvict(s: AllocSizes): Promise<AllocFigures> {
  collectGarbage()
  const db = new Engine({ maxmemory: s.maxmemory, maxmemoryPolicy: 'allkeys-lru' })
  const v = value(VALUE_BYTES, 1)
  const keys = new KeyDecoder()
  const rss0 = rssBytes()
  const t0 = performance.now()
  for (let i = 0; i < s.fillWrites; i++) {
    db.set(keys.key(i), v)
    if ((i & 0xffff) === 0) progress(`fill_evict ${Math.round((i / s.fillWrites) * 100)}%`)
  }
  const seconds = (performance.now() - t0) / 1000
  const m = await settledMemoryFigures(db)
  const out = {
    ops_per_sec: s.fillWrites / seconds,
    maxmemory: s.maxmemory,
    used_memory: m.used_memory,
    rss_growth: m.process_rss - rss0,
    rss_growth_ratio: (m.process_rss - rss0) / s.maxmemory,
    evicted_keys: db.stats.evicted_keys,
    keys: db.dbsize(),
  }
  db.close()
  return out
}

/** 90% GET / 10% SET over a Zipf(0.99) trace on a preloaded keyspace (no maxmemory). */
async function mixed(s: AllocSizes): Promise<AllocFigures> {
  const rng = new Rng(7)
  const trace = new ZipfSampler(s.mixedKeys, 0.99, rng).trace(s.mixedOps)
  const isSet = new Uint8Array(s.mixedOps)
  for (let i = 0; i < s.mixedOps; i++) isSet[i] = rng.next() < 0.1 ? 1 : 0
  collectGarbage()
  const rss0 = rssBytes()
  const db = new Engine()
  const v = value(VALUE_BYTES, 2)
  for (let i = 0; i < s.mixedKeys; i++) db.set(`key:${i}`, v)
  const target = Buffer.allocUnsafe(VALUE_BYTES)
  let hits = 0
  const t0 = performance.now()
  for (let i = 0; i < s.mixedOps; i++) {
    const key = `key:${trace[i]}`
    if (isSet[i] === 1) db.set(key, v)
    else if (db.getInto(key, target) >= 0) hits++
    if ((i & 0xffff) === 0) progress(`mixed ${Math.round((i / s.mixedOps) * 100)}%`)
  }
  const seconds = (performance.now() - t0) / 1000
  const m = await settledMemoryFigures(db)
  const out = {
    ops_per_sec: s.mixedOps / seconds,
    hit_ratio: hits / (s.mixedOps - isSet.reduce((a, b) => a + b, 0)),
    used_memory: m.used_memory,
    rss_growth: m.process_rss - rss0,
  }
  db.close()
  return out
}

/** N × 100 B keys, delete a random half, then purge: what each step gives back. */
async function deletePurge(s: AllocSizes): Promise<AllocFigures> {
  const order = permutation(s.deleteKeys, new Rng(11))
  collectGarbage()
  const rss0 = rssBytes()
  const db = new Engine()
  const v = value(VALUE_BYTES, 3)
  for (let i = 0; i < s.deleteKeys; i++) db.set(`key:${i}`, v)
  const full = await settledMemoryFigures(db)
  const t0 = performance.now()
  for (let i = 0; i < s.deleteKeys / 2; i++) db.del(`key:${order[i]}`)
  const deleteSeconds = (performance.now() - t0) / 1000
  const afterDelete = await settledMemoryFigures(db)
  const t1 = performance.now()
  db.memoryPurge()
  const purgeMs = performance.now() - t1
  const afterPurge = await settledMemoryFigures(db)
  const out = {
    keys: s.deleteKeys,
    rss_growth_full: full.process_rss - rss0,
    used_memory_full: full.used_memory,
    del_per_sec: s.deleteKeys / 2 / deleteSeconds,
    rss_growth_after_delete: afterDelete.process_rss - rss0,
    used_memory_after_delete: afterDelete.used_memory,
    allocator_frag_ratio_after_delete: smallbinFrag(afterDelete.allocator_frag_ratio),
    rss_growth_after_purge: afterPurge.process_rss - rss0,
    purge_released: afterDelete.process_rss - afterPurge.process_rss,
    purge_ms: purgeMs,
    allocator_frag_ratio_after_purge: smallbinFrag(afterPurge.allocator_frag_ratio),
  }
  db.close()
  return out
}

/** Random sizes (log-uniform 16 B – 4 KiB), delete a random half: how fragmented each allocator is left. */
async function fragmentation(s: AllocSizes): Promise<AllocFigures> {
  const rng = new Rng(13)
  const sizes = new Uint16Array(s.fragKeys)
  for (let i = 0; i < s.fragKeys; i++) sizes[i] = Math.floor(16 * Math.pow(256, rng.next()))
  const order = permutation(s.fragKeys, rng)
  const pool = value(4096, 4)
  collectGarbage()
  const rss0 = rssBytes()
  const db = new Engine()
  for (let i = 0; i < s.fragKeys; i++) db.set(`key:${i}`, pool.subarray(0, sizes[i]))
  const full = await settledMemoryFigures(db)
  for (let i = 0; i < s.fragKeys / 2; i++) db.del(`key:${order[i]}`)
  const after = await settledMemoryFigures(db)
  const out = {
    used_memory_full: full.used_memory,
    used_memory_after_delete: after.used_memory,
    allocator_allocated: after.allocator_allocated,
    allocator_active: after.allocator_active,
    allocator_frag_ratio: smallbinFrag(after.allocator_frag_ratio),
    active_to_allocated: after.allocator_allocated > 0 ? after.allocator_active / after.allocator_allocated : 1,
    rss_growth_to_used: (after.process_rss - rss0) / after.used_memory,
  }
  db.close()
  return out
}

const WORKLOADS: Record<AllocWorkload, (s: AllocSizes) => Promise<AllocFigures>> = {
  fill_evict: fillEvict,
  mixed,
  delete_purge: deletePurge,
  fragmentation,
}

runChild<AllocParams, AllocResult>(async ({ workload, scale }) => ({
  allocator: allocator.name,
  figures: await WORKLOADS[workload](ALLOC_SIZES[scale]),
}))
