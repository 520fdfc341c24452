// Child processes for tests, run asynchronously: a synchronous spawn that blocks a vitest worker for a minute
// makes its RPC to the main process time out ("Timeout calling onTaskUpdate") even when every test passes.
import { spawn, type SpawnOptions } from 'node:child_process'

export interface RunResult {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export function run(command: string, args: readonly string[], options: SpawnOptions & { timeout?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = options.timeout ? setTimeout(() => child.kill('SIGKILL'), options.timeout) : undefined
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (status, signal) => {
      clearTimeout(timer)
      resolve({ status, signal, stdout, stderr })
    })
  })
}

/** Like run, but rejects with the output when the command does not exit 0. */
export async function runOk(command: string, args: readonly string[], options: SpawnOptions & { timeout?: number } = {}): Promise<string> {
  const r = await run(command, args, options)
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`)
  }
  return r.stdout
}
