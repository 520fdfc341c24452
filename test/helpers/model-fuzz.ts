// A model-based fuzz of the Engine: random commands (SET and its variants, APPEND, SETRANGE, INCRBY, GETSET,
// MSETNX, RENAME, COPY, reads, DEL, the expire family) on a hand-driven clock, checked against a Map, with
// 'evicted' and 'expired' listeners that keep the model in step, re-enter the engine (set, del, expire,
// flushall, close) and throw. What it holds the engine to:
// - every reply of a top-level command equals the model's;
// - one key is one entry (dbsize, SCAN and reads agree with the model; no key is reported gone twice);
// - a lazily expired key is reported 'expired' by the command that touched it; 'expired' only for keys past
//   their time; 'evicted' never under noeviction, only for keys with a TTL under volatile-*;
// - listeners run after the command: a throwing listener leaves the command's effect whole, its error reaching
//   the caller; close() from a listener stops everything quietly.
// Events are delivered after the command, in order, so while they are delivered the model lags the engine by the
// removals not yet reported; a listener's own commands are therefore applied but their replies not checked.
import { Engine } from '../../lib/engine.js'
import type { MaxmemoryPolicy } from '../../lib/config.js'
import { ManualClock } from './engine.js'

interface Entry {
  value: string
  /** Unix ms of expiry, or -1 for none. */
  when: number
}

/** The model's keyspace; every change to a key is counted, so an undo can tell whether anything came after. */
class KeyModel extends Map<string, Entry> {
  private readonly versions = new Map<string, number>()
  private epoch = 0
  override set(key: string, entry: Entry): this {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1)
    return super.set(key, entry)
  }
  override delete(key: string): boolean {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1)
    return super.delete(key)
  }
  override clear(): void {
    this.epoch++
    super.clear()
  }
  /** Changes `key` has seen (as one number to compare). */
  version(key: string): string {
    return `${this.epoch}.${this.versions.get(key) ?? 0}`
  }
}

const POLICIES: MaxmemoryPolicy[] = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
  'allkeys-adaptive',
  'volatile-adaptive',
]
/** Lines of recent history a failure prints (ARENAKV_FUZZ_TRACE for more when a failure needs its whole step). */
const TRACE_LINES = Number(process.env.ARENAKV_FUZZ_TRACE ?? 64)
const MAXMEMORY = [0, 24 * 1024, 48 * 1024, 96 * 1024, 256 * 1024]

/** A listener's deliberate failure (so the harness tells it from a real one). */
class ListenerFailure extends Error {}

function isListenerFailure(error: unknown): boolean {
  if (error instanceof ListenerFailure) return true
  return error instanceof AggregateError && error.errors.every((e) => e instanceof ListenerFailure)
}

function isOom(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_OOM'
}

/** xorshift32: a seed reproduces a run. */
class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 1
  }
  next(): number {
    let x = this.s
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.s = x >>> 0
    return this.s / 4294967296
  }
  below(n: number): number {
    return Math.floor(this.next() * n)
  }
  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)]
  }
  chance(p: number): boolean {
    return this.next() < p
  }
}

/** What happened to keys during one step (a top-level command with everything its listeners did). */
interface Step {
  /** Keys whose old version, past its time, the engine must report gone (expired, or evicted first). */
  pending: Set<string>
  /** Keys written during the step: an eviction of one may be of the old or the new version. */
  written: Set<string>
  /**
   * Written, then reported evicted: resolved by reading the engine once the step is over. Beside the model's
   * entry and no entry at all, the engine may hold one of these versions (a SET NX whose old key was evicted
   * before it looked).
   */
  ambiguous: Map<string, Entry[]>
  /** Deleted by a command during the step: a later report of their removal is an earlier one, late. */
  removed: Set<string>
  /** Keys whose removal was reported during the step (for OOM undo). */
  reported: Set<string>
  flushed: boolean
  reentries: number
  /** Listeners may throw (never in a timer step: the error would be uncaught). */
  mayThrow: boolean
}

