import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../lib/package-root.js'

export const ALLOCATORS = ['jemalloc', 'tcmalloc', 'libc'] as const
export type AllocatorName = (typeof ALLOCATORS)[number]

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
 * Builds the variants that are missing (deps/build-variant.js). A variant that exists but is older than the
 * native sources is used as it is, with a warning: rebuilding the default allocator runs node-gyp in the shared
 * build/, which must not happen under someone else's feet (npm run build:variants refreshes them all).
 */
export function ensureVariants(names: readonly AllocatorName[], log: (line: string) => void): void {
  const missing = names.filter((n) => !existsSync(variantBinary(n)))
  if (missing.length > 0) {
    log(`building missing allocator builds: ${missing.join(', ')}`)
    execFileSync(process.execPath, [join(packageRoot, 'deps', 'build-variant.js'), ...missing], {
      cwd: packageRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    })
  }
  for (const n of names) {
    if (!existsSync(variantBinary(n))) throw new Error(`allocator build ${n} is missing after building it`)
  }
  const nativeDir = join(packageRoot, 'native')
  const newestSource = Math.max(...readdirSync(nativeDir).map((f) => statSync(join(nativeDir, f)).mtimeMs))
  const stale = names.filter((n) => statSync(variantBinary(n)).mtimeMs < newestSource)
  if (stale.length > 0) {
    log(`warning: ${stale.join(', ')} built before the latest native/ change; \`npm run build:variants\` refreshes them`)
  }
}

/**
 * The environment a child needs to load one allocator's build. Every allocator is the engine's private heap
 * linked into its build (ARCHITECTURE.md, "Allocators"): nothing is preloaded, Node's own heap stays glibc's.
 */
export function variantEnv(name: AllocatorName): Record<string, string> {
  return { ARENAKV_BINARY: variantBinary(name) }
}
