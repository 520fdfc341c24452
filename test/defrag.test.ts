// Active defragmentation: Redis's decisions as pure functions (start gate, CPU share, time limit), the controller
// on a scripted store, and the engine's timer driving real moves in jemalloc — values compared byte for byte and
// the arena's allocator_frag_ratio brought near 1.0.
import { afterEach, describe, expect, it } from 'vitest'
import { cronTimeLimitUs } from '../lib/cron.js'
import { CONFIG_DEFAULTS } from '../lib/config.js'
import {
  ActiveDefrag,
  DEFRAG_SLOTS_PER_STEP,
  arenaFragmentation,
  defragCpuPercent,
  defragTarget,
  shouldStartDefrag,
  type DefragConfig,
  type DefragTarget,
} from '../lib/defrag.js'
import { Engine, engineInternals } from '../lib/engine.js'
import { createStore, type ArenaStats, type NativeStore } from '../lib/store.js'

const MiB = 1024 * 1024
const cfg = (over: Partial<DefragConfig> = {}): DefragConfig => ({ ...CONFIG_DEFAULTS, activedefrag: true, ...over })

describe('decisions (Redis computeDefragCycles / activeDefragCycle)', () => {
  it('measures fragmentation as small-bin free bytes over allocated', () => {
    expect(arenaFragmentation({ allocated: 100 * MiB, fragSmallbinsBytes: 25 * MiB })).toEqual({ pct: 25, bytes: 25 * MiB })
    expect(arenaFragmentation({ allocated: 0, fragSmallbinsBytes: 0 })).toEqual({ pct: 0, bytes: 0 })
  })

  it('starts only above both threshold-lower and ignore-bytes', () => {
    const c = cfg({ activeDefragIgnoreBytes: 100 * MiB, activeDefragThresholdLower: 10 })
    expect(shouldStartDefrag({ pct: 50, bytes: 200 * MiB }, c)).toBe(true)
    expect(shouldStartDefrag({ pct: 9.9, bytes: 200 * MiB }, c)).toBe(false)
    expect(shouldStartDefrag({ pct: 50, bytes: 99 * MiB }, c)).toBe(false)
    expect(shouldStartDefrag({ pct: 10, bytes: 100 * MiB }, c)).toBe(true)
  })

  it('interpolates the CPU share between cycle-min and cycle-max over the thresholds, clamped', () => {
    const c = cfg() // lower 10, upper 100, min 1, max 25
    expect(defragCpuPercent(10, c)).toBe(1)
    expect(defragCpuPercent(55, c)).toBe(13) // 1 + 45 × 24 / 90 = 13
    expect(defragCpuPercent(40, c)).toBe(9) // 1 + 30 × 24 / 90 = 9 (truncated)
    expect(defragCpuPercent(100, c)).toBe(25)
    expect(defragCpuPercent(400, c)).toBe(25)
    expect(defragCpuPercent(0, c)).toBe(1)
    expect(defragCpuPercent(50, cfg({ activeDefragThresholdLower: 50, activeDefragThresholdUpper: 50 }))).toBe(25)
    expect(defragCpuPercent(49, cfg({ activeDefragThresholdLower: 50, activeDefragThresholdUpper: 50 }))).toBe(1)
    // Inverted min/max: LIMIT lets cycle-min win, as Redis's macro does.
    expect(defragCpuPercent(100, cfg({ activeDefragCycleMin: 30, activeDefragCycleMax: 20 }))).toBe(30)
  })

  it('gives each cycle cpu% of the 1/hz period, never 0', () => {
    expect(cronTimeLimitUs(25, 10)).toBe(25_000)
    expect(cronTimeLimitUs(1, 10)).toBe(1000)
    expect(cronTimeLimitUs(1, 500)).toBe(20)
    expect(cronTimeLimitUs(99, 1)).toBe(990_000)
    expect(cronTimeLimitUs(0, 10)).toBe(1)
  })
})

/** A store of `slots` slots whose fragmentation falls as the pass moves them; the clock advances per step. */
class ScriptedTarget implements DefragTarget {
  steps: Array<[number, number]> = []
  purges = 0
  frag: number
  constructor(
    readonly slots: number,
    startFrag: number,
    readonly clock: { us: number },
    readonly usPerStep = 100,
  ) {
    this.frag = startFrag
  }
  arenaStats(): ArenaStats {
    return { allocated: 200 * MiB, active: 0, dirty: 0, muzzy: 0, resident: 0, mapped: 0, nmalloc: 0, ndalloc: 0, fragSmallbinsBytes: this.frag }
  }
  purge(): void {
    this.purges++
  }
  defragStep(cursor: number, maxScan: number): [number, number, number] {
    this.steps.push([cursor, maxScan])
    this.clock.us += this.usPerStep
    const end = Math.min(this.slots, cursor + maxScan)
    const n = end - cursor
    const hits = Math.floor(n / 2)
    this.frag = Math.max(0, this.frag - hits * 1000)
    return [end >= this.slots ? 0 : end, hits, n - hits]
  }
}