export interface FuzzResult {
  ops: number
  engines: number
  events: { evicted: number; expired: number }
  listenerWrites: number
  listenerThrows: number
  closesFromListener: number
  ooms: number
}

export class ModelFuzz {
  private readonly rng: Rng
  private readonly clock = new ManualClock()
  private db!: Engine
  private policy!: MaxmemoryPolicy
  private readonly model = new KeyModel()
  private step: Step = ModelFuzz.newStep(false)
  private closed = false
  private readonly keys: string[]
  readonly result: FuzzResult = {
    ops: 0,
    engines: 0,
    events: { evicted: 0, expired: 0 },
    listenerWrites: 0,
    listenerThrows: 0,
    closesFromListener: 0,
    ooms: 0,
  }

  constructor(readonly seed: number, keySpace = 400) {
    this.rng = new Rng(seed)
    this.keys = Array.from({ length: keySpace }, (_, i) => (i % 7 === 0 ? `κ:${i}` : `key:${i}`))
    this.openEngine()
  }

  private static newStep(mayThrow: boolean): Step {
    return {
      pending: new Set(),
      written: new Set(),
      ambiguous: new Map(),
      removed: new Set(),
      reported: new Set(),
      flushed: false,
      reentries: 0,
      mayThrow,
    }
  }

  /** The last steps, printed with a failure. */
  private readonly trace: string[] = []
  private note(line: string): void {
    if (this.trace.length === TRACE_LINES) this.trace.shift()
    this.trace.push(line)
  }

  private fail(message: string): never {
    const recent = this.trace.map((l) => `  ${l}`).join('\n')
    throw new Error(`model fuzz (seed ${this.seed}, op ${this.result.ops}, ${this.policy}): ${message}\nrecent:\n${recent}`)
  }

  private openEngine(): void {
    this.policy = this.rng.pick(POLICIES)
    const maxmemory = this.rng.pick(MAXMEMORY)
    this.db = new Engine(
      { maxmemory, maxmemoryPolicy: this.policy, maxmemorySamples: this.rng.pick([3, 5, 10]), hz: 100 },
      { now: this.clock.now },
    )
    this.model.clear()
    this.closed = false
    this.result.engines++
    this.db.on('evicted', (key) => this.onEvent('evicted', key))
    this.db.on('expired', (key) => this.onEvent('expired', key))
  }

  close(): void {
    if (!this.closed) this.db.close()
    this.closed = true
  }

  // ---- the model's view of a key ----

  private expired(entry: Entry): boolean {
    return entry.when !== -1 && this.clock.t > entry.when
  }

  /** A command looks key up: a version past its time is gone, and the engine must say so with an event. */
  private lookup(key: string): Entry | undefined {
    const entry = this.model.get(key)
    if (entry !== undefined && this.expired(entry)) {
      this.model.delete(key)
      this.step.pending.add(key)
      return undefined
    }
    return entry
  }

  private write(key: string, value: string, when: number): void {
    this.model.set(key, { value, when })
    this.step.written.add(key)
  }

  private remove(key: string): void {
    this.model.delete(key)
    this.step.removed.add(key)
  }

  // ---- events ----

  private onEvent(kind: 'evicted' | 'expired', key: string): void {
    const step = this.step
    this.note(`  event ${kind} ${key}`)
    this.result.events[kind]++
    step.reported.add(key)
    if (kind === 'evicted' && this.policy === 'noeviction') this.fail(`'${key}' evicted under noeviction`)
    if (step.pending.delete(key)) {
      // The old version, past its time (so it had a TTL, as volatile-* requires). A version written over it may
      // yet be refused (OOM).
      if (step.written.has(key) && !step.ambiguous.has(key)) step.ambiguous.set(key, [])
    } else if (kind === 'evicted' && step.written.has(key)) {
      if (!step.ambiguous.has(key)) step.ambiguous.set(key, [])
    } else {
      const entry = this.model.get(key)
      if (entry === undefined) {
        if (!step.flushed && !step.removed.has(key)) this.fail(`'${key}' reported ${kind} but the model has no such key`)
      } else {
        if (kind === 'expired' && !this.expired(entry)) this.fail(`'${key}' reported expired before its time`)
        if (kind === 'evicted' && this.policy.startsWith('volatile-') && entry.when === -1) {
          this.fail(`'${key}' without a TTL evicted under ${this.policy}`)
        }
        this.model.delete(key)
      }
    }
    this.reenter(key)
  }

