// Work the hz timer does in slices (Redis's serverCron): each slice may use a share of one 1/hz period.

/**
 * A slice's time budget in µs: `percent` of the 1/hz period, never 0. The formula of both the active expire
 * cycle's slow cycles (activeExpireCycle's timelimit) and active defragmentation (activeDefragCycle's timelimit).
 */
export function cronTimeLimitUs(percent: number, hz: number): number {
  const limit = Math.floor((percent * 1000000) / hz / 100)
  return limit <= 0 ? 1 : limit
}
