// A worker thread of the share suite's child (bench/share.ts): one engine of its own (private) or the child's
// shared engine (attached), a Zipf trace drawn from the same distribution as every other thread's, cache-aside
// (a GET; a miss is followed by a SET of the key). It warms up, waits at the start line, runs the timed loop and
// reports its counts.
import { parentPort, workerData } from 'node:worker_threads'
import { Engine, type SharedEngineDescriptor } from '../lib/engine.js'
import { resetSharedLockStats, sharedLockStats } from '../lib/share.js'
import type { LockStats, LockTrace } from '../lib/lock_stats.js'
import { KeyDecoder } from './keys.js'
import { Rng } from './rng.js'
import { ZipfSampler } from './zipf.js'

/** What every thread of a configuration runs: the same Zipf distribution, cache-aside. */
export interface ShareWorkload {
  keySpace: number
  zipfS: number
  warmupOps: number
  /** Timed operations per thread. */
  ops: number
  valueBytes: number
  seed: number
}

export interface ShareWorkerData extends ShareWorkload {
  /** The shared engine to attach to, or null for an engine of the thread's own with `maxmemory`. */
  descriptor: SharedEngineDescriptor | null
  maxmemory: number
  /** Int32 cells: [0] threads ready, [1] go, [2] threads done with the timed loop, [3] RSS taken (close and report). */
  start: SharedArrayBuffer
  /** Cache-aside (a GET, a SET after a miss), or a writer: a SET of every key drawn. */
  writer: boolean
  /** Trace the shared lock's waits and holds in the timed loop (sharedLockStats). */
  traceLock: LockTrace
}

export interface ShareWorkerResult {
  gets: number
  hits: number
  seconds: number
  cpuSeconds: number
  /** Keys the engine held after the loop (the whole shared keyspace when attached). */
  keys: number
  /** This thread's statistics of the shared lock over the timed loop (traced when asked), or null. */
  lock: LockStats | null
}

const d = workerData as ShareWorkerData
const db = d.descriptor === null ? new Engine({ maxmemory: d.maxmemory, maxmemoryPolicy: 'allkeys-lru' }) : Engine.attach(d.descriptor)
const zipf = new ZipfSampler(d.keySpace, d.zipfS, new Rng(d.seed))
const warm = zipf.trace(d.warmupOps)
const timed = zipf.trace(d.ops)
const decoder = new KeyDecoder()
// Keys decoded once: the loop measures the cache, not key formatting.
const names = new Array<string>(d.keySpace)
const keyOf = (i: number): string => (names[i] ??= decoder.key(i))
const value = Buffer.alloc(d.valueBytes, 0x73)
const readBuffer = Buffer.alloc(d.valueBytes)

function loop(trace: Uint32Array): number {
  let hits = 0
  if (d.writer) {
    for (let i = 0; i < trace.length; i++) db.set(keyOf(trace[i]), value)
    return 0
  }
  for (let i = 0; i < trace.length; i++) {
    const key = keyOf(trace[i])
    if (db.getInto(key, readBuffer) >= 0) hits++
    else db.set(key, value)
  }
  return hits
}

loop(warm)
const start = new Int32Array(d.start)
Atomics.add(start, 0, 1)
Atomics.notify(start, 0)
while (Atomics.load(start, 1) === 0) Atomics.wait(start, 1, 0, 100)
resetSharedLockStats(db, d.traceLock)
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const hits = loop(timed)
const seconds = (performance.now() - t0) / 1000
const cpu = process.cpuUsage(cpu0)
const lock = sharedLockStats(db)
const keys = db.dbsize()
// The finish line: the main thread reads the process's RSS while every engine and worker is still alive.
Atomics.add(start, 2, 1)
Atomics.notify(start, 2)
while (Atomics.load(start, 3) === 0) Atomics.wait(start, 3, 0, 100)
db.close()
const result: ShareWorkerResult = { gets: d.ops, hits, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, keys, lock }
parentPort?.postMessage(result)
