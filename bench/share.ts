// Child of the share suite: one configuration (N threads over one shared engine, or N private engines splitting
// the same total maxmemory) in a fresh process. Every thread warms up, then all start together; the process's RSS
// is taken once every thread is ready (engines filled, traces built) and again after the timed loops.
import { Worker } from 'node:worker_threads'
import { collectGarbage, rssBytes, runChild, sleep } from './child.js'
import type { ShareWorkerData, ShareWorkerResult, ShareWorkload } from './share-worker.js'
import type { HoldFigures, LockStats, LockTrace, SlowFigures } from '../lib/lock_stats.js'

export interface ShareParams extends ShareWorkload {
  mode: 'shared' | 'private'
  threads: number
  /** Total: the shared engine's, or split evenly between the private engines. */
  maxmemory: number
  /**
   * The lock-wait configuration (shared only): the workers are writers (a SET of every key drawn) and the main
   * thread runs GETs beside them for as long as they write, its lock waits traced.
   */
  mainGets: boolean
  /** With mainGets: 'waits', or 'sched' to also read each slow hold's and wait's run-queue time (a diagnosis). */
  lockTrace?: LockTrace
}

/** The main thread's lock waits beside the writers (ms; uncontended GETs count as 0), and what it waited behind. */
export interface MainLockWaits {
  gets: number
  contended: number
  p50Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
  /** During the longest wait: holds other threads made, and what the holder was doing when it began. */
  maxWaitHolds: number
  maxWaitHolder: string
  /** Every thread's holds by what they did (the writers' and the main thread's), merged. */
  holdsByOp: Record<string, HoldFigures>
  /** The most keys one hold evicted or expired, in any thread. */
  maxSteps: number
  maxStepsOp: string
  turnsTaken: number
  /** Sched tracing: the writers' slow holds and the main thread's slow waits, with their run-queue time. */
  slowHolds: SlowFigures | null
  slowWaits: SlowFigures | null
}

export interface ShareResult {
  mode: 'shared' | 'private'
  threads: number
  /** GETs (and the SETs after misses) per second, all threads together: total GETs ÷ the slowest thread's time. */
  opsPerSec: number
  /** Per thread: its own GETs ÷ its own time (the per-operation cost, including the lock's). */
  threadOpsPerSec: number[]
  hitRatio: number
  /** Process RSS when every thread was ready, and after the timed loops (every engine and worker still alive). */
  rssReady: number
  rssAfter: number
  cpuSeconds: number
  /** Keys held after the loops, all engines together. */
  keys: number
  /** With mainGets: the main thread's lock waits. */
  mainLock: MainLockWaits | null
}

function mergeHolds(into: Record<string, HoldFigures>, from: LockStats | null): void {
  for (const [op, f] of Object.entries(from?.holdsByOp ?? {})) {
    const m = (into[op] ??= { holds: 0, totalMs: 0, maxMs: 0 })
    m.holds += f.holds
    m.totalMs += f.totalMs
    m.maxMs = Math.max(m.maxMs, f.maxMs)
  }
}

const WORKER = new URL('./share-worker.js', import.meta.url)

