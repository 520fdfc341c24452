// Child of the share suite: one configuration (N threads over one shared engine, or N private engines splitting
// the same total maxmemory) in a fresh process. Every thread warms up, then all start together; the process's RSS
// is taken once every thread is ready (engines filled, traces built) and again after the timed loops.
import { Worker } from 'node:worker_threads'
import { collectGarbage, rssBytes, runChild, sleep } from './child.js'
import type { ShareWorkerData, ShareWorkerResult, ShareWorkload } from './share-worker.js'

export interface ShareParams extends ShareWorkload {
  mode: 'shared' | 'private'
  threads: number
  /** Total: the shared engine's, or split evenly between the private engines. */
  maxmemory: number
}

export interface ShareResult {
  mode: 'shared' | 'private'
  threads: number
  /** GETs (and the SETs after misses) per second, all threads together: total GETs ÷ the slowest thread's time. */
  opsPerSec: number
  /** Per thread: its own GETs ÷ its own time (the per-operation cost, including the lock's). */
  threadOpsPerSec: number[]
  hitRatio: number
  /** Process RSS when every thread was ready, and after the timed loops. */
  rssReady: number
  rssAfter: number
  cpuSeconds: number
  /** Keys held after the loops, all engines together. */
  keys: number
}

const WORKER = new URL('./share-worker.js', import.meta.url)

runChild<ShareParams, ShareResult>(async (p) => {
  const { Engine } = await import('../lib/engine.js')
  const shared = p.mode === 'shared' ? new Engine({ maxmemory: p.maxmemory, maxmemoryPolicy: 'allkeys-lru' }) : null
  const descriptor = shared === null ? null : shared.share()
  const start = new SharedArrayBuffer(8)
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
  collectGarbage()
  const rssReady = rssBytes()
  Atomics.store(cells, 1, 1)
  Atomics.notify(cells, 1)
  const done = await Promise.all(results)
  const rssAfter = rssBytes()
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
  }
})
