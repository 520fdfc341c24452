// The allocator comparison's workloads and sizes, shared by the parent (bench/suites/alloc.ts) and the child
// (bench/alloc.ts) without either loading the other.
import type { Scale } from './suite.js'

export const ALLOC_WORKLOADS = ['fill_evict', 'mixed', 'delete_purge', 'fragmentation'] as const
export type AllocWorkload = (typeof ALLOC_WORKLOADS)[number]

export interface AllocParams {
  workload: AllocWorkload
  scale: Scale
}

/** A workload's figures; null where the build cannot measure one (small-bin fragmentation on mimalloc). */
export type AllocFigures = Record<string, number | null>

export interface AllocSizes {
  maxmemory: number
  fillWrites: number
  mixedKeys: number
  mixedOps: number
  deleteKeys: number
  fragKeys: number
}

export const ALLOC_SIZES: Record<Scale, AllocSizes> = {
  tiny: { maxmemory: 4 << 20, fillWrites: 100_000, mixedKeys: 20_000, mixedOps: 200_000, deleteKeys: 50_000, fragKeys: 50_000 },
  small: { maxmemory: 32 << 20, fillWrites: 1_000_000, mixedKeys: 200_000, mixedOps: 2_000_000, deleteKeys: 300_000, fragKeys: 300_000 },
  full: { maxmemory: 64 << 20, fillWrites: 3_000_000, mixedKeys: 1_000_000, mixedOps: 5_000_000, deleteKeys: 1_000_000, fragKeys: 1_000_000 },
}

export interface AllocResult {
  allocator: string
  figures: AllocFigures
}
