// The RESP endpoint's pure parts: the request parser (any chunking gives the same requests), the reply
// encoder's number formats, and the key rule (surrogateescape) between bytes and engine strings.
import { describe, expect, test } from 'vitest'
import { decodeKey, encodeKey } from '../lib/server/keys.js'
import { ProtocolError, RespParser, parseInteger } from '../lib/server/resp-parser.js'
import { RespWriter, formatDouble } from '../lib/server/resp-writer.js'
import { encodeRequest } from './helpers/resp.js'

function parseAll(chunks: Buffer[]): string[][] {
  const p = new RespParser()
  const out: string[][] = []
  for (const c of chunks) {
    p.feed(c)
    for (let r = p.next(); r !== null; r = p.next()) out.push(r.map((a) => a.toString('latin1')))
  }
  return out
}

/** A deterministic byte generator (xorshift). */
function bytes(seed: number, n: number): Buffer {
  let x = seed || 1
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    b[i] = x & 255
  }
  return b
}

describe('RespParser', () => {
  const wire = Buffer.concat([
    encodeRequest(['SET', 'k', 'v']),
    Buffer.from('PING\r\n'),
    encodeRequest(['MSET', 'a', '', 'b', 'x'.repeat(40_000)]),
    Buffer.from('  set "a b" \'c d\'  \n'),
    Buffer.from('*0\r\n*-1\r\n\r\n'),
    encodeRequest(['GET', 'k']),
  ])
  const want = [['SET', 'k', 'v'], ['PING'], ['MSET', 'a', '', 'b', 'x'.repeat(40_000)], ['set', 'a b', 'c d'], ['GET', 'k']]

  test('the same requests whole, byte by byte, and in uneven chunks (big bulks included)', () => {
    expect(parseAll([wire])).toEqual(want)
    expect(parseAll([...wire].map((b) => Buffer.from([b])))).toEqual(want)
    for (const size of [2, 3, 7, 100, 4096, 32 * 1024 + 1]) {
      const chunks: Buffer[] = []
      for (let i = 0; i < wire.length; i += size) chunks.push(wire.subarray(i, i + size))
      expect(parseAll(chunks), `chunks of ${size}`).toEqual(want)
    }
  })

  test('a big bulk split right before and inside its CRLF', () => {
    const value = bytes(7, 100_000)
    const req = encodeRequest(['SET', 'k', value])
    for (const cut of [req.length - 1, req.length - 2, req.length - 3]) {
      const p = new RespParser()
      p.feed(req.subarray(0, cut))
      expect(p.next()).toBeNull()
      p.feed(Buffer.concat([req.subarray(cut), encodeRequest(['PING'])]))
      const r = p.next()
      expect(r?.[2].equals(value)).toBe(true)
      expect(p.next()?.[0].toString()).toBe('PING')
      expect(p.next()).toBeNull()
    }
  })

  test('protocol errors with Redis texts', () => {
    const error = (text: string | Buffer, authenticated = true): string => {
      const p = new RespParser()
      p.authenticated = authenticated
      p.feed(Buffer.from(text))
      try {
        while (p.next() !== null);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError)
        return (e as Error).message
      }
      return 'none'
    }
    expect(error('*1\r\n$-1\r\n')).toBe('Protocol error: invalid bulk length')
    expect(error(`*1\r\n$${512 * 1024 * 1024 + 1}\r\n`)).toBe('Protocol error: invalid bulk length')
    expect(error(`*1\r\n$${512 * 1024 * 1024}\r\n`)).toBe('none')
    expect(error('*1\r\n:3\r\n')).toBe("Protocol error: expected '$', got ':'")
    expect(error('*2x\r\n')).toBe('Protocol error: invalid multibulk length')
    expect(error('*01\r\n')).toBe('Protocol error: invalid multibulk length')
    expect(error('*99999999999999999999\r\n')).toBe('Protocol error: invalid multibulk length')
    expect(error('get "a\r\n')).toBe('Protocol error: unbalanced quotes in request')
    expect(error('get "a"b\r\n')).toBe('Protocol error: unbalanced quotes in request')
    expect(error('x'.repeat(65 * 1024))).toBe('Protocol error: too big inline request')
    expect(error(`*${'1'.repeat(65 * 1024)}`)).toBe('Protocol error: too big mbulk count string')
    expect(error('*11\r\n', false)).toBe('Protocol error: unauthenticated multibulk length')
    expect(error('*1\r\n$16385\r\n', false)).toBe('Protocol error: unauthenticated bulk length')
    expect(error('*10\r\n', false)).toBe('none')
  })
})

