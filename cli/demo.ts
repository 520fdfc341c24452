// `arenakv demo`: a cache's day in a few seconds. An engine under maxmemory takes sessions with TTLs, serves
// Zipf-distributed reads cache-aside, absorbs a burst that forces eviction, loses a wave of short-lived keys to
// active expiry, survives a mass delete and a purge; then it explains its memory as Redis would (INFO memory,
// MEMORY DOCTOR). Uses only the package's runtime (no devDependencies), so it runs from an installed package.
import { setTimeout as sleep } from 'node:timers/promises'
import { allocator } from '../lib/allocator.js'
import { Engine } from '../lib/engine.js'
import { formatTable } from '../bench/output.js'
import { Progress } from '../bench/progress.js'
import { Rng } from '../bench/rng.js'
import { ZipfSampler } from '../bench/zipf.js'

export interface DemoOptions {
  /** normal: the full demo (~10 s); tiny: the same steps on a small engine (tests). */
  scale: 'tiny' | 'normal'
  maxmemory: string
  progress: boolean
  out?: NodeJS.WriteStream
}

interface DemoSizes {
  maxmemory: string
  keys: number
  reads: number
  burst: number
  wave: number
  /** How long the tokens live (ms, from…to) and how long the demo watches active expiry take them. */
  tokenTtl: [number, number]
  waitMs: number
}

const SIZES: Record<DemoOptions['scale'], Omit<DemoSizes, 'maxmemory'>> = {
  normal: { keys: 120_000, reads: 2_000_000, burst: 8_000, wave: 50_000, tokenTtl: [500, 1500], waitMs: 2500 },
  tiny: { keys: 20_000, reads: 100_000, burst: 1_000, wave: 5_000, tokenTtl: [100, 400], waitMs: 1000 },
}

const MB = 1024 * 1024
const STEPS = 6

