import { allocator } from '../lib/allocator.js'
import type { Engine } from '../lib/engine.js'

// Memory figures of one engine. When the engine has INFO (issue 4), its own fields are read; until then they
// are computed here from the allocator surface with the formulas of DESIGN §3–§4 (never estimated).

/** The reporting methods of DESIGN §5 that the engine may not have yet. */
export interface EngineReporting {
  info(section?: string): string
  infoObject(section?: string): Record<string, string | number>
  memoryPurge(): void
  memoryDoctor(): string
}

export function reportingOf(db: Engine): Partial<EngineReporting> {
  const r = db as unknown as Partial<Record<keyof EngineReporting, unknown>>
  const bind = <K extends keyof EngineReporting>(k: K): EngineReporting[K] | undefined => {
    const f = r[k]
    return typeof f === 'function' ? (f.bind(db) as EngineReporting[K]) : undefined
  }
  return { info: bind('info'), infoObject: bind('infoObject'), memoryPurge: bind('memoryPurge'), memoryDoctor: bind('memoryDoctor') }
}

export interface MemoryFigures {
  /** The whole process's RSS (/proc/self/stat), whatever the engine reports. */
  process_rss: number
  /** INFO's used_memory_rss: the engine's own resident memory where the engine reports it, else the process RSS. */
  used_memory_rss: number
  used_memory: number
  allocator_allocated: number
  allocator_active: number
  allocator_frag_ratio: number
  mem_fragmentation_ratio: number
  /** 'info': the engine's INFO memory; 'allocator': computed here from allocator.info() and rss(). */
  source: 'info' | 'allocator'
}

function num(v: string | number | undefined): number {
  return typeof v === 'number' ? v : Number(v)
}

export function memoryFigures(db: Engine): MemoryFigures {
  const infoObject = reportingOf(db).infoObject
  const processRss = allocator.rss() ?? process.memoryUsage.rss()
  if (infoObject !== undefined) {
    const m = infoObject('memory')
    return {
      process_rss: processRss,
      used_memory_rss: num(m.used_memory_rss),
      used_memory: num(m.used_memory),
      allocator_allocated: num(m.allocator_allocated),
      allocator_active: num(m.allocator_active),
      allocator_frag_ratio: num(m.allocator_frag_ratio),
      mem_fragmentation_ratio: num(m.mem_fragmentation_ratio),
      source: 'info',
    }
  }
  const a = allocator.info()
  const used = db.usedMemory()
  const allocated = a.allocated ?? 0
  return {
    process_rss: processRss,
    used_memory_rss: processRss,
    used_memory: used,
    allocator_allocated: allocated,
    allocator_active: a.active ?? allocated,
    // DESIGN §4: small-bin fragmentation bytes ÷ allocated + 1.
    allocator_frag_ratio: allocated > 0 ? (a.fragSmallbinsBytes ?? 0) / allocated + 1 : 1,
    mem_fragmentation_ratio: used > 0 ? processRss / used : 0,
    source: 'allocator',
  }
}

/** INFO memory is a sample refreshed at most every 100 ms (as Redis's cron): wait past that before reading it. */
export const INFO_SETTLE_MS = 150

/** memoryFigures once the engine's INFO sample has caught up with what just happened. */
export async function settledMemoryFigures(db: Engine): Promise<MemoryFigures> {
  if (reportingOf(db).infoObject !== undefined) await new Promise((resolve) => setTimeout(resolve, INFO_SETTLE_MS))
  return memoryFigures(db)
}

/** MEMORY PURGE: the engine's when it has one, else the allocator's purge of every arena (the same call). */
export function purge(db: Engine): 'engine' | 'allocator' {
  const memoryPurge = reportingOf(db).memoryPurge
  if (memoryPurge !== undefined) {
    memoryPurge()
    return 'engine'
  }
  allocator.purge()
  return 'allocator'
}
