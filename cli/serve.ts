// `arenakv serve`: a standalone engine behind the RESP endpoint, for redis-cli, Redis clients, redis-benchmark
// and exporters. Exits cleanly (engine closed, socket removed) on SIGINT or SIGTERM.
import { Engine } from '../lib/engine.js'
import type { EngineOptions, MaxmemoryAccounting, MaxmemoryPolicy } from '../lib/config.js'
import type { RespListener } from '../lib/server/server.js'

export interface ServeOptions {
  port: number
  bind: string
  unixsocket?: string
  maxmemory: string
  maxmemoryPolicy: MaxmemoryPolicy
  /** What maxmemory bounds (EngineOptions.maxmemoryAccounting); 'allocated' when not given. */
  maxmemoryAccounting?: MaxmemoryAccounting
  requirepass?: string
  out?: NodeJS.WritableStream
}

export async function runServe(opts: ServeOptions): Promise<void> {
  const out = opts.out ?? process.stdout
  const engineOptions: EngineOptions = { maxmemory: opts.maxmemory, maxmemoryPolicy: opts.maxmemoryPolicy }
  if (opts.maxmemoryAccounting !== undefined) engineOptions.maxmemoryAccounting = opts.maxmemoryAccounting
  const db = new Engine(engineOptions)
  const listeners: RespListener[] = []
  try {
    if (opts.port !== 0) listeners.push(await db.listen({ port: opts.port, host: opts.bind, requirepass: opts.requirepass }))
    if (opts.unixsocket !== undefined) listeners.push(await db.listen({ path: opts.unixsocket, requirepass: opts.requirepass }))
    if (listeners.length === 0) throw new Error('nothing to listen on: --port 0 needs --unixsocket')
  } catch (error) {
    db.close()
    throw error
  }
  for (const l of listeners) {
    const where = l.address.path ?? `${l.address.host}:${l.address.port}`
    const accounting = opts.maxmemoryAccounting === 'resident' ? ', resident accounting' : ''
    out.write(`arenakv: serving on ${where} (maxmemory ${opts.maxmemory}, ${opts.maxmemoryPolicy}${accounting})\n`)
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      out.write(`arenakv: ${signal}, shutting down\n`)
      void Promise.all(listeners.map((l) => l.close())).then(() => {
        db.close()
        resolve()
      })
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
