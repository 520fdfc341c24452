import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { allocatorNames, buildCommand, defaultBuildPath, installed, missingBuildError, prebuildPath, variantPath } from '../lib/binaries.js'
import { packageRoot } from '../lib/package-root.js'

/** Every allocator, from deps/select-malloc.js (the default first): what the alloc suite compares by default. */
export const ALLOCATORS: readonly string[] = allocatorNames
export type AllocatorName = string

export function parseAllocators(list: string): AllocatorName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  for (const n of names) {
    if (!ALLOCATORS.includes(n)) {
      throw new RangeError(`unknown allocator '${n}' (one of ${ALLOCATORS.join(', ')})`)
    }
  }
  if (names.length === 0) throw new RangeError('no allocator named')
  return [...new Set(names)]
}

/**
 * Builds the development checkout's variants that are missing (deps/build-variant.js). A variant that exists but
 * is older than the native sources is used as it is, with a warning: rebuilding the default allocator runs
 * node-gyp in the shared build/, which must not happen under someone else's feet (npm run build:variants
 * refreshes them all).
 */
function ensureVariants(names: readonly AllocatorName[], log: (line: string) => void): void {
  const missing = names.filter((n) => !existsSync(variantPath(n)))
  if (missing.length > 0) {
    log(`building missing allocator builds: ${missing.join(', ')}`)
    execFileSync(process.execPath, [join(packageRoot, 'deps', 'build-variant.js'), ...missing], {
      cwd: packageRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    })
  }
  for (const n of names) {
    if (!existsSync(variantPath(n))) throw new Error(`allocator build ${n} is missing after building it`)
  }
  const nativeDir = join(packageRoot, 'native')
  const newestSource = Math.max(...readdirSync(nativeDir).map((f) => statSync(join(nativeDir, f)).mtimeMs))
  const stale = names.filter((n) => statSync(variantPath(n)).mtimeMs < newestSource)
  if (stale.length > 0) {
    log(`warning: ${stale.join(', ')} built before the latest native/ change; \`npm run build:variants\` refreshes them`)
  }
}

export interface AllocatorBuilds {
  /** The binary of each allocator the bench can run, in the order asked. */
  binaries: Map<AllocatorName, string>
  /** One sentence per allocator left out, saying what builds it. */
  skipped: string[]
}

/**
 * The binary of each allocator for the bench's children. A development checkout uses its variant builds
 * (build-variants/, built when missing); an installed package uses its prebuilds and never compiles. There, an
 * allocator the user named that has no prebuild is an error; one that was only part of the default list is left
 * out, and the report says so.
 */
export function resolveBuilds(names: readonly AllocatorName[], named: boolean, log: (line: string) => void): AllocatorBuilds {
  const binaries = new Map<AllocatorName, string>()
  const skipped: string[] = []
  if (!installed) {
    ensureVariants(names, log)
    for (const n of names) binaries.set(n, variantPath(n))
    return { binaries, skipped }
  }
  // A source build (build/Release) says which allocator it is only once loaded: the runner's probe checks it.
  const local = existsSync(defaultBuildPath) ? defaultBuildPath : null
  for (const n of names) {
    const path = prebuildPath(n) ?? local
    if (path !== null) binaries.set(n, path)
    else if (named) throw missingBuildError(n)
    else skipped.push(missingNote(n))
  }
  if (binaries.size === 0) throw missingBuildError(names[0])
  return { binaries, skipped }
}

/** The report's sentence for an allocator of the default list that has no build here. */
export function missingNote(name: AllocatorName): string {
  return `${name} is left out: this package has no ${name} build for ${process.platform}-${process.arch} (\`${buildCommand(name)}\` builds one).`
}

/**
 * The environment a child needs to load one allocator's build. Every allocator is the engine's private heap
 * linked into its build (ARCHITECTURE.md, "Allocators and builds"): nothing is preloaded, Node's own heap stays
 * glibc's.
 */
export function variantEnv(binary: string): Record<string, string> {
  return { ARENAKV_BINARY: binary }
}
