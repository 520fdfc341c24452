// Keyspace events (Redis's notify.c): a key the engine itself removed, by eviction or expiry. They are queued
// while a command or a timer step runs and delivered once it has finished changing the keyspace, as Redis
// delivers keyspace notifications after the command (ARCHITECTURE.md, "Events").

export type KeyspaceEvent = 'evicted' | 'expired'

/** What the queue delivers to: the Engine, an EventEmitter. */
export interface EventSink {
  emit(event: KeyspaceEvent, key: string): boolean
  listenerCount(event: KeyspaceEvent): number
}

export class EventQueue {
  private readonly events: KeyspaceEvent[] = []
  private readonly keys: string[] = []
  private delivering = false
  /**
   * Non-zero while a shared engine holds its lock (share.ts): events wait in the queue, because no lock may be held
   * across a listener call; the lock's holder flushes once it has released it (ARCHITECTURE.md "Sharing").
   */
  held = 0

  constructor(private readonly sink: EventSink) {}

  /** Whether anyone listens (a key's name is read from native memory only then). */
  wanted(event: KeyspaceEvent): boolean {
    return this.sink.listenerCount(event) > 0
  }

  push(event: KeyspaceEvent, key: string): void {
    this.events.push(event)
    this.keys.push(key)
  }

  /** Delivers the queued events, if any; called as every command and timer step ends. */
  flush(): void {
    if (this.keys.length !== 0) this.deliver()
  }

  /**
   * Emits the queued events in order, including those queued meanwhile by commands the listeners run; a nested
   * call (a listener's own command ending) leaves them to this loop. Every event is delivered even when a
   * listener throws; then the first error is thrown (an AggregateError for several), after the command's effect.
   */
  private deliver(): void {
    if (this.delivering || this.held !== 0) return
    this.delivering = true
    let errors: unknown[] | undefined
    try {
      for (let i = 0; i < this.keys.length; i++) {
        try {
          this.sink.emit(this.events[i], this.keys[i])
        } catch (error) {
          ;(errors ??= []).push(error)
        }
      }
    } finally {
      this.events.length = 0
      this.keys.length = 0
      this.delivering = false
    }
    if (errors !== undefined) {
      throw errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} event listeners threw`)
    }
  }
}
