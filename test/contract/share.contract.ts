// A shared engine on every allocator build (ARCHITECTURE.md "Sharing"): one store used from several threads' heaps
// at once, workers attaching, detaching and dying mid-command, FLUSHALL reopening the store, and timer work that
// lets the lock go. Under the ASAN build any stray access (a freed slot read, a dead thread's cell written) aborts
// the run. The mimalloc build refuses to share (its heaps are per thread). Workers run dist/ (ensureDist).
import { Worker } from 'node:worker_threads'
import { beforeAll, expect, test } from 'vitest'
import { allocator } from '../../lib/allocator.js'
import { Engine } from '../../lib/engine.js'
import { sharedEngineRecoveries } from '../../lib/share.js'
import { ensureDist } from '../helpers/dist.js'
import { SHARE_WORKER, runShareWorker } from '../helpers/share-run.js'


beforeAll(() => ensureDist(), 120_000)

test(`a shared engine on ${allocator.name}: workers mixing, dying, detaching; FLUSHALL; timer work`, async () => {
  if (allocator.name === 'mimalloc') {
    expect(() => new Engine().share()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED' }))
    return
  }
  const db = new Engine({ maxmemory: 8 * 1024 * 1024, maxmemoryPolicy: 'allkeys-lru' })
  const descriptor = db.share()
  // Mixed commands from 3 workers at once, each checked against its own model.
  const mixed = [0, 1, 2].map((id) =>
    runShareWorker<{ mismatches: number; model: [string, string][] }>({ mode: 'mixed', descriptor, id, ops: 3000, keys: 100, sharedKeys: 10 }),
  )
  for (const r of await Promise.all(mixed.map((m) => m.result))) {
    expect(r.mismatches).toBe(0)
    for (const [key, value] of r.model) expect(db.getString(key)).toBe(value)
  }
  // Victims terminated mid-command beside a survivor: teardown of a dying thread's state, poisoning, rebuild.
  const stop = new SharedArrayBuffer(4)
  const survivor = runShareWorker<{ wrong: number; ops: number }>({ mode: 'survivor', descriptor, id: 99, stop })
  for (let i = 0; i < 6; i++) {
    const victim = runShareWorker<string>({ mode: 'victim', descriptor, id: i })
    await victim.result
    await new Promise((r) => setTimeout(r, Math.random() * 5))
    await victim.worker.terminate()
  }
  Atomics.store(new Int32Array(stop), 0, 1)
  const s = await survivor.result
  expect(s.wrong).toBe(0)
  expect(sharedEngineRecoveries(descriptor)).toBeLessThanOrEqual(6)
  // Keys expiring under another thread's timer, which lets the lock go between its loops, while this one writes.
  const expiring = new Worker(SHARE_WORKER, { workerData: { mode: 'expiring', descriptor, id: 0, count: 5000 } })
  await new Promise((resolve, reject) => {
    expiring.once('message', resolve)
    expiring.once('error', reject)
  })
  for (let i = 0; i < 20_000; i++) db.set(`w:${i % 500}`, `v${i}`)
  const done = new Promise((resolve) => expiring.once('message', resolve))
  expiring.postMessage('stop')
  await done
  await expiring.terminate()
  // FLUSHALL reopens the store in place; attach and close churn gives every byte back.
  db.flushall()
  expect(db.dbsize()).toBe(0)
  // A key written first: the keyspace's arrays are sized by the first write after the flush, not by the workers'.
  db.set('keep', 'v')
  const before = db.usedMemory()
  for (let i = 0; i < 4; i++) {
    const churn = runShareWorker<string>({ mode: 'churn', descriptor, id: i, close: i % 2 === 0 })
    await churn.result
    await churn.worker.terminate()
  }
  // A read first: the used-bytes figure is refreshed by a native call (the departed workers' shares were handed
  // back in their teardown, after their last call).
  expect(db.getString('keep')).toBe('v')
  expect(db.usedMemory()).toBe(before)
  db.close()
}, 120_000)