  /** What a listener does besides keeping the model: re-enters the engine (bounded), may close it, may throw. */
  private reenter(key: string): void {
    const step = this.step
    if (this.closed || step.reentries >= 3) return
    const r = this.rng.next()
    if (r < 0.12) {
      step.reentries++
      this.result.listenerWrites++
      // Refresh on expire: the key written again, sometimes with a TTL.
      this.opSet(key, false)
    } else if (r < 0.16) {
      step.reentries++
      this.opDel([this.randomKey()], false)
    } else if (r < 0.2) {
      step.reentries++
      this.opExpire(this.randomKey(), false)
    } else if (r < 0.203) {
      step.reentries++
      this.opFlushall()
    } else if (r < 0.2045) {
      this.result.closesFromListener++
      this.close()
    }
    if (step.mayThrow && this.rng.chance(0.03)) {
      this.result.listenerThrows++
      throw new ListenerFailure(`listener failed on ${key}`)
    }
  }

  // ---- commands: each applies its effect to the model, then runs on the engine and (top level) checks ----

  private randomKey(): string {
    return this.rng.pick(this.keys)
  }

  private randomValue(): string {
    const n = this.rng.chance(0.1) ? this.rng.below(3000) : this.rng.below(120)
    return String.fromCharCode(97 + this.rng.below(26)).repeat(n)
  }

  /**
   * A write that may be refused with OOM: `apply` puts its effect in the model, `run` runs it on the engine. A
   * refused write changed nothing but what it evicted first, so the model goes back to how it was, less every key
   * whose removal was reported meanwhile. Returns whether a reply came back (a listener's error replaces it).
   */
  private guardedWrite(
    keys: readonly string[],
    apply: () => void,
    run: () => unknown,
  ): { reply: unknown; replied: boolean; gone: (key: string) => boolean } {
    const step = this.step
    const unique = [...new Set(keys)]
    const before = unique.map((k) => ({
      k,
      entry: this.model.get(k),
      written: step.written.has(k),
      pending: step.pending.has(k),
      version: '',
    }))
    const reportedBefore = new Set(step.reported)
    const gone = (k: string) => step.reported.has(k) && !reportedBefore.has(k)
    apply()
    for (const b of before) b.version = this.model.version(b.k)
    try {
      return { reply: run(), replied: true, gone }
    } catch (error) {
      if (isListenerFailure(error)) return { reply: undefined, replied: false, gone }
      if (!isOom(error)) throw error
    }
    this.result.ooms++
    this.note('  -> OOM')
    if (!this.closed && this.policy.startsWith('allkeys-') && step.reentries === 0 && this.db.dbsize() > 0) {
      this.fail(`OOM under ${this.policy} with ${this.db.dbsize()} keys left to evict`)
    }
    for (const b of before) {
      // The refused write looked nothing up: a lazy expiry it was predicted to cause did not happen.
      if (!b.pending) step.pending.delete(b.k)
      if (this.model.version(b.k) === b.version) {
        if (!b.written) step.written.delete(b.k)
        // Eviction runs before the write is refused (Redis's performEvictions, then the OOM reply): when it took
        // the key (reported during the run, after apply() had already changed the model), the old entry is gone.
        if (b.entry === undefined || gone(b.k)) this.model.delete(b.k)
        else this.model.set(b.k, b.entry)
      } else {
        // Events or listeners changed the key after: the engine holds their version, none, or the old one.
        const versions = step.ambiguous.get(b.k) ?? []
        if (b.entry !== undefined) versions.push(b.entry)
        step.ambiguous.set(b.k, versions)
      }
    }
    return { reply: undefined, replied: false, gone }
  }

