import { cronTimeLimitUs } from './cron.js'
import type { EngineConfig } from './config.js'
import { allocator } from './allocator.js'
import type { ArenaStats, SlotStore } from './store.js'

// Active defragmentation (Redis's defrag.c): decide from the engine arena's small-bin fragmentation whether to
// run and how much CPU to take, then move slots out of sparse slabs in bounded native steps until the cycle's time
// budget is spent. The native side (store.defragStep) picks which slots to move from jemalloc's utilization hints.

/** The knobs that steer the decisions (Redis's active-defrag-*), by their EngineConfig names. */
export type DefragConfig = Pick<
  EngineConfig,
  | 'activedefrag'
  | 'activeDefragIgnoreBytes'
  | 'activeDefragThresholdLower'
  | 'activeDefragThresholdUpper'
  | 'activeDefragCycleMin'
  | 'activeDefragCycleMax'
  | 'hz'
>

/** Fragmentation of an arena: small-bin fragmentation bytes over allocated bytes (Redis 7.4's allocator_frag). */
export interface Fragmentation {
  /** Percent above a perfectly packed arena: (ratio − 1) × 100, as Redis's getAllocatorFragmentation. */
  pct: number
  bytes: number
}

export function arenaFragmentation(stats: Pick<ArenaStats, 'allocated' | 'fragSmallbinsBytes'>): Fragmentation {
  if (stats.allocated <= 0) return { pct: 0, bytes: stats.fragSmallbinsBytes }
  return { pct: (stats.fragSmallbinsBytes / stats.allocated) * 100, bytes: stats.fragSmallbinsBytes }
}

/** Whether a new defrag run should start: both thresholds exceeded (Redis's computeDefragCycles gate). */
export function shouldStartDefrag(frag: Fragmentation, cfg: DefragConfig): boolean {
  return frag.pct >= cfg.activeDefragThresholdLower && frag.bytes >= cfg.activeDefragIgnoreBytes
}

/**
 * The CPU share (percent) a run takes: interpolated linearly from cycle-min at threshold-lower to cycle-max at
 * threshold-upper, truncated to an integer and clamped to [cycle-min, cycle-max], as Redis's INTERPOLATE + LIMIT.
 * Equal thresholds (which Redis would divide by) mean a step: cycle-max once at or above them.
 */
export function defragCpuPercent(fragPct: number, cfg: DefragConfig): number {
  const { activeDefragThresholdLower: x1, activeDefragThresholdUpper: x2 } = cfg
  const { activeDefragCycleMin: y1, activeDefragCycleMax: y2 } = cfg
  let pct = x2 === x1 ? (fragPct >= x1 ? y2 : y1) : Math.trunc(y1 + ((fragPct - x1) * (y2 - y1)) / (x2 - x1))
  // LIMIT(pct, min, max) = max(min(pct, max), min): cycle-min wins if the two are configured inverted.
  pct = Math.max(Math.min(pct, y2), y1)
  return pct
}

/** Redis re-evaluates the fragmentation once a second while idle (run_with_period(1000)). */
export const DEFRAG_COMPUTE_PERIOD_MS = 1000
/** Slots per native step: the clock is read between steps, as Redis reads it every 16 scan iterations. */
export const DEFRAG_SLOTS_PER_STEP = 256

/** What the controller needs of the native store: its arena's stats and one bounded defrag step. */
export interface DefragTarget {
  arenaStats(): ArenaStats
  /** Returns the arena's free pages to the OS (arena.<i>.purge). */
  purge(): void
  defragStep(cursor: number, maxScan: number): [next: number, hits: number, misses: number]
}

/** Redis's INFO stats counters for defrag, and the time spent (µs) for total_active_defrag_time. */
export interface DefragStats {
  active_defrag_hits: number
  active_defrag_misses: number
  active_defrag_key_hits: number
  active_defrag_key_misses: number
  /** µs spent in finished runs; a running one adds its own time since it started. */
  totalTimeUs: number
}

export interface DefragHost {
  readonly cfg: DefragConfig
  /** The store to defragment now (flushall replaces it), or null when the build cannot defragment. */
  target(): DefragTarget | null
  /** Monotonic clock in µs. */
  nowUs?: () => number
  /** A shared engine's pause between defrag steps (share.ts Sharing.pause); absent or null for a private engine. */
  pause?: (() => void) | null
}

const monotonicUs = (): number => performance.now() * 1000

/**
 * The active defrag run: started and paced by the fragmentation of the engine's own arena, driven from the
 * engine's hz timer (one cycle per tick). `running` is active_defrag_running: 0, or the CPU percent of a run.
 */
