// Child of the expiry suite: N keys with TTLs uniform in [ttlMin, ttlMax] ms and no reads; the active expire
// cycle alone must remove them. Samples the backlog every 100 ms and the event-loop delay throughout.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { ExpirySchedule, type BacklogSample } from './backlog.js'
import { progressReporter, runChild, sleep } from './child.js'
import { Rng } from './rng.js'

export interface ExpiryParams {
  keys: number
  ttlMinMs: number
  ttlMaxMs: number
  /** Give up this long after the last expiry time (bounded wait). */
  graceMs: number
}

export interface ExpiryResult {
  keys: number
  fillSeconds: number
  /** ms from the last key's expire time until dbsize() was 0 (null if keys remained when the wait ended). */
  lastKeyGoneAfterMs: number | null
  remainingKeys: number
  backlogPeak: number
  samples: BacklogSample[]
  /** Event-loop delay while only the expire cycle ran: an upper bound on its longest cycle. */
  loopDelayMaxMs: number
  loopDelayP99Ms: number
  expiredKeys: number
  timeCapReached: number
  hz: number
  slowCycleLimitMs: number
  fastCycleLimitMs: number
}

const SAMPLE_MS = 100
const progress = progressReporter()

runChild<ExpiryParams, ExpiryResult>(async (p) => {
  const { Engine } = await import('../lib/engine.js')
  const { expireCycleConfig } = await import('../lib/expire.js')
  const { cronTimeLimitUs } = await import('../lib/cron.js')
  const db = new Engine()
  const value = Buffer.alloc(100, 0x64)
  const rng = new Rng(5)
  const expireAt = new Float64Array(p.keys)
  const t0 = performance.now()
  for (let i = 0; i < p.keys; i++) {
    const ttl = p.ttlMinMs + rng.int(p.ttlMaxMs - p.ttlMinMs + 1)
    expireAt[i] = Date.now() + ttl
    db.set(`key:${i}`, value, { px: ttl })
    if ((i & 0xffff) === 0) progress(`fill ${Math.round((i / p.keys) * 100)}%`)
  }
  const fillSeconds = (performance.now() - t0) / 1000
  const schedule = new ExpirySchedule(expireAt)
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const samples: BacklogSample[] = []
  let goneAt: number | null = null
  // Bounded: until every key is gone or graceMs after the last expiry time.
  while (Date.now() < schedule.lastExpiry + p.graceMs) {
    const now = Date.now()
    const present = db.dbsize()
    samples.push({ t: now - schedule.lastExpiry, present, backlog: schedule.backlog(present, now) })
    if (present === 0) {
      goneAt = now
      break
    }
    progress(`${present.toLocaleString('en-US')} keys left, backlog ${schedule.backlog(present, now).toLocaleString('en-US')}`)
    await sleep(SAMPLE_MS)
  }
  histogram.disable()
  const hz = db.config.hz
  const cycle = expireCycleConfig(db.config.activeExpireEffort)
  const result: ExpiryResult = {
    keys: p.keys,
    fillSeconds,
    lastKeyGoneAfterMs: goneAt === null ? null : goneAt - schedule.lastExpiry,
    remainingKeys: db.dbsize(),
    backlogPeak: Math.max(0, ...samples.map((s) => s.backlog)),
    samples,
    loopDelayMaxMs: histogram.max / 1e6,
    loopDelayP99Ms: histogram.percentile(99) / 1e6,
    expiredKeys: db.stats.expired_keys,
    timeCapReached: db.stats.expired_time_cap_reached_count,
    hz,
    slowCycleLimitMs: cronTimeLimitUs(cycle.slowTimePerc, hz) / 1000,
    fastCycleLimitMs: cycle.fastDurationUs / 1000,
  }
  db.close()
  return result
})