  /** SET with random options; a listener's SET is plain or with PX (its other options read the lagging model). */
  opSet(key: string, check = true): void {
    const value = this.randomValue()
    const now = this.clock.t
    const kind = check ? this.rng.below(12) : this.rng.below(2)
    const opts: { px?: number; ex?: number; pxat?: number; nx?: boolean; xx?: boolean; keepttl?: boolean } = {}
    if (kind === 1) opts.px = 1 + this.rng.below(200)
    if (kind === 2) opts.ex = 1 + this.rng.below(3)
    if (kind === 3) opts.nx = true
    if (kind === 4) opts.xx = true
    if (kind === 5) opts.keepttl = true
    if (kind === 6) {
      opts.px = 1 + this.rng.below(200)
      opts.nx = true
    }
    if (kind === 7) opts.pxat = now - this.rng.below(100) // already past: deletes
    if (kind === 8) opts.pxat = now + 1 + this.rng.below(300)
    let when = -1
    if (opts.px !== undefined) when = now + opts.px
    else if (opts.ex !== undefined) when = now + opts.ex * 1000
    else if (opts.pxat !== undefined) when = opts.pxat
    let expected = true
    const apply = () => {
      const existing = this.lookup(key)
      if (opts.nx === true && existing !== undefined) {
        expected = false
        // Eviction runs before the command looks: if it takes this key, SET NX writes after all.
        this.step.written.add(key)
        return
      }
      if (opts.xx === true && existing === undefined) {
        expected = false
        return
      }
      // Redis's checkAlreadyExpired: a time given that is already past deletes the key (a kept one is not past).
      if (when !== -1 && when <= now) this.remove(key)
      else this.write(key, value, opts.keepttl === true && existing !== undefined ? existing.when : when)
    }
    this.note(`${check ? '' : '  (listener) '}set ${key} ${value.length}B ${JSON.stringify(opts)} t=${now}`)
    const { reply, replied, gone } = this.guardedWrite([key], apply, () => this.db.set(key, value, opts))
    this.note(`  -> ${replied ? reply : 'no reply'}`)
    if (!replied || reply === expected) return
    // NX or XX decided after eviction took the key: the engine's reply is right; NX wrote.
    if (gone(key) && (opts.nx === true || opts.xx === true)) {
      if (opts.nx === true) {
        const candidates = this.step.ambiguous.get(key) ?? []
        candidates.push({ value, when })
        this.step.ambiguous.set(key, candidates)
      }
      return
    }
    if (check) this.fail(`set ${key} ${JSON.stringify(opts)} returned ${reply}, model ${expected}`)
  }

  opMset(): void {
    const n = 1 + this.rng.below(4)
    const entries: [string, string][] = []
    for (let i = 0; i < n; i++) entries.push([this.randomKey(), this.randomValue()])
    const apply = () => {
      for (const [k, v] of entries) {
        this.lookup(k)
        this.write(k, v, -1)
      }
    }
    this.guardedWrite(
      entries.map(([k]) => k),
      apply,
      () => this.db.mset(entries),
    )
  }

  opGet(key: string): void {
    const entry = this.lookup(key)
    const kind = this.rng.below(5)
    if (kind === 4) return this.mgetInto([key, this.randomKey(), key], entry)
    let reply: string | undefined
    if (kind === 0) reply = this.db.get(key)?.toString('utf8')
    else if (kind === 1) reply = this.db.getString(key)
    else if (kind === 2) reply = this.db.mget([key])[0]?.toString('utf8')
    else {
      const target = new Uint8Array(4096)
      const n = this.db.getInto(key, target)
      reply = n < 0 ? undefined : Buffer.from(target.subarray(0, Math.min(n, target.length))).toString('utf8')
    }
    if (reply !== entry?.value) this.fail(`get ${key} returned ${reply?.length} bytes, model ${entry?.value.length}`)
  }

