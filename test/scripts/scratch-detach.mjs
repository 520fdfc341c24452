// Detaches a store's scratch buffer the way any caller holding it can (a BYOB read of a byte stream transfers
// the view's ArrayBuffer), lets V8 collect it, then keeps using the store: every value must still read back
// right, and native code must never touch memory it does not own (the ASAN build turns a stray write into a
// report). Run with --expose-gc, from the package root, after tsc (it loads dist/).
import { allocator } from '../../dist/lib/allocator.js'
import { createStore } from '../../dist/lib/store.js'

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')

const baseline = allocator.usedMemory()
let store = createStore()
const size = store.scratch.byteLength
let stream = new ReadableStream({
  type: 'bytes',
  pull(controller) {
    const view = controller.byobRequest.view
    view[0] = 42
    controller.byobRequest.respond(1)
  },
})
let reader = stream.getReader({ mode: 'byob' })
let result = await reader.read(store.scratch)
if (result.value.byteLength !== 1 || result.value[0] !== 42) throw new Error('the BYOB read did not complete')
const detached = store.scratch.byteLength === 0
result = reader = stream = null
// Finalizers of collected buffers run on a later turn: collect, yield, collect again.
for (let i = 0; i < 4; i++) {
  globalThis.gc()
  await new Promise((resolve) => setImmediate(resolve))
}
// Churn the process heap so memory freed with the buffer is handed out again before the reads below.
const churn = []
for (let i = 0; i < 2000; i++) churn.push(Buffer.alloc(size >> (i % 6), 0x5a))

const keys = 3000
const handles = []
const expected = []
const valueOf = (i, round) => `${round}:${i}:`.padEnd(16 + ((i * 131 + round * 17) % (size + 512)), String.fromCharCode(97 + (i % 26)))
for (let i = 0; i < keys; i++) {
  expected.push(valueOf(i, 0))
  handles.push(store.put(`key:${i}`, expected[i]))
}
let checked = 0
for (let round = 1; round <= 3; round++) {
  for (let i = 0; i < keys; i++) {
    const length = store.read(handles[i], `key:${i}`)
    if (length !== Buffer.byteLength(expected[i])) throw new Error(`read(${i}) returned ${length}`)
    const out = new Uint8Array(length)
    store.readInto(handles[i], out)
    if (Buffer.from(out).toString() !== expected[i]) throw new Error(`value ${i} changed`)
    if (store.scratch.byteLength >= length && Buffer.from(store.scratch.subarray(0, length)).toString() !== expected[i]) {
      throw new Error(`scratch holds the wrong bytes for ${i}`)
    }
    expected[i] = valueOf(i, round)
    store.replace(handles[i], expected[i])
    checked++
  }
}
// Memory V8 handed out again must hold what JS wrote there, not values native code copied in.
for (const b of churn) if (b.some((x) => x !== 0x5a)) throw new Error('native code wrote into memory it does not own')
for (const h of handles) store.free(h)
store.close()
store = null
churn.length = 0
// The scratch and cells blocks go once both the store and V8 have let go of them: nothing of the store is left.
for (let i = 0; i < 4; i++) {
  globalThis.gc()
  await new Promise((resolve) => setImmediate(resolve))
}
if (allocator.usedMemory() !== baseline) throw new Error(`${allocator.usedMemory() - baseline} bytes left behind`)
console.log(JSON.stringify({ detached, checked }))
