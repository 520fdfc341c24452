import { ArenaKVError, closedError } from '../../lib/errors.js'
import {
  HANDLE_INDEX_BITS,
  HANDLE_INDEX_MASK,
  MAX_GENERATION,
  MAX_VALUE_BYTES,
  SLOT_HEADER_BYTES,
  SLOT_TABLE_ENTRY_BYTES,
  type SlotStore,
} from '../../lib/store.js'

// A JS stand-in for the native SlotStore with the same handle rules and layout (index | generation <<
// HANDLE_INDEX_BITS, generations 1..MAX_GENERATION, LIFO reuse of freed indices), for pure keyspace unit tests.
// Usable sizes are the slot's bytes rounded up to 16.

interface Slot {
  key: string
  value: Uint8Array
  usable: number
}

function usableOf(bytes: number): number {
  return Math.ceil(bytes / 16) * 16
}

export class FakeStore implements SlotStore {
  readonly scratch = new Uint8Array(65536)
  /** The fake's usedBytes leaves its scratch out. */
  readonly scratchUsable = 0
  readonly arena = -1
  private slots: (Slot | null)[] = []
  private generations: number[] = []
  private freeList: number[] = []
  private live = 0
  private slotBytes = 0
  private extraBytes = 0
  private peak = 0
  private closed = false

  private slot(handle: number): Slot {
    const s = this.find(handle)
    if (s === null) throw new RangeError(`stale or invalid handle ${handle}`)
    return s
  }

  private find(handle: number): Slot | null {
    if (this.closed) throw closedError()
    const index = handle & HANDLE_INDEX_MASK
    const generation = handle >>> HANDLE_INDEX_BITS
    if (index >= this.slots.length || generation === 0 || this.generations[index] !== generation) return null
    return this.slots[index]
  }

  private encode(value: string | Uint8Array): Uint8Array {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : new Uint8Array(value)
    if (bytes.length > MAX_VALUE_BYTES) throw new ArenaKVError('ERR_VALUE_TOO_LARGE', 'value too large')
    return bytes
  }

  put(key: string, value: string | Uint8Array): number {
    if (this.closed) throw closedError()
    const bytes = this.encode(value)
    const index = this.freeList.length > 0 ? (this.freeList.pop() as number) : this.slots.length
    const generation = ((this.generations[index] ?? 0) % MAX_GENERATION) + 1
    const usable = usableOf(SLOT_HEADER_BYTES + Buffer.byteLength(key) + bytes.length)
    this.slots[index] = { key, value: bytes, usable }
    this.generations[index] = generation
    this.live++
    this.slotBytes += usable
    this.notePeak()
    return (index | (generation << HANDLE_INDEX_BITS)) >>> 0
  }

  replace(handle: number, value: string | Uint8Array): void {
    const s = this.slot(handle)
    const bytes = this.encode(value)
    this.slotBytes -= s.usable
    s.value = bytes
    s.usable = usableOf(SLOT_HEADER_BYTES + Buffer.byteLength(s.key) + bytes.length)
    this.slotBytes += s.usable
    this.notePeak()
  }

  keyEquals(handle: number, key: string): boolean {
    return this.slot(handle).key === key
  }

  read(handle: number, key: string): number {
    const s = this.slot(handle)
    if (s.key !== key) return -1
    if (s.value.length <= this.scratch.length) this.scratch.set(s.value)
    return s.value.length
  }

  readStringIfKey(handle: number, key: string): string | undefined {
    const s = this.slot(handle)
    return s.key === key ? Buffer.from(s.value).toString('utf8') : undefined
  }

  readInto(handle: number, target: Uint8Array, offset = 0): number {
    const s = this.slot(handle)
    target.set(s.value.subarray(0, Math.max(0, target.length - offset)), offset)
    return s.value.length
  }

  readString(handle: number): string {
    return Buffer.from(this.slot(handle).value).toString('utf8')
  }