  /** MGETINTO into a target of exactly the bytes the model expects: every value must fit, back to back. */
  private mgetInto(keys: string[], first: Entry | undefined): void {
    const want = keys.map((k, i) => (i === 0 ? first : this.lookup(k))?.value)
    const bytes = want.map((v) => (v === undefined ? null : Buffer.from(v, 'utf8')))
    const target = new Uint8Array(bytes.reduce((n, b) => n + (b?.length ?? 0), 0))
    const lengths = new Int32Array(keys.length)
    const processed = this.db.mgetInto(keys, target, lengths)
    if (processed !== keys.length) this.fail(`mgetInto processed ${processed} of ${keys.length} keys`)
    let offset = 0
    bytes.forEach((b, i) => {
      if (lengths[i] !== (b?.length ?? -1)) this.fail(`mgetInto ${keys[i]}: length ${lengths[i]}, model ${b?.length ?? -1}`)
      if (b === null) return
      if (!Buffer.from(target.subarray(offset, offset + b.length)).equals(b)) this.fail(`mgetInto ${keys[i]}: wrong bytes`)
      offset += b.length
    })
  }

  opGetex(key: string): void {
    const entry = this.lookup(key)
    const now = this.clock.t
    const kind = this.rng.below(3)
    const opts = kind === 0 ? { px: 1 + this.rng.below(200) } : kind === 1 ? { persist: true } : undefined
    if (entry !== undefined && opts !== undefined) {
      this.model.set(key, { ...entry, when: opts.px !== undefined ? now + opts.px : -1 })
    }
    const reply = this.db.getex(key, opts)?.toString('utf8')
    if (reply !== entry?.value) this.fail(`getex ${key} returned ${reply?.length} bytes, model ${entry?.value.length}`)
  }

  opGetdel(key: string): void {
    const entry = this.lookup(key)
    if (entry !== undefined) this.remove(key)
    const reply = this.db.getdel(key)?.toString('utf8')
    if (reply !== entry?.value) this.fail(`getdel ${key} returned ${reply?.length} bytes, model ${entry?.value.length}`)
  }

  opDel(keys: string[], check = true): void {
    let expected = 0
    for (const k of keys) {
      if (this.lookup(k) !== undefined) {
        expected++
        this.remove(k)
      }
    }
    const reply = this.db.del(...keys)
    if (check && reply !== expected) this.fail(`del ${keys} returned ${reply}, model ${expected}`)
  }

  opExists(keys: string[]): void {
    let expected = 0
    for (const k of keys) if (this.lookup(k) !== undefined) expected++
    const reply = this.db.exists(...keys)
    if (reply !== expected) this.fail(`exists ${keys} returned ${reply}, model ${expected}`)
  }

  opExpire(key: string, check = true): void {
    const now = this.clock.t
    const entry = this.lookup(key)
    const flag = this.rng.pick([undefined, undefined, 'NX', 'XX', 'GT', 'LT'] as const)
    const ms = this.rng.chance(0.1) ? -this.rng.below(50) : 1 + this.rng.below(400)
    const when = now + ms
    let expected = false
    if (entry !== undefined) {
      const cur = entry.when
      const allowed =
        flag === undefined ||
        (flag === 'NX' && cur === -1) ||
        (flag === 'XX' && cur !== -1) ||
        (flag === 'GT' && cur !== -1 && when > cur) ||
        (flag === 'LT' && (cur === -1 || when < cur))
      if (allowed) {
        expected = true
        if (when <= now) this.remove(key)
        else this.model.set(key, { ...entry, when })
      }
    }
    const reply = this.db.pexpire(key, ms, flag)
    if (check && reply !== expected) this.fail(`pexpire ${key} ${ms} ${flag} returned ${reply}, model ${expected}`)
  }

  opTtl(key: string): void {
    const entry = this.lookup(key)
    const expected = entry === undefined ? -2 : entry.when === -1 ? -1 : Math.max(0, entry.when - this.clock.t)
    const reply = this.db.pttl(key)
    if (reply !== expected) this.fail(`pttl ${key} returned ${reply}, model ${expected}`)
  }

