import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ArenaKVError } from './errors.js'
import { packageRoot } from './package-root.js'

// Where the addon for each allocator lives (ARCHITECTURE.md, "Allocators and builds"): the package ships one
// prebuild per allocator, prebuilds/<platform>-<arch>/arenakv.<allocator>.<libc>.node, and a development
// checkout has build/Release (what `npm install` built) and build-variants/<allocator>/ (deps/build-variant.js).
// This module only finds files; lib/native.ts loads one.

/** The allocator the loader picks when ARENAKV_MALLOC is not set (as Redis's `make` defaults to jemalloc). */
export const DEFAULT_ALLOCATOR = 'jemalloc'

/** Every allocator arenakv can be built with, in deps/select-malloc.js's order (the one list; the default first). */
export const allocatorNames: readonly string[] = await readAllocatorNames()

async function readAllocatorNames(): Promise<readonly string[]> {
  const url = pathToFileURL(join(packageRoot, 'deps', 'select-malloc.js')).href
  const mod = (await import(url)) as { ALLOCATORS?: unknown }
  const list = mod.ALLOCATORS
  if (!Array.isArray(list) || !list.every((n): n is string => typeof n === 'string')) {
    throw new Error(`arenakv: ${url} exports no ALLOCATORS list`)
  }
  return Object.freeze([...list])
}

interface PrebuildTags {
  file: string
}

interface NodeGypBuild {
  parseTags(file: string): PrebuildTags | undefined
  matchTags(runtime: string, abi: string): (tags: PrebuildTags | undefined) => boolean
}

// node-gyp-build's own tag matching (libc, armv, uv, napi), so a prebuild is accepted exactly when node-gyp-build
// would accept it; the allocator is one more dot-separated part of the name, which node-gyp-build ignores.
const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild

/** Where the builds of one arenakv package are (its root directory decides everything). */
export interface BuildLayout {
  root: string
  /** prebuilds/<platform>-<arch> (node-gyp-build's naming). */
  prebuildDir: string
  /** build/Release/arenakv.node: what `npm install` (or `npm run build:native`) built from source. */
  defaultBuildPath: string
  /** True for an installed dependency (inside node_modules), false for a development checkout. */
  installed: boolean
  /** The prebuild of `allocator` that this process can load, or null. */
  prebuildPath(allocator: string): string | null
  /** build-variants/<allocator>/arenakv.node, a development checkout's build of one allocator. */
  variantPath(allocator: string): string
  /** The command that builds `allocator` there. */
  buildCommand(allocator: string): string
}

export function buildLayout(root: string): BuildLayout {
  const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`)
  const installed = root.split(sep).includes('node_modules')
  return {
    root,
    prebuildDir,
    defaultBuildPath: join(root, 'build', 'Release', 'arenakv.node'),
    installed,
    prebuildPath(allocator) {
      let files: string[]
      try {
        files = readdirSync(prebuildDir)
      } catch {
        return null
      }
      const match = nodeGypBuild.matchTags('node', process.versions.modules)
      const file = files.find((f) => f.startsWith('arenakv.') && f.split('.')[1] === allocator && match(nodeGypBuild.parseTags(f)))
      return file === undefined ? null : join(prebuildDir, file)
    },
    variantPath: (allocator) => join(root, 'build-variants', allocator, 'arenakv.node'),
    buildCommand: (allocator) =>
      installed ? `ARENAKV_MALLOC=${allocator} npm rebuild arenakv --build-from-source` : `node deps/build-variant.js ${allocator}`,
  }
}

/** This package's builds. */
export const layout: BuildLayout = buildLayout(packageRoot)
export const installed: boolean = layout.installed
export const defaultBuildPath: string = layout.defaultBuildPath
export const prebuildPath = (allocator: string): string | null => layout.prebuildPath(allocator)
export const variantPath = (allocator: string): string => layout.variantPath(allocator)
export const buildCommand = (allocator: string): string => layout.buildCommand(allocator)

export interface Binary {
  path: string
  /** Set when the file's allocator is only known once loaded: the loader checks it is this one. */
  expect: string | null
}

/**
 * The addon file to load for ARENAKV_MALLOC (`asked`; undefined or '' for the default). Without ARENAKV_MALLOC,
 * build/Release comes first, as node-gyp-build has it: a source build is the user's choice of allocator. With it,
 * the allocator's variant build (a checkout's), then its prebuild, then build/Release if that is the allocator's
 * build. PREBUILDS_ONLY=1 (node-gyp-build's switch) considers prebuilds alone.
 * Throws a one-line ArenaKVError (ERR_CONFIG for a name that is no allocator, ERR_NO_BUILD for a missing build).
 */
export function resolveBinary(asked: string | undefined, env: NodeJS.ProcessEnv = process.env, at: BuildLayout = layout): Binary {
  const name = asked?.trim() ?? ''
  if (name !== '' && !allocatorNames.includes(name)) {
    throw new ArenaKVError('ERR_CONFIG', `ARENAKV_MALLOC=${name} is not an allocator arenakv has (one of ${allocatorNames.join(', ')})`)
  }
  const allocator = name === '' ? DEFAULT_ALLOCATOR : name
  const prebuildsOnly = Boolean(env.PREBUILDS_ONLY)
  if (name === '' && !prebuildsOnly && existsSync(at.defaultBuildPath)) return { path: at.defaultBuildPath, expect: null }
  // A checkout's variant build comes before a prebuild: `npm test` keeps the variants fresh, while prebuilds/ holds
  // whatever `npm run prebuilds` last made. An installed package has no build-variants/.
  if (!prebuildsOnly && existsSync(at.variantPath(allocator))) return { path: at.variantPath(allocator), expect: null }
  const prebuild = at.prebuildPath(allocator)
  if (prebuild !== null) return { path: prebuild, expect: null }
  if (!prebuildsOnly && existsSync(at.defaultBuildPath)) return { path: at.defaultBuildPath, expect: allocator }
  throw missingBuildError(allocator, undefined, at)
}

/** The one-line answer for an allocator with no build here: what is missing and the command that builds it. */
export function missingBuildError(allocator: string, detail?: string, at: BuildLayout = layout): ArenaKVError {
  const shipped = allocatorNames.filter((a) => at.prebuildPath(a) !== null)
  const where = `${process.platform}-${process.arch}`
  const has = shipped.length === 0 ? `no prebuilds for ${where}` : `prebuilds for ${where} of ${shipped.join(', ')} only`
  const local = at.installed ? 'no local build' : `no ${join('build-variants', allocator)} build`
  return new ArenaKVError(
    'ERR_NO_BUILD',
    `no ${allocator} build of arenakv: ${has}, ${local}${detail === undefined ? '' : `, ${detail}`}; build it with \`${at.buildCommand(allocator)}\``,
  )
}
