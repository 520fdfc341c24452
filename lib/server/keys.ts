// Keys between the wire and the engine. RESP keys are bytes; engine keys are JS strings (stored as WTF-8, see
// ARCHITECTURE.md "The RESP endpoint"). The rule, Python's surrogateescape: bytes that are valid UTF-8 decode
// to the characters they encode, so `SET héllo` from redis-cli and `db.get('héllo')` name the same key; each
// byte of an invalid sequence becomes the lone surrogate U+DC80 + (byte - 0x80) (U+DC80..U+DCFF). Encoding
// back maps those surrogates to their byte, so every byte string round-trips. (A JS key holding one of
// U+DC80..U+DCFF unpaired therefore reads over RESP as that raw byte; other lone surrogates go out as WTF-8.)

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A key's bytes as the engine's string. */
export function decodeKey(bytes: Uint8Array): string {
  const n = bytes.length
  let ascii = true
  for (let i = 0; i < n; i++) {
    if (bytes[i] >= 0x80) {
      ascii = false
      break
    }
  }
  if (ascii) {
    return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, n)).toString('latin1', 0, n)
  }
  try {
    return decoder.decode(bytes)
  } catch {
    return decodeEscaping(bytes)
  }
}

/** The length of the valid UTF-8 sequence at i (1..4), or 0 when the byte there starts none. */
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]
  const n = b.length
  const cont = (j: number, lo = 0x80, hi = 0xbf): boolean => j < n && b[j] >= lo && b[j] <= hi
  if (c < 0x80) return 1
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0
  if (c === 0xe0) return cont(i + 1, 0xa0) && cont(i + 2) ? 3 : 0
  // 0xed: U+D800..U+DFFF are not UTF-8 (surrogates), as a strict decoder has it.
  if (c === 0xed) return cont(i + 1, 0x80, 0x9f) && cont(i + 2) ? 3 : 0
  if (c >= 0xe1 && c <= 0xef) return cont(i + 1) && cont(i + 2) ? 3 : 0
  if (c === 0xf0) return cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0
  if (c >= 0xf1 && c <= 0xf3) return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0
  if (c === 0xf4) return cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3) ? 4 : 0
  return 0
}

function decodeEscaping(b: Uint8Array): string {
  let out = ''
  let i = 0
  while (i < b.length) {
    const len = sequenceAt(b, i)
    if (len === 0) {
      out += String.fromCharCode(0xdc00 + b[i])
      i++
    } else {
      out += decoder.decode(b.subarray(i, i + len))
      i += len
    }
  }
  return out
}

/** The engine's key as the bytes a client sent for it. */
export function encodeKey(key: string): Buffer {
  const n = key.length
  let plain = true
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdfff) {
      plain = false
      break
    }
  }
  // Without surrogates, WTF-8 is UTF-8, which Buffer.from gives; pairs, lone ones and escapes take the manual path.
  if (plain) return Buffer.from(key, 'utf8')
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i)
    if (c < 0x80) {
      out.push(c)
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 63))
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && key.charCodeAt(i + 1) >= 0xdc00 && key.charCodeAt(i + 1) <= 0xdfff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (key.charCodeAt(i + 1) - 0xdc00)
      i++
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63))
    } else if (c >= 0xdc80 && c <= 0xdcff) {
      out.push(c - 0xdc00)
    } else {
      // Other code units, lone surrogates included (WTF-8), in three bytes.
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
    }
  }
  return Buffer.from(out)
}