  opPersist(key: string): void {
    const entry = this.lookup(key)
    const expected = entry !== undefined && entry.when !== -1
    if (expected) this.model.set(key, { ...entry!, when: -1 })
    const reply = this.db.persist(key)
    if (reply !== expected) this.fail(`persist ${key} returned ${reply}, model ${expected}`)
  }

  /** A write command whose reply is an error code rather than a value (ERR_NOT_INTEGER, ERR_NO_SUCH_KEY). */
  private replyOrCode(run: () => unknown): unknown {
    try {
      return run()
    } catch (error) {
      const code = (error as { code?: string } | null)?.code
      if (code === undefined || code === 'ERR_OOM' || isListenerFailure(error)) throw error
      return code
    }
  }

  /** APPEND: the value grown in its slot; a missing key is created; the TTL stays. */
  opAppend(key: string): void {
    const add = this.randomValue()
    let expected = 0
    const apply = () => {
      const entry = this.lookup(key)
      const value = (entry?.value ?? '') + add
      expected = value.length
      this.write(key, value, entry?.when ?? -1)
    }
    this.note(`append ${key} ${add.length}B`)
    const { reply, replied } = this.guardedWrite([key], apply, () => this.db.append(key, add))
    if (replied && reply !== expected) this.fail(`append ${key} returned ${reply}, model ${expected}`)
  }

  /** SETRANGE at an offset that may pass the end (zero-padded); an empty value writes nothing. */
  opSetrange(key: string): void {
    const add = this.rng.chance(0.1) ? '' : this.randomValue().slice(0, 40)
    const offset = this.rng.below(200)
    let expected = 0
    const apply = () => {
      const entry = this.lookup(key)
      const old = entry?.value ?? ''
      if (add.length === 0) {
        expected = old.length
        return
      }
      const padded = old.length < offset ? old + '\0'.repeat(offset - old.length) : old
      const value = padded.slice(0, offset) + add + padded.slice(offset + add.length)
      expected = value.length
      this.write(key, value, entry?.when ?? -1)
    }
    this.note(`setrange ${key} ${offset} ${add.length}B`)
    const { reply, replied } = this.guardedWrite([key], apply, () => this.db.setrange(key, offset, add))
    if (replied && reply !== expected) this.fail(`setrange ${key} ${offset} returned ${reply}, model ${expected}`)
  }

  /** INCRBY: a counter's decimal text in its slot, the TTL kept; a value that is not an integer is an error. */
  opIncrby(key: string): void {
    const by = this.rng.below(2001) - 1000
    let expected: unknown
    const apply = () => {
      const entry = this.lookup(key)
      const old = entry === undefined ? 0 : /^(0|-?[1-9]\d{0,15})$/.test(entry.value) ? Number(entry.value) : undefined
      if (old === undefined) {
        expected = 'ERR_NOT_INTEGER'
        return
      }
      expected = old + by
      this.write(key, String(old + by), entry?.when ?? -1)
    }
    this.note(`incrby ${key} ${by}`)
    const { reply, replied } = this.guardedWrite([key], apply, () => this.replyOrCode(() => this.db.incrby(key, by)))
    if (replied && reply !== expected) this.fail(`incrby ${key} ${by} returned ${reply}, model ${expected}`)
  }

  /** GETSET: the old value back, the new one written without a TTL. */
  opGetset(key: string): void {
    const value = this.randomValue()
    let expected: string | undefined
    const apply = () => {
      expected = this.lookup(key)?.value
      this.write(key, value, -1)
    }
    this.note(`getset ${key} ${value.length}B`)
    const { reply, replied } = this.guardedWrite([key], apply, () => this.db.getset(key, value)?.toString('utf8'))
    if (replied && reply !== expected) this.fail(`getset ${key} returned ${String(reply).length} bytes, model ${expected?.length}`)
  }