describe('controller', () => {
  it('stays idle below the thresholds and when turned off', () => {
    const clock = { us: 0 }
    const target = new ScriptedTarget(10_000, 1 * MiB, clock)
    const c = cfg({ activeDefragIgnoreBytes: 10 * MiB })
    const d = new ActiveDefrag({ cfg: c, target: () => target, nowUs: () => clock.us })
    expect(d.cycle()).toBe(0)
    expect(d.running).toBe(0)
    expect(target.steps).toEqual([])
    c.activedefrag = false
    target.frag = 100 * MiB
    expect(d.cycle()).toBe(0)
    expect(d.running).toBe(0)
  })

  it('runs within the cycle time budget, counts hits and misses, and stops after a full pass', () => {
    const clock = { us: 0 }
    const slots = DEFRAG_SLOTS_PER_STEP * 1000
    // 50% fragmentation: CPU share 1 + 40 × 24 / 90 = 11 → 11 ms per 100 ms tick at hz 10; 100 µs per step.
    const target = new ScriptedTarget(slots, 100 * MiB, clock)
    const c = cfg({ activeDefragIgnoreBytes: 10 * MiB })
    const d = new ActiveDefrag({ cfg: c, target: () => target, nowUs: () => clock.us })
    d.cycle()
    expect(d.running).toBe(11)
    expect(target.steps).toHaveLength(110)
    expect(target.steps[1]).toEqual([DEFRAG_SLOTS_PER_STEP, DEFRAG_SLOTS_PER_STEP])
    expect(d.currentTimeUs()).toBe(11_000)
    expect(d.stats.active_defrag_hits).toBe((110 * DEFRAG_SLOTS_PER_STEP) / 2)
    expect(d.stats.active_defrag_misses).toBe((110 * DEFRAG_SLOTS_PER_STEP) / 2)
    expect(d.stats.active_defrag_key_hits).toBe(d.stats.active_defrag_hits)
    // Once packed, the run still finishes its pass (Redis never stops a scan half way), then stops.
    target.frag = 0
    let cycles = 1
    while (d.running !== 0 && cycles < 100) {
      d.cycle()
      cycles++
    }
    expect(cycles).toBe(Math.ceil(1000 / 110))
    expect(target.steps.at(-1)?.[0]).toBe(slots - DEFRAG_SLOTS_PER_STEP)
    expect(d.running).toBe(0)
    expect(d.stats.active_defrag_hits + d.stats.active_defrag_misses).toBe(slots)
    expect(target.purges).toBe(1) // the pass moved slots: the slabs it emptied go back to the OS
    expect(d.stats.totalTimeUs).toBeGreaterThan(0)
    expect(d.currentTimeUs()).toBe(0)
  })

  it('does not repeat at once a pass that moved nothing (waits for the once-a-second evaluation)', () => {
    const clock = { us: 0 }
    const target = new ScriptedTarget(DEFRAG_SLOTS_PER_STEP * 4, 100 * MiB, clock)
    target.defragStep = (cursor, maxScan) => {
      target.steps.push([cursor, maxScan])
      clock.us += 100
      const end = Math.min(target.slots, cursor + maxScan)
      return [end >= target.slots ? 0 : end, 0, end - cursor]
    }
    const d = new ActiveDefrag({ cfg: cfg({ activeDefragIgnoreBytes: 1 }), target: () => target, nowUs: () => clock.us })
    d.cycle()
    expect(target.steps).toHaveLength(4) // one pass, then stop for now
    expect(target.purges).toBe(0) // nothing moved, nothing to give back
    expect(d.running).toBe(0)
    clock.us += 500_000
    d.cycle()
    expect(target.steps).toHaveLength(4)
    clock.us += 600_000
    d.cycle()
    expect(target.steps).toHaveLength(8)
  })

  it('restarts from the first slot after being turned off, or when the store is replaced', () => {
    const clock = { us: 0 }
    let target = new ScriptedTarget(DEFRAG_SLOTS_PER_STEP * 1000, 100 * MiB, clock, 1000)
    const c = cfg({ activeDefragIgnoreBytes: 1 })
    const d = new ActiveDefrag({ cfg: c, target: () => target, nowUs: () => clock.us })
    d.cycle()
    expect(target.steps.length).toBeGreaterThan(1)
    c.activedefrag = false
    d.cycle()
    expect(d.running).toBe(0)
    c.activedefrag = true
    clock.us += 2_000_000
    d.cycle()
    expect(target.steps.filter(([cursor]) => cursor === 0)).toHaveLength(2)
    target = new ScriptedTarget(DEFRAG_SLOTS_PER_STEP * 1000, 100 * MiB, clock, 1000)
    d.cycle()
    expect(target.steps[0][0]).toBe(0)
  })
})

