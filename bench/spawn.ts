import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { PARAMS_ENV, RESULT_MARKER } from './child.js'
import { benchDir } from './paths.js'

export interface ChildOptions {
  /** Extra environment (ARENAKV_BINARY, LD_PRELOAD…). */
  env?: Record<string, string>
  /** Prefix of the child's forwarded progress lines. */
  label: string
  log: (line: string) => void
  /** The child is killed after this long (every bench loop is bounded; this bounds a hung one too). */
  timeoutMs?: number
}

const children = new Set<import('node:child_process').ChildProcess>()
let exitHookInstalled = false

function killChildrenOnExit(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL')
  })
}

/**
 * Runs dist/bench/<script>.js in a fresh Node process (with --expose-gc) and returns the JSON result it prints.
 * stderr lines are progress, forwarded with the label; a non-zero exit or a missing result is an error.
 */
export function runChildScript<R>(script: string, params: unknown, options: ChildOptions): Promise<R> {
  killChildrenOnExit()
  const file = join(benchDir, `${script}.js`)
  const child = spawn(process.execPath, ['--expose-gc', file], {
    env: { ...process.env, ...options.env, [PARAMS_ENV]: JSON.stringify(params) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderrTail = ''
  let pending = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000)
    pending += chunk
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      if (line.trim().length > 0) options.log(`  [${options.label}] ${line}`)
    }
  })
  const timeoutMs = options.timeoutMs ?? 30 * 60_000
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${options.label}: ${script} timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      children.delete(child)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      const at = stdout.lastIndexOf(RESULT_MARKER)
      if (code !== 0 || at < 0) {
        reject(new Error(`${options.label}: ${script} exited with ${signal ?? code}\n${stderrTail}`))
        return
      }
      const line = stdout.slice(at + RESULT_MARKER.length).split('\n', 1)[0]
      try {
        resolve(JSON.parse(line) as R)
      } catch (err) {
        reject(new Error(`${options.label}: ${script} printed an unreadable result: ${String(err)}`))
      }
    })
  })
}