  /** MSETNX: all or nothing; the engine stops looking at the first key that exists, and so does the model. */
  opMsetnx(): void {
    const entries: [string, string][] = [[this.randomKey(), this.randomValue()], [this.randomKey(), this.randomValue()]]
    let expected = true
    const apply = () => {
      for (const [k] of entries) {
        if (this.lookup(k) !== undefined) {
          expected = false
          return
        }
      }
      for (const [k, v] of entries) this.write(k, v, -1)
    }
    this.note(`msetnx ${entries.map(([k]) => k)}`)
    const keys = entries.map(([k]) => k)
    const { reply, replied } = this.guardedWrite(keys, apply, () => this.db.msetnx(entries))
    if (replied && reply !== expected) this.fail(`msetnx ${keys} returned ${reply}, model ${expected}`)
  }

  /**
   * RENAME / RENAMENX / COPY, without maxmemory only: eviction before the command could take the source after the
   * model moved it (the TTL and value moving with the key is what is checked here).
   */
  opRenameOrCopy(src: string): void {
    const dst = this.randomKey()
    const kind = this.rng.pick(['rename', 'renamenx', 'copy', 'copy-replace'] as const)
    // Both look the source up first and the destination only when the source exists (COPY onto itself: neither).
    const entry = kind.startsWith('copy') && src === dst ? undefined : this.lookup(src)
    const existing = src === dst || entry === undefined ? entry : this.lookup(dst)
    let expected: unknown
    if (kind === 'rename' || kind === 'renamenx') {
      if (entry === undefined) expected = 'ERR_NO_SUCH_KEY'
      else if (src === dst) expected = kind === 'rename'
      else if (existing !== undefined && kind === 'renamenx') expected = false
      else {
        this.remove(src)
        this.write(dst, entry.value, entry.when)
        expected = true
      }
    } else if (src === dst) {
      expected = 'ERR_SAME_OBJECT'
    } else if (entry === undefined || (existing !== undefined && kind === 'copy')) {
      expected = false
    } else {
      this.write(dst, entry.value, entry.when)
      expected = true
    }
    this.note(`${kind} ${src} ${dst}`)
    const reply = this.replyOrCode(() => {
      if (kind === 'rename') {
        this.db.rename(src, dst)
        return true
      }
      if (kind === 'renamenx') return this.db.renamenx(src, dst)
      return this.db.copy(src, dst, { replace: kind === 'copy-replace' })
    })
    if (reply !== expected) this.fail(`${kind} ${src} ${dst} returned ${reply}, model ${expected}`)
  }

  opFlushall(): void {
    this.model.clear()
    this.step.flushed = true
    this.db.flushall()
  }

  opConfig(): void {
    if (this.rng.chance(0.5)) this.db.configSet('maxmemory', this.rng.pick(MAXMEMORY))
    else {
      this.policy = this.rng.pick(POLICIES)
      this.db.configSet('maxmemory-policy', this.policy)
    }
  }

  /** SCAN over the whole keyspace (expiring what it meets), then every live key read back. */
  fullCheck(): void {
    const seen = new Set<string>()
    let cursor = 0
    do {
      const [next, batch] = this.db.scan(cursor, { count: 50 })
      for (const k of batch) {
        if (seen.has(k)) this.fail(`SCAN returned '${k}' twice`)
        seen.add(k)
      }
      cursor = next
    } while (cursor !== 0 && !this.closed)
    const step = this.step
    for (const k of seen) {
      // A key removed during the scan (by a listener, or an eviction it caused) may have been returned before.
      const removedMeanwhile = step.flushed || step.removed.has(k) || step.reported.has(k)
      if (!this.model.has(k) && !removedMeanwhile && !this.closed) {
        this.fail(`SCAN returned '${k}', which the model does not have`)
      }
    }
    if (this.closed) return
    for (const [k, entry] of this.model) {
      if (this.expired(entry)) continue
      // A key a listener wrote during the scan may come after the cursor; every other one must be seen.
      if (!seen.has(k) && !step.written.has(k)) this.fail(`SCAN missed '${k}'`)
      const value = this.db.getString(k)
      if (value !== entry.value) this.fail(`'${k}' holds ${value?.length} bytes, model ${entry.value.length}`)
    }
  }

  // ---- steps ----

