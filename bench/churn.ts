// Child of the churn suite: one subject (an engine under one accounting, or the same loop with no cache) replays
// the overwrite trace in a fresh process and reports the process's RSS growth and the engine's INFO figures.
import { allocator } from '../lib/allocator.js'
import { collectGarbage, progressReporter, rssBytes, runChild, sleep } from './child.js'
import { churnTrace, MAX_VALUE_BYTES } from './churn-workload.js'
import { KeyDecoder } from './keys.js'
import { settledMemoryFigures, type MemoryFigures } from './measure.js'

export type ChurnSubject = 'arenakv allocated' | 'arenakv resident' | 'no cache'

export interface ChurnParams {
  subject: ChurnSubject
  maxmemory: number
  keySpace: number
  writes: number
  seed: number
  /** Writes of a key deleted straight after, before the baseline (as the fidelity suite: the suite says why). */
  warmupWrites: number
  /**
   * Settings for measuring the engine arena's purging and defragmentation (ARCHITECTURE.md "Memory"); the suite
   * leaves them unset, which keeps the engine's own: decay 0/0, no background thread, no active defrag.
   */
  tuning?: ChurnTuning
}

export interface ChurnTuning {
  /** The engine arena's dirty and muzzy decay in ms (jemalloc's own default is 10,000 / 0). */
  dirtyDecayMs?: number
  muzzyDecayMs?: number
  /** jemalloc's background_thread, which purges decayed pages off the main thread. */
  backgroundThread?: boolean
  activedefrag?: boolean
  /** active-defrag-ignore-bytes and -threshold-lower (Redis's defaults, 100 MB and 10%, never start it here). */
  defragIgnoreBytes?: number
  defragThresholdLower?: number
}

export interface ChurnResult {
  subject: ChurnSubject
  /** Set when the build refused the subject (maxmemoryAccounting 'resident' on a build without jemalloc). */
  refused: string | null
  rssGrowth: number
  seconds: number
  /** GETs issued (one before each write) and how many found their key. */
  gets: number
  hits: number
  /** CPU time (user + system) of the whole process over the loop. */
  cpuSeconds: number
  keys: number
  evictedKeys: number
  expiredKeys: number
  /** The engine's INFO memory after the loop (null for the no-cache loop). */
  memory: MemoryFigures | null
  /** MEMORY STATS engine.arena after the loop (jemalloc builds), or null. */
  arena: Record<string, number> | null
  /** Active defragmentation's counters after the loop (INFO stats), or null when it was off. */
  defrag: { hits: number; misses: number } | null
  /**
   * Whether the build reports small-bin fragmentation: where it cannot (mimalloc), INFO's allocator_frag_ratio
   * is a placeholder 1.00, and the suite shows it as unmeasured.
   */
  smallbinFrag: boolean
  /** Keeps the no-cache loop's work observable so the JIT cannot drop it. */
  sink: number
}

const progress = progressReporter()
/** Warm-up keys are numbered from here, far from the trace's own. */
const WARMUP_KEY_BASE = 1e12
/**
 * The loop yields to the event loop this often, as a server does between reads: the engine's hz timer then runs
 * its active expiry and (under 'resident' accounting) its resident sample, as it would in a real process.
 */
const YIELD_EVERY = 1024

interface Sink {
  /** Whether the key is present (a GET into a reused buffer: no allocation per read). */
  get(key: string): boolean
  set(key: string, value: Buffer, ex: number): void
  del(key: string): void
}

function applyTuning(db: import('../lib/engine.js').Engine, arena: number, t: ChurnTuning | undefined): void {
  if (t === undefined) return
  if (t.dirtyDecayMs !== undefined || t.muzzyDecayMs !== undefined) allocator.setArenaDecay(arena, t.dirtyDecayMs ?? 0, t.muzzyDecayMs ?? 0)
  if (t.backgroundThread !== undefined) allocator.setBackgroundThread(t.backgroundThread)
  if (t.defragIgnoreBytes !== undefined) db.configSet('active-defrag-ignore-bytes', t.defragIgnoreBytes)
  if (t.defragThresholdLower !== undefined) db.configSet('active-defrag-threshold-lower', t.defragThresholdLower)
  if (t.activedefrag === true) db.configSet('activedefrag', 'yes')
}

