// Keys as a server gets them: decoded from request bytes, one fresh string per write.
//
// A template literal (`key:${i}`) goes through V8's number-to-string cache, which keeps every number string it
// makes reachable from the old generation until the entry is overwritten: each scavenge then finds survivors, so
// V8 keeps growing its young generation (14 MB during a 3M-write fill here, with no cache at all) and promotes
// the strings to the old one. No server's keys are made that way. Decoding the same bytes from a buffer, as a
// protocol parser does, gives the same key strings with none of that, so what a fill measures is the cache.

const PREFIX = 'key:'

export class KeyDecoder {
  private readonly bytes = Buffer.alloc(PREFIX.length + 16)

  constructor() {
    this.bytes.write(PREFIX, 'latin1')
  }

  /** The string `key:${i}` (i a non-negative integer below 2^53), decoded from bytes. */
  key(i: number): string {
    const start = PREFIX.length
    let digits = 1
    for (let n = i; n >= 10; n = Math.floor(n / 10)) digits++
    for (let d = start + digits - 1, n = i; d >= start; d--, n = Math.floor(n / 10)) this.bytes[d] = 48 + (n % 10)
    return this.bytes.toString('latin1', 0, start + digits)
  }
}
