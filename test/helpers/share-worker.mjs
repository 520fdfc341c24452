// A worker_threads body for test/share.test.ts: attaches to a shared engine (dist/, built by ensureDist) and runs
// one of the test's workloads, reporting what it saw to the main thread.
import { parentPort, workerData } from 'node:worker_threads'

const { Engine } = await import(new URL('../../dist/lib/index.js', import.meta.url).href)
const { mode, descriptor, id } = workerData
const db = Engine.attach(descriptor)

// xorshift32: a reproducible stream of operations per worker.
let rng = (id + 1) * 2654435761 >>> 0 || 1
function rand(n) {
  rng ^= rng << 13
  rng >>>= 0
  rng ^= rng >>> 17
  rng ^= rng << 5
  rng >>>= 0
  return rng % n
}

if (mode === 'mixed') {
  // Keys o<id>:<k> are this worker's alone: every read is checked exactly against a model. Keys s:<k> are every
  // worker's: INCR only, and the counts are summed by the main thread.
  const model = new Map()
  let mismatches = 0
  let sharedIncrs = 0
  const check = (key, got) => {
    const want = model.has(key) ? model.get(key) : null
    if (got !== want) {
      mismatches++
      if (mismatches < 5) console.error(`worker ${id}: ${key} is ${got}, expected ${want}`)
    }
  }
  for (let op = 0; op < workerData.ops; op++) {
    const key = `o${id}:${rand(workerData.keys)}`
    switch (rand(9)) {
      case 0:
        db.set(key, `v${op}`)
        model.set(key, `v${op}`)
        break
      case 1:
        check(key, db.getString(key) ?? null)
        break
      case 2:
        db.del(key)
        model.delete(key)
        break
      case 3: {
        const cur = model.get(key)
        if (cur === undefined || /^-?\d+$/.test(cur)) {
          const n = db.incr(key)
          model.set(key, String(n))
          if (cur !== undefined && n !== Number(cur) + 1) mismatches++
        }
        break
      }
      case 4:
        // A long TTL: the key stays, with an expire time to keep in the shared volatile list.
        if (model.has(key)) db.expire(key, 10_000)
        break
      case 5:
        if (model.has(key)) db.persist(key)
        break
      case 6:
        db.append(key, 'a')
        model.set(key, (model.get(key) ?? '') + 'a')
        break
      case 7:
        check(key, db.getdel(key)?.toString() ?? null)
        model.delete(key)
        break
      default:
        db.incr(`s:${rand(workerData.sharedKeys)}`)
        sharedIncrs++
    }
  }
  for (const [key] of model) check(key, db.getString(key) ?? null)
  parentPort.postMessage({ mismatches, sharedIncrs, model: [...model] })
  db.close()
} else if (mode === 'fill') {
  // Writers under maxmemory: every write must succeed (the engine evicts for the whole process).
  const value = 'x'.repeat(workerData.valueBytes)
  for (let i = 0; i < workerData.count; i++) db.set(`f${id}:${i}`, value)
  parentPort.postMessage({ done: true })
  db.close()
} else if (mode === 'victim') {
  // Runs writes until terminated: the main thread kills it at a random moment, often holding the lock. With
  // `keys` and `pad`, over more keys with larger values (an engine under maxmemory evicts as they write).
  const keys = workerData.keys ?? 200
  const pad = 'p'.repeat(workerData.pad ?? 0)
  parentPort.postMessage('running')
  for (let i = 0; ; i++) {
    const key = `t:${i % keys}`
    db.set(key, `victim${i}${pad}`)
    db.incr('t:count')
    if (i % 3 === 0) db.del(`t:${(i * 7) % keys}`)
    if (i % 2 === 0) db.get(`t:${rand(16)}`)
  }
} else if (mode === 'survivor') {
  // Keeps writing and reading its own keys while victims die around it: a read is the value last written or,
  // after a rebuild of a poisoned engine, absent; never anything else.
  const values = new Map()
  let wrong = 0
  let lost = 0
  let ops = 0
  const stop = new Int32Array(workerData.stop)
  while (Atomics.load(stop, 0) === 0) {
    const key = `sv:${rand(100)}`
    const got = db.getString(key) ?? null
    const want = values.get(key) ?? null
    if (got !== want) {
      if (got === null) lost++
      else wrong++
    }
    const v = `s${ops++}`
    db.set(key, v)
    values.set(key, v)
  }
  parentPort.postMessage({ wrong, lost, ops })
  db.close()
} else if (mode === 'adaptive') {
  // Writers and readers under maxmemory (test/share-adaptive.test.ts): every key is written once, with a value its
  // name determines, so a read of any worker's key is checked exactly (the value, or absent once evicted). Reads
  // favour a few hot keys per worker, so the sketch has frequencies to weigh. Every 'evicted' event this thread
  // receives is reported: the main thread checks that no key is evicted twice nor both evicted and present.
  const pad = 'v'.repeat(workerData.valueBytes)
  const valueOf = (w, i) => `${w}:${i}:${pad}`
  const evicted = []
  db.on('evicted', (key) => evicted.push(key))
  let wrong = 0
  let hits = 0
  let reads = 0
  const check = (w, i) => {
    const got = db.getString(`a${w}:${i}`)
    reads++
    if (got === undefined) return
    hits++
    if (got !== valueOf(w, i)) {
      wrong++
      if (wrong < 5) console.error(`worker ${id}: a${w}:${i} read ${got.slice(0, 20)}`)
    }
  }
  for (let i = 0; i < workerData.count; i++) {
    db.set(`a${id}:${i}`, valueOf(id, i))
    check(id, rand(32))
    const w = rand(workerData.workers)
    check(w, rand(Math.max(1, i)))
  }
  parentPort.postMessage({ wrong, hits, reads, evicted, written: workerData.count })
  db.close()
} else if (mode === 'rpc') {
  // Runs the main thread's calls on this thread's engine, one message each: { method, args } → { result } or
  // { error: { code, message } }.
  parentPort.postMessage('ready')
  parentPort.on('message', ({ method, args }) => {
    try {
      const result = db[method](...args)
      parentPort.postMessage({ result })
    } catch (error) {
      parentPort.postMessage({ error: { code: error.code, message: error.message } })
    }
    if (method === 'close') parentPort.close()
  })
} else if (mode === 'zipf') {
  // Cache-aside over a Zipf trace (a GET; a SET after a miss), for the hit ratio of a shared adaptive engine.
  const { ZipfSampler } = await import(new URL('../../dist/bench/zipf.js', import.meta.url).href)
  const { Rng } = await import(new URL('../../dist/bench/rng.js', import.meta.url).href)
  const trace = new ZipfSampler(workerData.keySpace, workerData.zipfS, new Rng(workerData.seed)).trace(workerData.ops)
  const value = 'z'.repeat(workerData.valueBytes)
  let hits = 0
  for (let i = 0; i < trace.length; i++) {
    const key = `z:${trace[i]}`
    if (db.get(key) !== undefined) hits++
    else db.set(key, value)
  }
  parentPort.postMessage({ hits, gets: trace.length })
  db.close()
} else if (mode === 'churn') {
  db.set(`churn:${id}`, 'x')
  db.del(`churn:${id}`)
  if (workerData.close) db.close()
  parentPort.postMessage('done')
} else if (mode === 'expiring') {
  // Many keys that expire at once, then an idle event loop: this thread's hz timer runs the slow cycles (each up to
  // its 25 ms budget) and the fast ones over them, while the main thread runs commands.
  const { resetSharedLockStats, sharedLockStats } = await import(new URL('../../dist/lib/share.js', import.meta.url).href)
  for (let i = 0; i < workerData.count; i++) db.set(`e:${i}`, 'v', { px: 1 })
  resetSharedLockStats(db, 'off')
  parentPort.postMessage('ready')
  parentPort.once('message', () => {
    // handoffs: the times this thread's timer work let the lock go to a waiting thread between two of its steps.
    parentPort.postMessage({ expired: db.stats.expired_keys, handoffs: sharedLockStats(db).handoffs })
    db.close()
  })
} else if (mode === 'watch') {
  // DBSIZE back to back until the main thread sets the stop cell: every distinct size seen, in order.
  const stop = new Int32Array(workerData.stop)
  const sizes = []
  parentPort.postMessage('ready')
  while (Atomics.load(stop, 0) === 0) {
    const n = db.dbsize()
    if (sizes.length === 0 || sizes[sizes.length - 1] !== n) sizes.push(n)
  }
  parentPort.postMessage({ sizes })
  db.close()
} else if (mode === 'events') {
  const seen = []
  db.on('expired', (key) => seen.push(key))
  const got = db.getString(workerData.key) ?? null
  parentPort.postMessage({ seen, got })
  db.close()
}
