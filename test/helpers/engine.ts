import { Engine, type EngineInternals } from '../../lib/engine.js'
import type { EngineOptions } from '../../lib/config.js'

/** A clock the test moves by hand (unix ms). */
export class ManualClock {
  constructor(public t = 1_700_000_000_000) {}
  now = (): number => this.t
  advance(ms: number): void {
    this.t += ms
  }
}

/** An engine on the native store with a hand-driven clock; closed by the caller (or by `using`). */
export function engineWithClock(options?: EngineOptions, clock = new ManualClock()): { db: Engine; clock: ManualClock } {
  const internals: EngineInternals = { now: clock.now }
  return { db: new Engine(options, internals), clock }
}
