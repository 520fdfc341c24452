// A RESP test client written independently of lib/server: it sends requests as bytes and parses replies
// (RESP2 and RESP3) into plain values, keeping the raw bytes of each reply for byte-exact comparisons.
import net from 'node:net'

export type Reply =
  | string
  | number
  | bigint
  | boolean
  | null
  | Buffer
  | Reply[]
  | { error: string }
  | { map: [Reply, Reply][] }
  | { set: Reply[] }
  | { double: string }
  | { verbatim: string }

/** Parses one reply at `pos`; null when `buf` does not hold all of it yet. */
export function parseReply(buf: Buffer, pos: number): { value: Reply; end: number } | null {
  if (pos >= buf.length) return null
  const cr = buf.indexOf('\r\n', pos)
  if (cr < 0) return null
  const type = String.fromCharCode(buf[pos])
  const line = buf.toString('latin1', pos + 1, cr)
  const after = cr + 2
  const aggregate = (n: number, start: number): { items: Reply[]; end: number } | null => {
    const items: Reply[] = []
    let p = start
    for (let i = 0; i < n; i++) {
      const r = parseReply(buf, p)
      if (r === null) return null
      items.push(r.value)
      p = r.end
    }
    return { items, end: p }
  }
  switch (type) {
    case '+':
      return { value: line, end: after }
    case '-':
      return { value: { error: line }, end: after }
    case ':': {
      const n = BigInt(line)
      return { value: n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n, end: after }
    }
    case '_':
      return { value: null, end: after }
    case '#':
      return { value: line === 't', end: after }
    case ',':
      return { value: { double: line }, end: after }
    case '$':
    case '=': {
      const n = Number(line)
      if (n < 0) return { value: null, end: after }
      if (buf.length < after + n + 2) return null
      const body = buf.subarray(after, after + n)
      return { value: type === '$' ? Buffer.from(body) : { verbatim: body.toString('utf8') }, end: after + n + 2 }
    }
    case '*':
    case '~': {
      const n = Number(line)
      if (n < 0) return { value: null, end: after }
      const r = aggregate(n, after)
      if (r === null) return null
      return { value: type === '*' ? r.items : { set: r.items }, end: r.end }
    }
    case '%': {
      const r = aggregate(2 * Number(line), after)
      if (r === null) return null
      const map: [Reply, Reply][] = []
      for (let i = 0; i < r.items.length; i += 2) map.push([r.items[i], r.items[i + 1]])
      return { value: { map }, end: r.end }
    }
    default:
      throw new Error(`unexpected reply type ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('latin1', pos, pos + 40))}`)
  }
}

/** A request in RESP's multibulk form. */
export function encodeRequest(args: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)]
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : Buffer.from(a)
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

export type Address = { port: number; host?: string } | { path: string }

/** One connection; replies are matched to requests in order. */
export class RespClient {
  private input = Buffer.alloc(0)
  private waiting: { resolve: (r: { value: Reply; raw: Buffer }) => void; reject: (e: Error) => void }[] = []
  private ended = false
  readonly closed: Promise<void>

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.input = this.input.length === 0 ? d : Buffer.concat([this.input, d])
      this.drain()
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true
        for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed'))
        resolve()
      })
    })
    socket.on('error', () => {})
  }

  static connect(address: Address): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = 'path' in address ? net.connect(address.path) : net.connect(address.port, address.host ?? '127.0.0.1')
      socket.once('connect', () => resolve(new RespClient(socket)))
      socket.once('error', reject)
    })
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const r = parseReply(this.input, 0)
      if (r === null) return
      const raw = this.input.subarray(0, r.end)
      this.input = this.input.subarray(r.end)
      this.waiting.shift()!.resolve({ value: r.value, raw })
    }
  }

  private expect(): Promise<{ value: Reply; raw: Buffer }> {
    if (this.ended) return Promise.reject(new Error('connection closed'))
    const p = new Promise<{ value: Reply; raw: Buffer }>((resolve, reject) => this.waiting.push({ resolve, reject }))
    this.drain()
    return p
  }

  /** Sends one command; its reply. */
  async call(...args: (string | Uint8Array)[]): Promise<Reply> {
    return (await this.callRaw(...args)).value
  }

  async callRaw(...args: (string | Uint8Array)[]): Promise<{ value: Reply; raw: Buffer }> {
    const reply = this.expect()
    this.socket.write(encodeRequest(args))
    return reply
  }

  /** Sends bytes as they are and waits for `replies` replies. */
  async raw(bytes: string | Buffer, replies: number): Promise<{ value: Reply; raw: Buffer }[]> {
    const pending = Array.from({ length: replies }, () => this.expect())
    this.socket.write(bytes)
    return Promise.all(pending)
  }

  /** Bytes received and not matched to a request. */
  get unread(): Buffer {
    return this.input
  }

  close(): void {
    this.socket.destroy()
  }
}

/** Replies as plain JSON-able values for readable assertions: Buffers as strings. */
export function plain(r: Reply): unknown {
  if (Buffer.isBuffer(r)) return r.toString('utf8')
  if (Array.isArray(r)) return r.map(plain)
  if (typeof r === 'bigint') return r.toString()
  if (r !== null && typeof r === 'object') {
    if ('map' in r) return Object.fromEntries(r.map.map(([k, v]) => [String(plain(k)), plain(v)]))
    if ('set' in r) return r.set.map(plain)
    return r
  }
  return r
}