function payload(bytes: number): Buffer {
  const b = Buffer.allocUnsafe(bytes)
  for (let i = 0; i < bytes; i++) b[i] = 97 + (i % 26)
  return b
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`
}

/** INFO's used_memory_rss (the engine's own resident memory), read once its 100 ms sample has caught up. */
async function engineRss(db: Engine): Promise<number> {
  await sleep(150)
  return Number(db.infoObject('memory').used_memory_rss)
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const out = options.out ?? process.stdout
  const say = (line = ''): void => {
    out.write(line + '\n')
  }
  const sizes: DemoSizes = { ...SIZES[options.scale], maxmemory: options.scale === 'tiny' && options.maxmemory === '64mb' ? '12mb' : options.maxmemory }
  const progress = new Progress(out, options.progress)
  const rng = new Rng(2024)
  const db = new Engine({ maxmemory: sizes.maxmemory, maxmemoryPolicy: 'allkeys-lru' })
  let expiredEvents = 0
  db.on('expired', () => expiredEvents++)

  say(`arenakv demo: ${allocator.name} ${allocator.version}, maxmemory ${sizes.maxmemory}, allkeys-lru, Node ${process.version}`)
  say()

  // 1. Sessions and profiles: values of 64 B–1 KiB, a third of them with a TTL of 30–120 s.
  progress.step(`1/${STEPS} load sessions and profiles`)
  const blob = payload(1024)
  for (let i = 0; i < sizes.keys; i++) {
    const size = 64 + Math.floor(Math.pow(rng.next(), 2) * 960)
    if (i % 3 === 0) db.set(`session:${i}`, blob.subarray(0, size), { ex: 30 + rng.int(90) })
    else db.set(`profile:${i}`, blob.subarray(0, size))
    if ((i & 0x3ff) === 0) progress.update(i / sizes.keys, mb(db.usedMemory()))
  }
  progress.done(`${db.dbsize().toLocaleString('en-US')} keys, used_memory ${mb(db.usedMemory())}`)

  // 2. Cache-aside reads with Zipf(0.99) popularity over three times the loaded keys: a miss loads the value and
  // stores it, so the cache turns over under maxmemory.
  progress.step(`2/${STEPS} Zipf reads, cache-aside`)
  const zipf = new ZipfSampler(sizes.keys * 3, 0.99, rng)
  const target = Buffer.allocUnsafe(1024)
  let hits = 0
  for (let i = 0; i < sizes.reads; i++) {
    const k = zipf.next()
    const key = k % 3 === 0 ? `session:${k}` : `profile:${k}`
    if (db.getInto(key, target) >= 0) hits++
    else db.set(key, blob.subarray(0, 64 + (k % 960)), k % 3 === 0 ? { ex: 60 } : undefined)
    if ((i & 0x3fff) === 0) progress.update(i / sizes.reads, `hit ratio ${((hits / (i + 1)) * 100).toFixed(1)}%`)
  }
  progress.done(`hit ratio ${((hits / sizes.reads) * 100).toFixed(1)}%`)

  // 3. A burst of large writes (a report export) that does not fit: allkeys-lru evicts the coldest keys.
  progress.step(`3/${STEPS} burst of 4 KiB writes`)
  const evictedBefore = db.stats.evicted_keys
  const big = payload(4096)
  for (let i = 0; i < sizes.burst; i++) {
    db.set(`export:${i}`, big)
    if ((i & 0xff) === 0) progress.update(i / sizes.burst, `${(db.stats.evicted_keys - evictedBefore).toLocaleString('en-US')} evicted`)
  }
  progress.done(`${(db.stats.evicted_keys - evictedBefore).toLocaleString('en-US')} keys evicted, used_memory ${mb(db.usedMemory())}`)

  // 4. A wave of one-time tokens that live about a second; nobody reads them again, so active expiry reclaims them.
  progress.step(`4/${STEPS} short-lived tokens, active expiry`)
  for (let i = 0; i < sizes.wave; i++) db.set(`token:${i}`, blob.subarray(0, 48), { px: sizes.tokenTtl[0] + rng.int(sizes.tokenTtl[1] - sizes.tokenTtl[0]) })
  const expiredBefore = db.stats.expired_keys
  const waitMs = sizes.waitMs
  for (let t = 0; t < waitMs; t += 100) {
    progress.update(t / waitMs, `${(db.stats.expired_keys - expiredBefore).toLocaleString('en-US')} expired`)
    await sleep(100)
  }
  progress.done(`${(db.stats.expired_keys - expiredBefore).toLocaleString('en-US')} expired by the active cycle`)

  // 5. A tenant leaves: delete most keys, keeping every fourth. Memory is free inside the allocator, not the OS.
  progress.step(`5/${STEPS} mass delete`)
  const keys = [...db.scanIterator({ count: 1000 })]
  let deleted = 0
  for (let i = 0; i < keys.length; i++) {
    if (i % 4 !== 0) deleted += db.del(keys[i])
    if ((i & 0xfff) === 0) progress.update(i / keys.length)
  }
  const rssBeforePurge = allocator.rss() ?? process.memoryUsage.rss()
  const engineRssBeforePurge = await engineRss(db)
  progress.done(`${deleted.toLocaleString('en-US')} keys deleted, ${db.dbsize().toLocaleString('en-US')} left`)

  // 6. MEMORY PURGE: hand the allocator's free pages back to the OS.
  progress.step(`6/${STEPS} memory purge`)
  db.memoryPurge()
  const rssAfterPurge = allocator.rss() ?? process.memoryUsage.rss()
  const engineRssAfterPurge = await engineRss(db)
  progress.done(`engine RSS ${mb(engineRssBeforePurge)} → ${mb(engineRssAfterPurge)} via MEMORY PURGE`)
  say()

  say(db.info('memory').replace(/\r\n/g, '\n').trimEnd())
  say()
  say('# Doctor')
  say(db.memoryDoctor().trimEnd())
  say()
  say(formatTable({
    title: '# What happened',
    columns: ['figure', 'value'],
    rows: [
      ['keys now', db.dbsize()],
      ['evicted_keys', db.stats.evicted_keys],
      ['expired_keys', db.stats.expired_keys],
      ["'expired' events", expiredEvents],
      ['keyspace_hits', db.stats.keyspace_hits],
      ['keyspace_misses', db.stats.keyspace_misses],
      ['used_memory', mb(db.usedMemory())],
      ['used_memory_rss before purge', mb(engineRssBeforePurge)],
      ['used_memory_rss after purge', mb(engineRssAfterPurge)],
      ['RSS before purge', mb(rssBeforePurge)],
      ['RSS after purge', mb(rssAfterPurge)],
    ],
  }))
  db.close()
}
