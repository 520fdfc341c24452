// A second client process for the near-cache tests: a node-redis client (standalone or cluster) with an
// ArenaKVClientSideCache from dist/, driven by one JSON command per stdin line, answering one JSON line each.
//   argv[2]: {"path": socket} | {"port": n} | {"cluster": [ports]}
//   {"op":"set","key","value"} -> {"t0","t1"}  wall-clock ms around the SET (performance.timeOrigin + now)
//   {"op":"get","key"} -> {"value"}           through the cache
//   {"op":"stats"} -> the cache's counters;   {"op":"quit"} closes and exits
import { createInterface } from 'node:readline'
import { createClient, createCluster } from 'redis'
import { ArenaKVClientSideCache } from '../../dist/lib/redis/index.js'

const target = JSON.parse(process.argv[2])
const cache = new ArenaKVClientSideCache({ maxmemory: '16mb' })
const reconnectStrategy = () => 20
const client = target.cluster
  ? createCluster({
      rootNodes: target.cluster.map((port) => ({ socket: { host: '127.0.0.1', port, reconnectStrategy } })),
      RESP: 3,
      clientSideCache: cache,
    })
  : createClient({ socket: target.path ? { path: target.path, reconnectStrategy } : { host: '127.0.0.1', port: target.port, reconnectStrategy }, RESP: 3, clientSideCache: cache })
client.on('error', () => {})
await client.connect()
const now = () => performance.timeOrigin + performance.now()
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
out({ ready: true })
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line)
  try {
    if (cmd.op === 'set') {
      const t0 = now()
      await client.set(cmd.key, cmd.value)
      out({ t0, t1: now() })
    } else if (cmd.op === 'get') {
      out({ value: await client.get(cmd.key) })
    } else if (cmd.op === 'stats') {
      const s = cache.stats()
      out({ hits: s.hits, misses: s.misses, invalidations: s.invalidations })
    } else if (cmd.op === 'quit') {
      await client.close()
      cache.close()
      out({ bye: true })
      break
    }
  } catch (err) {
    out({ error: String(err) })
  }
}
