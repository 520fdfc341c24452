import { describe, expect, it } from 'vitest'
import { VerbatimString } from 'redis'
import { ArenaKVError } from '../lib/errors.js'
import { decodeReply, encodeReply, MAX_DEPTH, REPLY_CODEC_VERSION, ReplyEncoder } from '../lib/redis/reply-codec.js'

const verbatim = (format: string, value: string): unknown => new VerbatimString(format, value)

function roundTrip(value: unknown): unknown {
  const bytes = encodeReply(value)
  return decodeReply(bytes, 0, bytes.length, verbatim)
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

function corruptCode(bytes: Buffer): string | undefined {
  const err = errorOf(() => decodeReply(bytes))
  return err instanceof ArenaKVError ? err.code : String(err)
}

/** One of every reply type node-redis produces, nested. */
function everyType(): unknown {
  const obj: Record<string, unknown> = Object.create(null)
  obj.field = 'value'
  obj.__proto__ = 'a plain key'
  obj.n = 42
  return [
    'simple',
    '',
    'héllo wörld ☃ 𝄞',
    'x'.repeat(100_000),
    Buffer.from([0, 1, 2, 255]),
    Buffer.alloc(0),
    0,
    -1,
    1,
    2 ** 30 - 1,
    -(2 ** 30),
    2 ** 40,
    -(2 ** 53),
    3.14,
    -0,
    Infinity,
    -Infinity,
    NaN,
    12345678901234567890123456789n,
    -5n,
    true,
    false,
    null,
    undefined,
    [],
    [[[]]],
    obj,
    { plain: ['object', 1] },
    new Map<unknown, unknown>([
      ['k', 'v'],
      [Buffer.from('bk'), [1, 2]],
      [7, null],
    ]),
    new Set<unknown>(['a', 1, Buffer.from('b')]),
    new VerbatimString('txt', 'some verbatim text'),
  ]
}

describe('reply codec', () => {
  it('round-trips every reply type, nested', () => {
    const value = everyType()
    const back = roundTrip(value) as unknown[]
    expect(back).toEqual(value)
    // toEqual does not see these distinctions: check them one by one.
    expect(Object.is(back[14], -0)).toBe(true)
    expect(Number.isNaN(back[17])).toBe(true)
    expect(typeof back[18]).toBe('bigint')
    expect(Buffer.isBuffer(back[4])).toBe(true)
    expect(Object.getPrototypeOf(back[26])).toBe(null)
    expect(Object.keys(back[26] as object)).toEqual(['field', '__proto__', 'n'])
    expect(Object.getPrototypeOf(back[27])).toBe(Object.prototype)
    expect(back[28]).toBeInstanceOf(Map)
    expect([...(back[28] as Map<unknown, unknown>).keys()][1]).toEqual(Buffer.from('bk'))
    expect(back[29]).toBeInstanceOf(Set)
    expect(back[30]).toBeInstanceOf(VerbatimString)
    expect((back[30] as VerbatimString).format).toBe('txt')
    expect(String(back[30])).toBe('some verbatim text')
    expect(back[23]).toBeUndefined()
    expect(back.length).toBe((value as unknown[]).length)
  })

  it('round-trips top-level scalars, and a verbatim string without the factory as a String with a format', () => {
    for (const v of ['x', Buffer.from('y'), 5, 0.5, null, true, 9n, [], new Map(), new Set()]) expect(roundTrip(v)).toEqual(v)
    const bytes = encodeReply(new VerbatimString('mkd', '# title'))
    const plain = decodeReply(bytes) as String & { format: string }
    expect(plain).toBeInstanceOf(String)
    expect(plain.format).toBe('mkd')
    expect(plain.valueOf()).toBe('# title')
  })

  it('gives each decode its own copy', () => {
    const bytes = encodeReply([Buffer.from('abc'), { k: ['v'] }])
    const a = decodeReply(bytes) as [Buffer, { k: string[] }]
    const b = decodeReply(bytes) as [Buffer, { k: string[] }]
    a[0][0] = 0x7a
    a[1].k.push('changed')
    expect(b[0].toString()).toBe('abc')
    expect(b[1].k).toEqual(['v'])
    expect(bytes.includes(Buffer.from('zbc'))).toBe(false)
  })

  it('decodes strings of one- and two-byte lengths, ASCII or not, straight from a range of a larger buffer', () => {
    for (const s of ['', 'a', 'x'.repeat(127), 'x'.repeat(128), 'é'.repeat(100), '☃'.repeat(2000), 'y'.repeat(16383), 'z'.repeat(16384), 'w'.repeat(70_000)]) {
      const bytes = encodeReply(s)
      const framed = Buffer.concat([Buffer.from('head'), bytes, Buffer.from('tail')])
      expect(decodeReply(framed, 4, 4 + bytes.length)).toBe(s)
      // One byte short or long is refused, not read as a shorter or longer string.
      expect(corruptCode(bytes.subarray(0, bytes.length - 1))).toBe('ERR_CORRUPT')
      expect(corruptCode(Buffer.concat([bytes, Buffer.from('!')]))).toBe('ERR_CORRUPT')
    }
    // A length whose second varint byte continues (three bytes or more) is read in full, not as one byte.
    const three = Buffer.concat([Buffer.from([REPLY_CODEC_VERSION, 4, 0x85, 0x80, 0x01]), Buffer.alloc(16389, 0x61)])
    expect(decodeReply(three)).toBe('a'.repeat(16389))
    // 0x85 then 133 bytes of 0x80: as a one-byte length it would fit exactly; as the varint it is, it never ends.
    const endless = Buffer.concat([Buffer.from([REPLY_CODEC_VERSION, 4, 0x85]), Buffer.alloc(0x85, 0x80)])
    expect(corruptCode(endless)).toBe('ERR_CORRUPT')
  })

  it('starts with the version byte and refuses any other version', () => {
    const bytes = encodeReply('v')
    expect(bytes[0]).toBe(REPLY_CODEC_VERSION)
    const other = Buffer.from(bytes)
    other[0] = REPLY_CODEC_VERSION + 1
    expect(corruptCode(other)).toBe('ERR_CORRUPT')
    expect((errorOf(() => decodeReply(other)) as Error).message).toMatch(/version 2, expected 1/)
  })

  it('encodes after a header the caller reserves, reusing its buffer', () => {
    const enc = new ReplyEncoder(8)
    const a = enc.encode('first value, longer than eight bytes', 12)
    expect(decodeReply(a, 12)).toBe('first value, longer than eight bytes')
    const b = enc.encode(['second'], 0)
    expect(decodeReply(b)).toEqual(['second'])
  })

  it('refuses corrupt input with ERR_CORRUPT: empty, every truncation, unknown tag, trailing bytes, huge counts', () => {
    expect(corruptCode(Buffer.alloc(0))).toBe('ERR_CORRUPT')
    const bytes = encodeReply(everyType())
    for (let n = 1; n < bytes.length; n += n < 200 ? 1 : 997) expect(corruptCode(bytes.subarray(0, n)), `prefix ${n}`).toBe('ERR_CORRUPT')
    expect(corruptCode(Buffer.from([REPLY_CODEC_VERSION, 99]))).toBe('ERR_CORRUPT')
    expect(corruptCode(Buffer.concat([encodeReply('x'), Buffer.from([0])]))).toBe('ERR_CORRUPT')
    // An array that claims 2^40 items in a few bytes: refused before allocating.
    expect(corruptCode(Buffer.from([REPLY_CODEC_VERSION, 9, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]))).toBe('ERR_CORRUPT')
    // A varint that never ends.
    expect(corruptCode(Buffer.from([REPLY_CODEC_VERSION, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe('ERR_CORRUPT')
    // A big number that is not digits.
    expect(corruptCode(Buffer.from([REPLY_CODEC_VERSION, 8, 2, 0x31, 0x78]))).toBe('ERR_CORRUPT')
    // Object flags other than 0/1.
    expect(corruptCode(Buffer.from([REPLY_CODEC_VERSION, 10, 7, 0]))).toBe('ERR_CORRUPT')
    // Nesting past the limit.
    const deep = Buffer.concat([Buffer.from([REPLY_CODEC_VERSION]), Buffer.alloc((MAX_DEPTH + 2) * 2, Buffer.from([9, 1])), Buffer.from([0])])
    expect(corruptCode(deep)).toBe('ERR_CORRUPT')
  })

  it('never throws anything but ERR_CORRUPT on flipped bytes', () => {
    const all = everyType() as unknown[]
    const bytes = encodeReply([...all.slice(0, 3), ...all.slice(4)])
    let seed = 7
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), (seed >>> 12) % n)
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(bytes.subarray(0, 400))
      b[1 + rand(b.length - 1)] = rand(256)
      try {
        decodeReply(b)
      } catch (err) {
        expect(err instanceof ArenaKVError && err.code === 'ERR_CORRUPT', String(err)).toBe(true)
      }
    }
  })

  it('refuses what no reply holds with a TypeError, and cycles with a RangeError', () => {
    expect(errorOf(() => encodeReply(new Error('x')))).toBeInstanceOf(TypeError)
    expect(errorOf(() => encodeReply([new Date()]))).toBeInstanceOf(TypeError)
    expect(errorOf(() => encodeReply(() => 1))).toBeInstanceOf(TypeError)
    expect(errorOf(() => encodeReply(Symbol('s')))).toBeInstanceOf(TypeError)
    expect(errorOf(() => encodeReply(new String('no format')))).toBeInstanceOf(TypeError)
    const cyclic: unknown[] = []
    cyclic.push(cyclic)
    expect(errorOf(() => encodeReply(cyclic))).toBeInstanceOf(RangeError)
  })

  it('checks its arguments', () => {
    expect(errorOf(() => decodeReply('x' as unknown as Buffer))).toBeInstanceOf(TypeError)
    const b = encodeReply('x')
    expect(errorOf(() => decodeReply(b, 0, b.length + 1))).toBeInstanceOf(RangeError)
    expect(errorOf(() => decodeReply(b, 2, 1))).toBeInstanceOf(RangeError)
  })
})