runChild<ShareParams, ShareResult>(async (p) => {
  const { Engine } = await import('../lib/engine.js')
  const { resetSharedLockStats, sharedLockStats } = await import('../lib/share.js')
  const { lockWaitPercentile } = await import('../lib/lock_stats.js')
  const { ZipfSampler } = await import('./zipf.js')
  const { Rng } = await import('./rng.js')
  const { KeyDecoder } = await import('./keys.js')
  const shared = p.mode === 'shared' ? new Engine({ maxmemory: p.maxmemory, maxmemoryPolicy: 'allkeys-lru' }) : null
  const descriptor = shared === null ? null : shared.share()
  const start = new SharedArrayBuffer(16)
  const cells = new Int32Array(start)
  const results = Array.from({ length: p.threads }, (_, t) => {
    const data: ShareWorkerData = {
      descriptor,
      maxmemory: Math.floor(p.maxmemory / p.threads),
      keySpace: p.keySpace,
      zipfS: p.zipfS,
      warmupOps: p.warmupOps,
      ops: p.ops,
      valueBytes: p.valueBytes,
      seed: p.seed + 7919 * t,
      start,
      writer: p.mainGets,
      traceLock: p.mainGets ? (p.lockTrace ?? 'waits') : 'off',
    }
    const worker = new Worker(WORKER, { workerData: data })
    return new Promise<ShareWorkerResult>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`share worker exited (${code}) before reporting`)))
    })
  })
  // The main thread waits without blocking its event loop (the workers' messages and errors arrive through it).
  while (Atomics.load(cells, 0) < p.threads) {
    await Promise.race([sleep(20), ...results])
  }
  // The main thread's GETs (lock-wait configuration): its own trace of the same distribution, keys decoded first.
  const mainTrace = p.mainGets ? new ZipfSampler(p.keySpace, p.zipfS, new Rng(p.seed + 31)).trace(1 << 16) : null
  const decoder = new KeyDecoder()
  const mainKeys = mainTrace === null ? [] : Array.from(mainTrace, (k) => decoder.key(k))
  collectGarbage()
  const rssReady = rssBytes()
  Atomics.store(cells, 1, 1)
  Atomics.notify(cells, 1)
  let mainLock: MainLockWaits | null = null
  if (shared !== null && p.mainGets) {
    // GETs back to back until every writer is done (the loop never yields: the workers' results wait for it).
    const buffer = Buffer.alloc(p.valueBytes)
    resetSharedLockStats(shared, p.lockTrace ?? 'waits')
    let gets = 0
    while (Atomics.load(cells, 2) < p.threads) {
      shared.getInto(mainKeys[gets & 0xffff], buffer)
      gets++
    }
    const stats = sharedLockStats(shared) as LockStats
    mainLock = {
      gets, contended: stats.contended,
      p50Ms: lockWaitPercentile(stats, 50), p99Ms: lockWaitPercentile(stats, 99), p999Ms: lockWaitPercentile(stats, 99.9), maxMs: stats.maxWaitMs,
      maxWaitHolds: stats.maxWaitHolds, maxWaitHolder: stats.maxWaitHolder, holdsByOp: {}, maxSteps: stats.maxSteps, maxStepsOp: stats.maxStepsOp,
      turnsTaken: stats.turnsTaken, slowHolds: stats.slowHolds, slowWaits: stats.slowWaits,
    }
  }
  // Every thread at the finish line, its engine still open: the RSS to compare (engines and worker heaps alike).
  while (Atomics.load(cells, 2) < p.threads) await Promise.race([sleep(5), ...results])
  collectGarbage()
  const rssAfter = rssBytes()
  Atomics.store(cells, 3, 1)
  Atomics.notify(cells, 3)
  const done = await Promise.all(results)
  if (mainLock !== null) {
    mergeHolds(mainLock.holdsByOp, sharedLockStats(shared as object))
    for (const r of done) {
      mergeHolds(mainLock.holdsByOp, r.lock)
      const slow = r.lock?.slowHolds
      if (slow != null && mainLock.slowHolds !== null) {
        const m = mainLock.slowHolds
        m.count += slow.count
        m.ms += slow.ms
        m.runqueueMs += slow.runqueueMs
        if (slow.maxMs > m.maxMs) {
          m.maxMs = slow.maxMs
          m.maxRunqueueMs = slow.maxRunqueueMs
        }
      }
      if (r.lock !== null && r.lock.maxSteps > mainLock.maxSteps) {
        mainLock.maxSteps = r.lock.maxSteps
        mainLock.maxStepsOp = r.lock.maxStepsOp
      }
    }
  }
  const gets = done.reduce((n, r) => n + r.gets, 0)
  const keys = shared?.dbsize() ?? done.reduce((n, r) => n + r.keys, 0)
  shared?.close()
  return {
    mode: p.mode,
    threads: p.threads,
    opsPerSec: gets / Math.max(...done.map((r) => r.seconds)),
    threadOpsPerSec: done.map((r) => r.gets / r.seconds),
    hitRatio: done.reduce((n, r) => n + r.hits, 0) / gets,
    rssReady,
    rssAfter,
    cpuSeconds: done.reduce((n, r) => n + r.cpuSeconds, 0),
    keys,
    mainLock,
  }
})
