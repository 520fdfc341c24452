import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

interface PackageJson {
  name?: string
  version?: string
}

// lib/ runs from source (tests), from dist/lib/ (the package) and from node_modules/arenakv/dist/lib/ (a
// dependency): the root is the nearest directory above this module whose package.json names arenakv.
function findPackageRoot(): { root: string; version: string } {
  const start = dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; ) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson
      if (pkg.name === 'arenakv') return { root: dir, version: typeof pkg.version === 'string' ? pkg.version : '0.0.0' }
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`arenakv: no package.json named arenakv above ${start}`)
    dir = parent
  }
}

const found = findPackageRoot()

/** The arenakv package's root directory: package.json, binding.gyp, build/, prebuilds/, deps/. */
export const packageRoot: string = found.root
/** The version in the package's package.json. */
export const packageVersion: string = found.version
