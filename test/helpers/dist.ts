import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runOk } from './run.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Compiles lib/, bench/ and cli/ (tsc) unless every dist/ file is already newer than its source: the CLI and the
 * benches run from dist/, and test files run in parallel, so an up-to-date dist/ (as `npm install` leaves it)
 * is not rewritten under another test's feet.
 */
export async function ensureDist(): Promise<void> {
  const stale = ['lib', 'bench', 'cli'].some((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .some((f) => {
        const js = join(root, 'dist', dir, f.replace(/\.ts$/, '.js'))
        return !existsSync(js) || statSync(js).mtimeMs < statSync(join(root, dir, f)).mtimeMs
      }),
  )
  if (stale) await runOk(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, timeout: 120_000 })
}
