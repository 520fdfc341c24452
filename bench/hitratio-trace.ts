// Child of the hit-ratio suite's trace part: one trace at one capacity, replayed cache-aside through the engine
// under each policy in turn (bench/replay.ts). The trace is a file or a synthetic shape, rebuilt here from its spec.
import type { MaxmemoryPolicy } from '../lib/config.js'
import { progressReporter, runChild } from './child.js'
import { maxmemoryFor, replay } from './replay.js'
import { loadTrace, type TraceSpec } from './traces.js'

export interface TraceParams {
  trace: TraceSpec
  capacity: number
  valueBytes: number
  runs: { policy: MaxmemoryPolicy; samples: number }[]
}

export interface TraceRun {
  policy: MaxmemoryPolicy
  samples: number
  hitRatio: number
  heldKeys: number
  opsPerSec: number
  info: Record<string, string | number>
}

export interface TraceResult {
  maxmemory: number
  runs: TraceRun[]
}

const progress = progressReporter()

runChild<TraceParams, TraceResult>(async (p) => {
  const { Engine } = await import('../lib/engine.js')
  const trace = loadTrace(p.trace)
  const maxmemory = maxmemoryFor(Engine, p.capacity, p.valueBytes)
  const runs: TraceRun[] = []
  for (const run of p.runs) {
    const r = replay(Engine, trace.keys, run.policy, run.samples, maxmemory, p.valueBytes, (share) =>
      progress(`${trace.name}@${p.capacity} ${run.policy}/${run.samples}: ${Math.round(share * 100)}%`),
    )
    runs.push({ ...run, hitRatio: r.hits / trace.keys.length, heldKeys: r.heldKeys, opsPerSec: r.opsPerSec, info: r.info })
  }
  return { maxmemory, runs }
})