export class ActiveDefrag {
  running = 0
  readonly stats: DefragStats = {
    active_defrag_hits: 0,
    active_defrag_misses: 0,
    active_defrag_key_hits: 0,
    active_defrag_key_misses: 0,
    totalTimeUs: 0,
  }
  private cursor = 0
  private target: DefragTarget | null = null
  private lastComputeUs = -Infinity
  private runStartUs = 0
  /** Slots moved in the current pass: a pass that moved nothing is not repeated at once. */
  private passHits = 0
  private readonly nowUs: () => number

  constructor(private readonly host: DefragHost) {
    this.nowUs = host.nowUs ?? monotonicUs
  }

  /** µs of the current run so far (current_active_defrag_time), 0 when idle. */
  currentTimeUs(): number {
    return this.running === 0 ? 0 : this.nowUs() - this.runStartUs
  }

  /** One timer tick: Redis's activeDefragCycle. Returns slots moved this cycle. */
  cycle(): number {
    const cfg = this.host.cfg
    if (!cfg.activedefrag) {
      // Turned off mid-run: the next run starts from the first slot, as Redis does.
      if (this.running !== 0) this.stopRun()
      this.cursor = 0
      return 0
    }
    const target = this.host.target()
    if (target === null) return 0
    if (target !== this.target) {
      // A new store (flushall): its slots are numbered afresh.
      this.target = target
      this.cursor = 0
    }
    const start = this.nowUs()
    if (start - this.lastComputeUs >= DEFRAG_COMPUTE_PERIOD_MS * 1000) {
      this.lastComputeUs = start
      this.computeCycles(target)
    }
    if (this.running === 0) return 0
    const end = start + cronTimeLimitUs(this.running, cfg.hz)
    let moved = 0
    for (;;) {
      const [next, hits, misses] = target.defragStep(this.cursor, DEFRAG_SLOTS_PER_STEP)
      // One allocation per key (key and value share a slot), so key hits and allocation hits coincide.
      this.stats.active_defrag_hits += hits
      this.stats.active_defrag_misses += misses
      this.stats.active_defrag_key_hits += hits
      this.stats.active_defrag_key_misses += misses
      moved += hits
      this.passHits += hits
      this.cursor = next
      if (next === 0) {
        // A full pass is done: stop, and start another right away if the arena still warrants one (Redis). A pass
        // that moved nothing would only repeat itself (every slab as full as the bin's average, so no hint says
        // move): unlike Redis, wait for the next once-a-second evaluation instead of spinning at the CPU share.
        this.stopRun()
        const futile = this.passHits === 0
        this.passHits = 0
        // The moves emptied slabs whose pages jemalloc returns only as its decay clock advances, which needs
        // allocation activity (or a background thread, which Redis runs by default): an idle engine would keep
        // them. Hand them back now, so a finished pass lowers RSS, not just allocator_frag_ratio.
        if (!futile) target.purge()
        if (futile) {
          this.lastComputeUs = this.nowUs()
          break
        }
        this.computeCycles(target)
        if (this.running === 0) break
      }
      if (this.nowUs() >= end) break
      const pause = this.host.pause
      if (pause != null) {
        pause()
        // The engine may have been emptied meanwhile (a FLUSHALL reopens the store): start the pass over.
        if (this.host.target() !== target) break
      }
    }
    return moved
  }

  /** Redis's computeDefragCycles: start a run when warranted; a run's CPU share may rise, never fall. */
  private computeCycles(target: DefragTarget): void {
    const frag = arenaFragmentation(target.arenaStats())
    if (this.running === 0 && !shouldStartDefrag(frag, this.host.cfg)) return
    const pct = defragCpuPercent(frag.pct, this.host.cfg)
    if (pct > this.running) {
      if (this.running === 0) this.runStartUs = this.nowUs()
      this.running = pct
    }
  }

  private stopRun(): void {
    this.stats.totalTimeUs += this.nowUs() - this.runStartUs
    this.running = 0
  }
}

// One target per store: the controller keeps its cursor while the target stays the same object.
const targets = new WeakMap<object, DefragTarget>()

/** The store as a defrag target when this build can defragment (jemalloc's utilization hints), else null. */
export function defragTarget(store: SlotStore, supported: boolean): DefragTarget | null {
  const { arenaStats, defragStep } = store
  if (!supported || arenaStats === undefined || defragStep === undefined) return null
  let target = targets.get(store)
  if (target === undefined) {
    target = {
      arenaStats: () => arenaStats.call(store),
      defragStep: (cursor, maxScan) => defragStep.call(store, cursor, maxScan),
      purge: () => allocator.purgeArena(store.arena),
    }
    targets.set(store, target)
  }
  return target
}
