import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from './paths.js'

export const ALLOCATORS = ['jemalloc', 'tcmalloc', 'libc'] as const
export type AllocatorName = (typeof ALLOCATORS)[number]

/** gperftools supports tcmalloc only when preloaded for the whole process (DESIGN §2): benches use that mode. */
export const TCMALLOC_PRELOAD = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4'

export function parseAllocators(list: string): AllocatorName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  for (const n of names) {
    if (!(ALLOCATORS as readonly string[]).includes(n)) {
      throw new RangeError(`unknown allocator '${n}' (one of ${ALLOCATORS.join(', ')})`)
    }
  }
  if (names.length === 0) throw new RangeError('no allocator named')
  return [...new Set(names)] as AllocatorName[]
}

export function variantBinary(name: AllocatorName): string {
  return join(packageRoot, 'build-variants', name, 'arenakv.node')
}

/**
 * Builds the variants that are missing or older than the native sources (deps/build-variant.js --if-stale; it
 * builds non-default allocators in a scratch copy, so the shared build/ is not replaced by another allocator).
 */
export function ensureVariants(names: readonly AllocatorName[], log: (line: string) => void): void {
  log(`checking allocator builds: ${names.join(', ')}`)
  execFileSync(process.execPath, [join(packageRoot, 'deps', 'build-variant.js'), '--if-stale', ...names], {
    cwd: packageRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  for (const n of names) {
    if (!existsSync(variantBinary(n))) throw new Error(`allocator build ${n} is missing after building it`)
  }
}

/** The environment a child needs to load one allocator's build. */
export function variantEnv(name: AllocatorName): Record<string, string> {
  const env: Record<string, string> = { ARENAKV_BINARY: variantBinary(name) }
  if (name === 'tcmalloc' && existsSync(TCMALLOC_PRELOAD)) env.LD_PRELOAD = TCMALLOC_PRELOAD
  return env
}
