// A minimal RESP2 client over a Unix socket, for tests that compare the engine with a real redis-server: one
// command at a time, replies parsed into strings (bulk, status), numbers (integers), arrays, null and errors.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Integers are bigints (int64 replies exactly); bulk strings are latin1 (one char per byte). */
export type Reply = string | bigint | null | Reply[] | { error: string }

/** Parses one reply from buf at pos; undefined when the buffer does not hold all of it yet. */
function parse(buf: Buffer, pos: number): [Reply, number] | undefined {
  const eol = buf.indexOf('\r\n', pos)
  if (eol < 0) return undefined
  const type = String.fromCharCode(buf[pos])
  const line = buf.toString('latin1', pos + 1, eol)
  const next = eol + 2
  switch (type) {
    case '+':
      return [line, next]
    case '-':
      return [{ error: line }, next]
    case ':':
      return [BigInt(line), next]
    case '$': {
      const n = Number(line)
      if (n < 0) return [null, next]
      if (buf.length < next + n + 2) return undefined
      return [buf.toString('latin1', next, next + n), next + n + 2]
    }
    case '*': {
      const n = Number(line)
      if (n < 0) return [null, next]
      const out: Reply[] = []
      let at = next
      for (let i = 0; i < n; i++) {
        const r = parse(buf, at)
        if (r === undefined) return undefined
        out.push(r[0])
        at = r[1]
      }
      return [out, at]
    }
    default:
      throw new Error(`unexpected RESP type ${type}`)
  }
}

export class RespClient {
  private buf = Buffer.alloc(0)
  private waiting: Array<(r: Reply) => void> = []

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk])
      for (;;) {
        const r = this.waiting.length > 0 ? parse(this.buf, 0) : undefined
        if (r === undefined) break
        this.buf = this.buf.subarray(r[1])
        this.waiting.shift()?.(r[0])
      }
    })
  }

  static connect(path: string): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new RespClient(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends one command (arguments as latin1 bytes) and waits for its reply. */
  call(...args: Array<string | number | bigint>): Promise<Reply> {
    const parts = [`*${args.length}\r\n`]
    for (const a of args) {
      const s = String(a)
      parts.push(`$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`)
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.socket.write(Buffer.from(parts.join(''), 'latin1'))
    })
  }

  close(): void {
    this.socket.destroy()
  }
}

/** A redis-server on a Unix socket in a temp dir, without persistence; stop() kills it and removes the dir. */
export async function startRedis(): Promise<{ client: RespClient; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'arenakv-redis-'))
  const sock = join(dir, 'redis.sock')
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  )
  let client: RespClient | undefined
  for (let i = 0; i < 100 && client === undefined; i++) {
    try {
      client = await RespClient.connect(sock)
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  if (client === undefined) {
    child.kill()
    throw new Error('redis-server did not start')
  }
  const c = client
  return {
    client: c,
    stop: () => {
      c.close()
      child.kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
