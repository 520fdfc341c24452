import { allocator } from '../lib/allocator.js'
import type { Engine } from '../lib/engine.js'

// Memory figures of one engine, read from its INFO memory (Redis's field names and formulas, ARCHITECTURE.md),
// beside the whole process's RSS.

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
}

function num(v: string | number | undefined): number {
  return typeof v === 'number' ? v : Number(v)
}

export function memoryFigures(db: Engine): MemoryFigures {
  const processRss = allocator.rss() ?? process.memoryUsage.rss()
  const m = db.infoObject('memory')
  return {
    process_rss: processRss,
    used_memory_rss: num(m.used_memory_rss),
    used_memory: num(m.used_memory),
    allocator_allocated: num(m.allocator_allocated),
    allocator_active: num(m.allocator_active),
    allocator_frag_ratio: num(m.allocator_frag_ratio),
    mem_fragmentation_ratio: num(m.mem_fragmentation_ratio),
  }
}

/** INFO memory is a sample refreshed at most every 100 ms (as Redis's cron): wait past that before reading it. */
export const INFO_SETTLE_MS = 150

/** memoryFigures once the engine's INFO sample has caught up with what just happened. */
export async function settledMemoryFigures(db: Engine): Promise<MemoryFigures> {
  await new Promise((resolve) => setTimeout(resolve, INFO_SETTLE_MS))
  return memoryFigures(db)
}
