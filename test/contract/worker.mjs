// A worker_threads body for the contract suite: loads the same addon build, allocates in its own store,
// reports, waits, then frees, so the main thread can read the summed counters while every worker holds memory.
import { createRequire } from 'node:module'
import { parentPort, workerData } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../..', import.meta.url))
const addon = process.env.ARENAKV_BINARY ? require(process.env.ARENAKV_BINARY) : require('node-gyp-build')(root)

const { store } = addon
const id = store.open(true, 1024)
const handles = []
let bytes = 0
for (let i = 0; i < workerData.count; i++) {
  const h = store.put(id, `w${workerData.id}:${i}`, new Uint8Array(16 + ((i * 37) % 3000)))
  handles.push(h)
  bytes += store.usableSize(id, h)
}
parentPort.postMessage({ phase: 'holding', usedBytes: store.usedBytes(id), slotBytes: bytes })
parentPort.once('message', () => {
  for (const h of handles) store.free(id, h)
  const after = store.usedBytes(id)
  store.close(id)
  parentPort.postMessage({ phase: 'freed', usedBytes: after })
})
