// Child of the reclaim suite: N × 100 B keys, a random half deleted, then (a) nothing, (b) MEMORY PURGE,
// (c) active defragmentation for a while: the memory figures after each step, from the engine's INFO.
import { progressReporter, runChild, sleep } from './child.js'
import { settledMemoryFigures, type MemoryFigures } from './measure.js'
import { Rng, permutation } from './rng.js'

export interface ReclaimParams {
  keys: number
  defragSeconds: number
  /** active-defrag-ignore-bytes for step (c) (Redis's default 100mb exceeds this workload's fragmentation). */
  ignoreBytes: string
}

export interface ReclaimStep {
  step: string
  figures: MemoryFigures
}

export interface ReclaimResult {
  steps: ReclaimStep[]
  /** Why step (c) could not run (e.g. ERR_UNSUPPORTED on tcmalloc/libc), or null. */
  defragRefused: string | null
  defragHits: number | null
}

const progress = progressReporter()

runChild<ReclaimParams, ReclaimResult>(async (p) => {
  const { Engine } = await import('../lib/engine.js')
  const db = new Engine()
  const value = Buffer.alloc(100, 0x65)
  for (let i = 0; i < p.keys; i++) {
    db.set(`key:${i}`, value)
    if ((i & 0xffff) === 0) progress(`fill ${Math.round((i / p.keys) * 100)}%`)
  }
  const steps: ReclaimStep[] = []
  const record = async (step: string): Promise<void> => {
    steps.push({ step, figures: await settledMemoryFigures(db) })
  }
  await record('filled')
  const order = permutation(p.keys, new Rng(17))
  for (let i = 0; i < p.keys / 2; i++) db.del(`key:${order[i]}`)
  await record('(a) deleted half')
  db.memoryPurge()
  await record('(b) memoryPurge')

  let defragRefused: string | null = null
  let defragHits: number | null = null
  try {
    db.configSet('active-defrag-ignore-bytes', p.ignoreBytes)
    db.configSet('activedefrag', 'yes')
  } catch (err) {
    defragRefused = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)
  }
  if (defragRefused === null) {
    // Bounded: defragSeconds of wall time, the engine's own timer doing the work.
    for (let s = 0; s < p.defragSeconds; s++) {
      progress(`defrag ${s}/${p.defragSeconds} s`)
      await sleep(1000)
    }
    await record('(c) activedefrag')
    defragHits = Number(db.infoObject('stats').active_defrag_hits)
    db.memoryPurge()
    await record('(c) + memoryPurge')
  }
  db.close()
  return { steps, defragRefused, defragHits }
})