  key(handle: number): string {
    return this.slot(handle).key
  }

  valueLength(handle: number): number {
    return this.slot(handle).value.length
  }

  usableSize(handle: number): number {
    return this.slot(handle).usable
  }

  free(handle: number): void {
    const s = this.find(handle)
    if (s === null) return
    const index = handle & HANDLE_INDEX_MASK
    this.slots[index] = null
    this.freeList.push(index)
    this.live--
    this.slotBytes -= s.usable
  }

  freeMany(handles: Uint32Array, count: number): void {
    for (let i = 0; i < count; i++) this.slot(handles[i])
    for (let i = 0; i < count; i++) this.free(handles[i])
  }

  private setValue(s: Slot, bytes: Uint8Array): void {
    this.slotBytes -= s.usable
    s.value = bytes
    s.usable = usableOf(SLOT_HEADER_BYTES + Buffer.byteLength(s.key) + bytes.length)
    this.slotBytes += s.usable
    this.notePeak()
  }

  private grown(s: Slot, length: number): Uint8Array {
    if (length <= s.value.length) return new Uint8Array(s.value)
    const out = new Uint8Array(length)
    out.set(s.value)
    return out
  }

  appendValue(handle: number, bytes: string | Uint8Array): number {
    const s = this.slot(handle)
    const add = this.encode(bytes)
    const out = this.grown(s, s.value.length + add.length)
    out.set(add, s.value.length)
    this.setValue(s, out)
    return out.length
  }

  writeRange(handle: number, offset: number, bytes: string | Uint8Array): number {
    const s = this.slot(handle)
    const add = this.encode(bytes)
    if (add.length === 0) return s.value.length
    const out = this.grown(s, offset + add.length)
    out.set(add, offset)
    this.setValue(s, out)
    return out.length
  }

  readRange(handle: number, start: number, target: Uint8Array): number {
    const part = this.slot(handle).value.subarray(start, start + target.length)
    target.set(part)
    return part.length
  }

  setBit(handle: number, bitOffset: number, bit: number): number {
    const s = this.slot(handle)
    const byte = Math.floor(bitOffset / 8)
    const out = this.grown(s, byte + 1)
    const shift = 7 - (bitOffset % 8)
    const old = (out[byte] >> shift) & 1
    out[byte] = (out[byte] & ~(1 << shift)) | (bit << shift)
    this.setValue(s, out)
    return old
  }

  bitcount(handle: number, start: number, end: number, firstMask: number, lastMask: number): number {
    const v = this.slot(handle).value
    let n = 0
    for (let i = start; i <= end; i++) {
      let b = v[i]
      if (i === start) b &= firstMask
      if (i === end) b &= lastMask
      for (; b !== 0; b &= b - 1) n++
    }
    return n
  }

  bitpos(handle: number, bit: number, startBit: number, endBit: number): number {
    const v = this.slot(handle).value
    for (let p = startBit; p <= endBit; p++) if (((v[p >> 3] >> (7 - (p & 7))) & 1) === bit) return p
    return -1
  }

  duplicate(handle: number, key: string): number {
    return this.put(key, this.slot(handle).value)
  }

  rekey(handle: number, key: string): void {
    const s = this.slot(handle)
    s.key = key
    this.setValue(s, s.value)
  }

  usedBytes(): number {
    if (this.closed) throw closedError()
    return this.slotBytes + this.slots.length * SLOT_TABLE_ENTRY_BYTES
  }

  setExtraBytes(bytes: number): void {
    this.extraBytes = bytes
    this.notePeak()
  }

  peakBytes(): number {
    return this.peak
  }

  private notePeak(): void {
    if (this.closed) return
    this.peak = Math.max(this.peak, this.usedBytes() + this.extraBytes)
  }

  count(): number {
    return this.live
  }

  close(): void {
    this.closed = true
    this.slots = []
  }
}