describe('integers and doubles', () => {
  test("parseInteger is Redis's string2ll", () => {
    const p = (s: string): number | bigint | null => parseInteger(Buffer.from(s))
    expect(p('0')).toBe(0)
    expect(p('-12')).toBe(-12)
    expect(p('9223372036854775807')).toBe(9223372036854775807n)
    expect(p('-9223372036854775808')).toBe(-9223372036854775808n)
    for (const bad of ['', '-', '-0', '01', '+1', ' 1', '1 ', '1.0', '9223372036854775808', '0x10', 'abc']) expect(p(bad), bad).toBeNull()
  })

  test("formatDouble is '%.17g'", () => {
    expect(formatDouble(100)).toBe('100')
    expect(formatDouble(1.5)).toBe('1.5')
    expect(formatDouble(0.1)).toBe('0.10000000000000001')
    expect(formatDouble(99.952507019042969)).toBe('99.952507019042969')
    expect(formatDouble(1e21)).toBe('1e+21')
    expect(formatDouble(1.25e-7)).toBe('1.2499999999999999e-07')
    expect(formatDouble(-0.5)).toBe('-0.5')
    expect(formatDouble(Infinity)).toBe('inf')
  })

  test('the writer: RESP2 and RESP3 forms; big values travel as their own chunk', () => {
    const w = new RespWriter()
    const out = (): string => Buffer.concat(w.take()).toString('latin1')
    w.nil()
    w.map(1)
    w.double(1.5)
    w.verbatim('a')
    w.integer(-42)
    w.integer(2n ** 63n - 1n)
    expect(out()).toBe('$-1\r\n*2\r\n$3\r\n1.5\r\n$1\r\na\r\n:-42\r\n:9223372036854775807\r\n')
    w.resp = 3
    w.nil()
    w.map(1)
    w.double(1.5)
    w.verbatim('a')
    w.set(0)
    expect(out()).toBe('_\r\n%1\r\n,1.5\r\n=5\r\ntxt:a\r\n~0\r\n')
    const big = bytes(3, 100_000)
    w.bulk(big)
    const chunks = w.take()
    expect(chunks.some((c) => c === big)).toBe(true)
    expect(Buffer.concat(chunks).equals(Buffer.concat([Buffer.from('$100000\r\n'), big, Buffer.from('\r\n')]))).toBe(true)
  })
})

describe('keys: UTF-8 where valid, surrogateescape for the rest', () => {
  test('valid UTF-8 decodes to its text, so RESP and JS name the same key', () => {
    expect(decodeKey(Buffer.from('héllo'))).toBe('héllo')
    expect(decodeKey(Buffer.from('日本 🎉'))).toBe('日本 🎉')
    expect(encodeKey('héllo').equals(Buffer.from('héllo'))).toBe(true)
    expect(encodeKey('🎉').equals(Buffer.from('🎉'))).toBe(true)
  })

  test('each byte of an invalid sequence is U+DC80 + byte − 0x80', () => {
    expect(decodeKey(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\udcffb')
    expect(decodeKey(Buffer.from([0xc3]))).toBe('\udcc3')
    expect(decodeKey(Buffer.from([0xe2, 0x82]))).toBe('\udce2\udc82')
    // An encoded surrogate is not UTF-8: its three bytes are escaped.
    expect(decodeKey(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\udced\udca0\udc80')
    // An overlong form too.
    expect(decodeKey(Buffer.from([0xc0, 0xaf]))).toBe('\udcc0\udcaf')
    expect(decodeKey(Buffer.from([0xc3, 0xa9, 0xff]))).toBe('é\udcff')
  })

  test('random binary keys round-trip', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const b = bytes(seed, 1 + (seed % 23))
      const k = decodeKey(b)
      expect(encodeKey(k).equals(b), b.toString('hex')).toBe(true)
    }
  })

  test('lone surrogates a JS key may hold go out as WTF-8 (other than the escapes)', () => {
    expect(encodeKey('\ud800').equals(Buffer.from([0xed, 0xa0, 0x80]))).toBe(true)
    expect(encodeKey('\udc80').equals(Buffer.from([0x80]))).toBe(true)
  })
})