  /** Runs one top-level command and checks what the step left. */
  private runStep(mayThrow: boolean, command: () => void): void {
    this.step = ModelFuzz.newStep(mayThrow)
    try {
      command()
    } catch (error) {
      if (!isListenerFailure(error)) throw error
    }
    this.endStep()
  }

  private endStep(): void {
    const step = this.step
    if (this.closed) {
      this.openEngine()
      return
    }
    // Reading the engine back must not set listeners off again.
    step.mayThrow = false
    step.reentries = Infinity
    for (const [k, versions] of step.ambiguous) {
      const entry = this.model.get(k)
      const value = this.db.getString(k)
      if (value === undefined) {
        this.model.delete(k)
        continue
      }
      const version = [...(entry === undefined ? [] : [entry]), ...versions].find((v) => v.value === value)
      if (version === undefined) this.fail(`'${k}' holds ${value.length} bytes after its eviction`)
      this.model.set(k, version)
    }
    if (step.pending.size > 0) this.fail(`no event for the lazy expiry of ${[...step.pending].join(', ')}`)
    const size = this.db.dbsize()
    if (size !== this.model.size) {
      const engineKeys = new Set<string>()
      for (const k of this.db.scanIterator()) engineKeys.add(k)
      const onlyModel = [...this.model.keys()].filter((k) => !engineKeys.has(k))
      const onlyEngine = [...engineKeys].filter((k) => !this.model.has(k))
      this.fail(`dbsize ${size}, model ${this.model.size}; only in the model: ${onlyModel}; only in the engine: ${onlyEngine}`)
    }
    this.step = ModelFuzz.newStep(false)
  }

  /** One random operation. */
  op(): void {
    this.result.ops++
    const r = this.rng.below(125)
    const key = this.randomKey()
    const step = (name: string, command: () => void) => {
      this.note(`${name} ${key} t=${this.clock.t} size=${this.model.size}`)
      this.runStep(true, command)
    }
    if (r < 8) this.clock.advance(this.rng.below(60))
    else if (r < 30) step('SET', () => this.opSet(key))
    else if (r < 50) step('GET', () => this.opGet(key))
    else if (r < 55) step('MSET', () => this.opMset())
    else if (r < 60) step('GETEX', () => this.opGetex(key))
    else if (r < 64) step('GETDEL', () => this.opGetdel(key))
    else if (r < 72) step('DEL', () => this.opDel([key, this.randomKey()]))
    else if (r < 78) step('EXISTS', () => this.opExists([key, key, this.randomKey()]))
    else if (r < 86) step('PEXPIRE', () => this.opExpire(key))
    else if (r < 91) step('PTTL', () => this.opTtl(key))
    else if (r < 94) step('PERSIST', () => this.opPersist(key))
    else if (r < 96) step('CONFIG', () => this.opConfig())
    else if (r < 97 && this.rng.chance(0.1)) step('FLUSHALL', () => this.opFlushall())
    else if (r < 100) step('SCAN', () => this.fullCheck())
    else if (r < 104) step('APPEND', () => this.opAppend(key))
    else if (r < 108) step('SETRANGE', () => this.opSetrange(key))
    else if (r < 114) step('INCRBY', () => this.opIncrby(key))
    else if (r < 117) step('GETSET', () => this.opGetset(key))
    else if (r < 120) step('MSETNX', () => this.opMsetnx())
    else if (this.db.config.maxmemory === 0) step('RENAME/COPY', () => this.opRenameOrCopy(key))
    else step('SCAN', () => this.fullCheck())
  }

  /** Lets the engine's timers run (active expiry, eviction continuation) with listeners that do not throw. */
  async timers(ms: number): Promise<void> {
    this.step = ModelFuzz.newStep(false)
    await new Promise((resolve) => setTimeout(resolve, ms))
    this.endStep()
  }

  /** Runs `ops` operations, letting timers run every `timerEvery`. */
  async run(ops: number, timerEvery = 5000): Promise<FuzzResult> {
    for (let i = 1; i <= ops; i++) {
      this.op()
      if (i % timerEvery === 0) await this.timers(15)
    }
    this.runStep(false, () => this.fullCheck())
    return this.result
  }
}
