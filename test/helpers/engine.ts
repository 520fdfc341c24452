import { afterEach } from 'vitest'
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

/**
 * Engines a test file opens, closed after each test: `engine(options)` opens one, `track(db)` adds one opened
 * otherwise. Call at the file's top level (it registers vitest's afterEach).
 */
export function closedAfterEach(): { engine: (options?: EngineOptions) => Engine; track: <T extends Engine>(db: T) => T } {
  const open: Engine[] = []
  afterEach(() => {
    for (const db of open.splice(0)) db.close()
  })
  const track = <T extends Engine>(db: T): T => {
    open.push(db)
    return db
  }
  return { engine: (options) => track(new Engine(options)), track }
}
