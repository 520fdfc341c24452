import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Benches run compiled (dist/bench/*.js); children are spawned from the same directory as this module.
export const benchDir = dirname(fileURLToPath(import.meta.url))

function findRoot(): string {
  let dir = benchDir
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('bench: cannot find the package root above ' + benchDir)
    dir = parent
  }
  return dir
}

export const packageRoot = findRoot()
