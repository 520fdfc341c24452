// Components some suites need beyond the node-gyp toolchain. On a machine without one, its suite is skipped and
// says what installs it; .ci/run installs them all, so CI runs every suite.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Whether an executable of this name is on PATH. */
export function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {
      // not in this directory
    }
  }
  return false
}

/** A suite title that says, when the component is missing, that the suite is skipped and what installs it. */
export function needs(title: string, present: boolean, command: string, debianPackage: string): string {
  return present ? title : `${title} — skipped: ${command} is not installed (apt-get install ${debianPackage} adds it)`
}

export const HAS_REDIS_SERVER = onPath('redis-server')
export const HAS_CMAKE = onPath('cmake')
export const HAS_REDIS_CLI = onPath('redis-cli')
export const HAS_REDIS_BENCHMARK = onPath('redis-benchmark')
export const HAS_REDIS_EXPORTER = onPath('prometheus-redis-exporter')
