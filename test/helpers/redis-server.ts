// A redis-server for differential tests: on a Unix socket in a temp directory (no TCP port), persistence off,
// stopped by stop() or when the test process exits.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RedisServer {
  path: string
  stop(): Promise<void>
}

export async function startRedisServer(args: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'arenakv-redis-'))
  const path = join(dir, 'redis.sock')
  const child = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', path, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const kill = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', kill)
  for (let i = 0; i < 200 && !existsSync(path); i++) {
    if (child.exitCode !== null) break
    await sleep(25)
  }
  // The socket file appears at bind, before redis-server accepts: wait until a connection succeeds.
  let accepting = false
  for (let i = 0; i < 200 && !accepting && child.exitCode === null; i++) {
    accepting = await new Promise<boolean>((resolve) => {
      const s = net.connect(path, () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (!accepting) await sleep(25)
  }
  if (!accepting) {
    kill()
    throw new Error(`redis-server did not start: ${stderr}`)
  }
  return {
    path,
    stop: async () => {
      process.off('exit', kill)
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