describe('defragTarget', () => {
  it('is the same object for the same store, so the controller keeps its cursor across cycles', () => {
    const store = createStore({ scratchBytes: 64 })
    try {
      const target = defragTarget(store, true)
      expect(target).not.toBeNull()
      expect(defragTarget(store, true)).toBe(target)
      expect(defragTarget(store, false)).toBeNull()
      expect(defragTarget({}, true)).toBeNull()
    } finally {
      store.close()
    }
  })
})

describe('on the engine (jemalloc)', () => {
  const open: Engine[] = []
  afterEach(() => {
    for (const db of open.splice(0)) db.close()
  })

  it('moves values out of sparse slabs from the hz timer without changing a byte, frag ratio → ~1.0', async () => {
    const db = new Engine({
      hz: 50,
      activedefrag: false,
      activeDefragIgnoreBytes: '1mb',
      activeDefragCycleMax: 50,
    })
    open.push(db)
    const n = 300_000
    const valueOf = (i: number): Buffer => {
      const b = Buffer.alloc(40 + (i % 90))
      for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j * 7) & 0xff
      return b
    }
    for (let i = 0; i < n; i++) db.set(`key:${i}`, valueOf(i), i % 5 === 0 ? { ex: 3600 } : undefined)
    const keep = (i: number) => (i * 2654435761) % 7 >= 4
    for (let i = 0; i < n; i++) if (!keep(i)) db.del(`key:${i}`)
    const store = engineInternals(db).slotStore as NativeStore
    const ratio = (s: ArenaStats) => s.fragSmallbinsBytes / s.allocated + 1
    const before = store.arenaStats()
    expect(ratio(before)).toBeGreaterThan(1.3)
    const usedBefore = db.usedMemory()
    const infoBefore = db.infoObject('memory').allocator_frag_ratio as number

    db.configSet('activedefrag', 'yes')
    let sawRunning = false
    const deadline = Date.now() + 30_000
    for (;;) {
      await new Promise((r) => setTimeout(r, 20))
      const s = db.infoObject('stats')
      const running = db.infoObject('memory').active_defrag_running as number
      if (running > 0) sawRunning = true
      if ((s.active_defrag_hits as number) > 0 && running === 0) break
      if (Date.now() > deadline) throw new Error('active defrag did not finish in 30 s')
    }
    expect(sawRunning).toBe(true)
    const after = store.arenaStats()
    const stats = db.infoObject('stats')
    expect(stats.active_defrag_hits as number).toBeGreaterThan(0)
    expect((stats.active_defrag_hits as number) + (stats.active_defrag_misses as number)).toBeGreaterThanOrEqual(db.dbsize())
    expect(stats.active_defrag_key_hits).toBe(stats.active_defrag_hits)
    expect(stats.total_active_defrag_time as number).toBeGreaterThanOrEqual(0)
    expect(ratio(after)).toBeLessThan(1.1)
    expect(db.usedMemory()).toBe(usedBefore)
    await new Promise((r) => setTimeout(r, 120)) // the INFO sample is refreshed
    const memAfter = db.infoObject('memory')
    const infoAfter = memAfter.allocator_frag_ratio as number
    expect(infoAfter).toBeLessThan(1.1)
    // The pass gave the slabs it emptied back to the OS: the engine's RSS share follows without a manual purge.
    expect(after.resident).toBeLessThan(before.resident * 0.8)
    expect(memAfter.mem_fragmentation_ratio as number).toBeLessThan(1.15)
    console.log(
      `defrag: arena allocator_frag_ratio ${ratio(before).toFixed(3)} → ${ratio(after).toFixed(3)}; ` +
        `INFO allocator_frag_ratio ${infoBefore.toFixed(3)} → ${infoAfter.toFixed(3)}; ` +
        `hits ${String(stats.active_defrag_hits)}, misses ${String(stats.active_defrag_misses)}, ` +
        `time ${String(stats.total_active_defrag_time)} ms`,
    )
    // Every surviving value, byte for byte, and its TTL; every deleted key still gone.
    const out = Buffer.alloc(256)
    for (let i = 0; i < n; i++) {
      if (!keep(i)) {
        expect(db.exists(`key:${i}`)).toBe(0)
        continue
      }
      const expected = valueOf(i)
      const len = db.getInto(`key:${i}`, out)
      if (len !== expected.length || !out.subarray(0, len).equals(expected)) {
        throw new Error(`key:${i} changed by defrag`)
      }
      if (i % 5 === 0 && db.ttl(`key:${i}`) <= 0) throw new Error(`key:${i} lost its TTL`)
    }
    expect(db.dbsize()).toBe([...Array(n).keys()].filter(keep).length)
  }, 60_000)
})
