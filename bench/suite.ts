import type { AllocatorName } from './builds.js'
import type { AllocatorEnv, MachineEnv } from './env.js'
import type { SuiteReport } from './output.js'
import type { PeerName } from './peers.js'

/** tiny: seconds, for tests; small: a quick look; full: the workloads of bench/results and the README figures (minutes). */
export const SCALES = ['tiny', 'small', 'full'] as const
export type Scale = (typeof SCALES)[number]

export interface SuiteContext {
  scale: Scale
  /** Trace files given with --trace (the hitratio suite replays them). */
  traces: readonly string[]
  /** Rounds of a suite that repeats its runs and keeps medians (--runs); undefined for the suite's own default. */
  runs?: number
  /** Allocator builds the suite compares (the alloc and churn suites run each; the other peer suites use the first). */
  allocators: AllocatorName[]
  env: MachineEnv
  log: (line: string) => void
  /** Runs dist/bench/<script>.js in a fresh process with the given build and returns its JSON result. */
  child<R>(script: string, params: unknown, build: AllocatorName | null, label: string): Promise<R>
  /** What the given build says it links (probed in a fresh process). */
  allocatorEnv(build: AllocatorName): Promise<AllocatorEnv>
  /** Whether an optional peer is installed; a suite leaves a missing one out and adds missingPeerNote(name). */
  peer(name: PeerName): Promise<boolean>
}

export interface Suite {
  name: string
  title: string
  description: string
  /** Runs every allocator in ctx.allocators (the others use the first alone, so only it needs a build). */
  comparesAllocators?: boolean
  run(ctx: SuiteContext): Promise<SuiteReport>
}