function arenaFigures(db: import('../lib/engine.js').Engine): Record<string, number> | null {
  const a = db.memoryStats()['engine.arena']
  return a === undefined || typeof a === 'number' ? null : a
}

function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

runChild<ChurnParams, ChurnResult>(async (p) => {
  const trace = churnTrace(p.keySpace, p.writes, p.seed)
  const template = Buffer.alloc(MAX_VALUE_BYTES, 0x63)
  // One options object per TTL, made once: the loop itself makes no garbage a cache would not see.
  const exOptions = Array.from({ length: 256 }, (_, s) => (s === 0 ? undefined : { ex: s }))
  let sinkValue = 0
  let db: import('../lib/engine.js').Engine | null = null
  let sink: Sink
  if (p.subject === 'no cache') {
    sink = {
      get: (k) => (sinkValue = (sinkValue + k.length) | 0) < 0,
      set: (k, v, ex) => void (sinkValue = (sinkValue + k.length + v.byteLength + ex) | 0),
      del: (k) => void (sinkValue = (sinkValue + k.length) | 0),
    }
  } else {
    const { Engine, engineInternals } = await import('../lib/engine.js')
    try {
      db = new Engine({
        maxmemory: p.maxmemory,
        maxmemoryPolicy: 'allkeys-lru',
        maxmemoryAccounting: p.subject === 'arenakv resident' ? 'resident' : 'allocated',
      })
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code !== 'ERR_UNSUPPORTED') throw err
      return {
        subject: p.subject, refused: `${String(code)}: ${(err as Error).message}`, rssGrowth: NaN, seconds: NaN, cpuSeconds: NaN,
        gets: 0, hits: 0, keys: 0, evictedKeys: 0, expiredKeys: 0, memory: null, arena: null, defrag: null, smallbinFrag: false, sink: 0,
      }
    }
    const engine = db
    applyTuning(engine, engineInternals(engine).slotStore.arena, p.tuning)
    const readBuffer = Buffer.alloc(MAX_VALUE_BYTES)
    sink = {
      get: (k) => engine.getInto(k, readBuffer) >= 0,
      set: (k, v, ex) => void engine.set(k, v, exOptions[ex]),
      del: (k) => void engine.del(k),
    }
  }
  const keys = new KeyDecoder()
  const { sizes, ttls } = trace
  const keyIdx = trace.keys
  for (let i = 0; i < p.warmupWrites; i++) {
    const key = keys.key(WARMUP_KEY_BASE + i)
    sink.set(key, template.subarray(0, sizes[i % sizes.length]), ttls[i % ttls.length])
    sink.del(key)
  }
  collectGarbage()
  await sleep(50)
  const rss0 = rssBytes()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let hits = 0
  for (let i = 0; i < p.writes; i++) {
    // Read, then write: each step GETs its key (the hit ratio is how many of the popular keys the bound kept),
    // then overwrites it with its new size, so the write stream is the same whatever the reads found.
    const key = keys.key(keyIdx[i])
    if (sink.get(key)) hits++
    // The engine copies the bytes into its arena, so a view of one template stands for the request's buffer.
    sink.set(key, template.subarray(0, sizes[i]), ttls[i])
    if (i % YIELD_EVERY === YIELD_EVERY - 1) {
      await yieldNow()
      progress(`${p.subject} ${p.maxmemory >> 20} MB: ${Math.round((i / p.writes) * 100)}%`)
    }
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const rssEnd = rssBytes()
  const memory = db === null ? null : await settledMemoryFigures(db)
  const result: ChurnResult = {
    subject: p.subject,
    refused: null,
    rssGrowth: rssEnd - rss0,
    seconds,
    gets: p.writes,
    hits,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    keys: db?.dbsize() ?? 0,
    evictedKeys: db === null ? 0 : Number(db.stats.evicted_keys),
    expiredKeys: db === null ? 0 : Number(db.stats.expired_keys),
    memory,
    arena: db === null ? null : arenaFigures(db),
    defrag: db === null || p.tuning?.activedefrag !== true ? null : {
      hits: Number(db.infoObject('stats').active_defrag_hits),
      misses: Number(db.infoObject('stats').active_defrag_misses),
    },
    smallbinFrag: db !== null && allocator.info().fragSmallbinsBytes !== null,
    sink: sinkValue,
  }
  db?.close()
  return result
})
