import { ExpirySchedule, type BacklogSample } from '../backlog.js'
// Type-only import: the child module runs its workload when loaded.
import type { ExpiryParams, ExpiryResult } from '../expiry.js'
import type { Cell } from '../output.js'
import { missingPeerNote } from '../peers.js'
import { pipelined, withRedis } from '../redis.js'
import { Rng } from '../rng.js'
import { lines, type LinePoint } from '../specs.js'
import type { Scale, Suite, SuiteContext } from '../suite.js'

const PLAN: Record<Scale, ExpiryParams> = {
  tiny: { keys: 20_000, ttlMinMs: 300, ttlMaxMs: 1000, graceMs: 10_000 },
  small: { keys: 200_000, ttlMinMs: 1000, ttlMaxMs: 5000, graceMs: 20_000 },
  full: { keys: 1_000_000, ttlMinMs: 1000, ttlMaxMs: 5000, graceMs: 30_000 },
}
/** Goals: last key gone within 2 s of the last expiry; no cycle longer than its limit + 1 ms. */
const GOAL_GONE_MS = 2000

interface RedisExpiry {
  lastKeyGoneAfterMs: number | null
  remainingKeys: number
  backlogPeak: number
  samples: BacklogSample[]
  fillSeconds: number
}

async function redisExpiry(ctx: SuiteContext, p: ExpiryParams): Promise<RedisExpiry> {
  return withRedis({ maxmemory: 0, policy: 'noeviction' }, async ({ client }) => {
    const rng = new Rng(5)
    const value = 'd'.repeat(100)
    const expireAt = new Float64Array(p.keys)
    const t0 = performance.now()
    await pipelined(client, p.keys, (i) => {
      const ttl = p.ttlMinMs + rng.int(p.ttlMaxMs - p.ttlMinMs + 1)
      expireAt[i] = Date.now() + ttl
      return ['SET', `key:${i}`, value, 'PX', ttl]
    })
    const fillSeconds = (performance.now() - t0) / 1000
    const schedule = new ExpirySchedule(expireAt)
    const samples: BacklogSample[] = []
    let goneAt: number | null = null
    let present = p.keys
    let lastLog = 0
    while (Date.now() < schedule.lastExpiry + p.graceMs) {
      const now = Date.now()
      present = Number(await client.call('DBSIZE'))
      samples.push({ t: now - schedule.lastExpiry, present, backlog: schedule.backlog(present, now) })
      if (present === 0) {
        goneAt = now
        break
      }
      if (now - lastLog > 1000) {
        lastLog = now
        ctx.log(`  [redis-server] ${present.toLocaleString('en-US')} keys left`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    return {
      lastKeyGoneAfterMs: goneAt === null ? null : goneAt - schedule.lastExpiry,
      remainingKeys: present,
      backlogPeak: Math.max(0, ...samples.map((s) => s.backlog)),
      samples,
      fillSeconds,
    }
  })
}

export const expirySuite: Suite = {
  name: 'expiry',
  title: 'Active expiry at scale: TTLs uniform, no reads',
  description: 'time from the last expiry to the last key gone, backlog over time, longest cycle; beside redis-server',
  async run(ctx) {
    const p = PLAN[ctx.scale]
    const build = ctx.allocators[0]
    ctx.log(`  arenakv: ${p.keys.toLocaleString('en-US')} keys, TTL ${p.ttlMinMs}–${p.ttlMaxMs} ms`)
    const a = await ctx.child<ExpiryResult>('expiry', p, build, 'arenakv')
    // redis-server is an optional peer: without it the suite measures arenakv alone.
    const hasRedis = await ctx.peer('redis-server')
    if (hasRedis) ctx.log(`  redis-server: the same`)
    const r = hasRedis ? await redisExpiry(ctx, p) : null
    const points: LinePoint[] = [
      ...a.samples.map((s) => ({ x: s.t / 1000, y: s.backlog, series: 'arenakv' })),
      ...(r?.samples ?? []).map((s) => ({ x: s.t / 1000, y: s.backlog, series: 'redis-server' })),
    ]
    const gone = (ms: number | null): string | number => (ms === null ? 'not within the wait' : ms / 1000)
    const cycleLimit = a.slowCycleLimitMs + 1
    return {
      suite: 'expiry',
      title: this.title,
      allocators: [await ctx.allocatorEnv(build)],
      tables: [
        {
          title: `${p.keys.toLocaleString('en-US')} keys × 100 B, TTL uniform ${p.ttlMinMs / 1000}–${p.ttlMaxMs / 1000} s, hz ${a.hz}`,
          columns: ['peer', 'last key gone after last expiry, s', 'backlog peak (keys)', 'keys left', 'fill s'],
          rows: [
            ['arenakv', gone(a.lastKeyGoneAfterMs), a.backlogPeak, a.remainingKeys, a.fillSeconds],
            ...(r === null ? [] : [['redis-server', gone(r.lastKeyGoneAfterMs), r.backlogPeak, r.remainingKeys, r.fillSeconds] as Cell[]]),
          ],
        },
        {
          title: 'arenakv expire cycle (no other work on the event loop while it ran)',
          columns: ['figure', 'value'],
          rows: [
            ['event-loop delay max, ms', a.loopDelayMaxMs],
            ['event-loop delay p99, ms', a.loopDelayP99Ms],
            ['slow cycle limit, ms', a.slowCycleLimitMs],
            ['fast cycle limit, ms', a.fastCycleLimitMs],
            ['expired_time_cap_reached_count', a.timeCapReached],
            ['expired_keys', a.expiredKeys],
          ],
        },
      ],
      charts: [{ name: 'backlog', title: 'Expired keys still present over time', spec: lines('Backlog: keys present past their expire time', 's since the last expire time', 'keys', points) }],
      notes: [
        `Goal: last key gone within ${GOAL_GONE_MS / 1000} s of the last expiry: arenakv ${gone(a.lastKeyGoneAfterMs)} s ` +
          `(${a.lastKeyGoneAfterMs !== null && a.lastKeyGoneAfterMs <= GOAL_GONE_MS ? 'met' : 'not met'})` +
          (r === null ? '.' : `; redis-server ${gone(r.lastKeyGoneAfterMs)} s in the same run.`),
        `The engine exposes no per-cycle duration (only expired_time_cap_reached_count), so the longest cycle is bounded from above by the ` +
          `event loop's longest delay while nothing else ran: ${a.loopDelayMaxMs.toFixed(1)} ms against a limit + 1 ms of ${cycleLimit} ms ` +
          `(${a.loopDelayMaxMs <= cycleLimit ? 'within' : 'over; the delay also includes timer jitter and GC'}).`,
        ...(hasRedis ? [] : [missingPeerNote('redis-server')]),
      ],
      data: { params: p, arenakv: a, redis: r },
    }
  },
}
