// Drives test/scripts/nearcache-peer.mjs: another process with its own node-redis client and ArenaKVClientSideCache.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../scripts/nearcache-peer.mjs', import.meta.url))

export type PeerTarget = { path: string } | { port: number } | { cluster: number[] }

export interface Peer {
  request<T = Record<string, unknown>>(cmd: Record<string, unknown>): Promise<T>
  close(): Promise<void>
}

export async function startPeer(target: PeerTarget): Promise<Peer> {
  const child: ChildProcess = spawn(process.execPath, [script, JSON.stringify(target)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const kill = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', kill)
  const waiting: Array<{ resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }> = []
  const lines = createInterface({ input: child.stdout! })
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line) as Record<string, unknown>))
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`peer exited ${code}: ${stderr}`))
  })
  const next = (): Promise<Record<string, unknown>> => new Promise((resolve, reject) => waiting.push({ resolve, reject }))
  const timed = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`peer: no answer to ${what}: ${stderr}`)), 30_000).unref())])
  const ready = await timed(next(), 'start')
  if (ready.ready !== true) throw new Error(`peer did not start: ${JSON.stringify(ready)} ${stderr}`)
  return {
    async request<T>(cmd: Record<string, unknown>): Promise<T> {
      const answer = next()
      child.stdin!.write(JSON.stringify(cmd) + '\n')
      const a = await timed(answer, String(cmd.op))
      if (typeof a.error === 'string') throw new Error(`peer ${String(cmd.op)}: ${a.error}`)
      return a as T
    },
    async close() {
      process.off('exit', kill)
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      try {
        child.stdin!.write(JSON.stringify({ op: 'quit' }) + '\n')
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())])
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL')
      }
    },
  }
}
