import { Engine } from '../lib/engine.js'
import { maxmemoryFor, replay } from './replay.js'
import { arcHits } from './sim/arc.js'
import { lruHits } from './sim/lru.js'
import { optHits } from './sim/opt.js'
import { wtinylfuHits } from './sim/wtinylfu.js'
import { readTraceFile, syntheticTrace, type Shape } from './traces.js'

const args = process.argv.slice(2)
const t = args[0].includes('/') ? readTraceFile(args[0]) : syntheticTrace(args[0] as Shape, 5000, 200_000)
const caps = args[1] !== undefined ? args[1].split(',').map(Number) : [0.1, 0.25, 0.5].map((f) => Math.round(f * t.distinct))
const pols = (args[2] ?? 'allkeys-lru,allkeys-lfu,allkeys-adaptive').split(',')
for (const cap of caps) {
  const n = t.keys.length
  const pc = (h: number) => ((h / n) * 100).toFixed(2)
  const line = [`${t.name}@${cap}`, `OPT ${pc(optHits(t.keys, cap))}`, `LRU ${pc(lruHits(t.keys, cap))}`, `ARC ${pc(arcHits(t.keys, cap))}`, `WTLFU ${pc(wtinylfuHits(t.keys, cap))}`]
  const mm = maxmemoryFor(Engine, cap, 100)
  for (const p of pols) {
    for (const s of p.includes('adaptive') ? [5] : [5, 10]) {
      const r = replay(Engine, t.keys, p as 'allkeys-lru', s, mm, 100)
      line.push(`${p.replace('allkeys-', '')}/${s} ${pc(r.hits)} (${Math.round(r.heldKeys)})`)
      if (p.includes('adaptive')) line.push(JSON.stringify(r.info).replace(/adaptive_/g, ''))
    }
  }
  console.log(line.join(' | '))
}
if (args[3] === 'mem') {
  const cap = caps[0]
  const mm = maxmemoryFor(Engine, cap, 100)
  for (const p of ['allkeys-lfu', 'allkeys-adaptive']) {
    const db = new Engine({ maxmemory: mm, maxmemoryPolicy: p as 'allkeys-lfu' })
    const v = Buffer.alloc(100, 0x63)
    for (let i = 0; i < t.keys.length; i++) if (db.get(`key:${t.keys[i]}`) === null) db.set(`key:${t.keys[i]}`, v)
    console.log(p, mm, db.usedMemory(), db.dbsize(), JSON.stringify(db.memoryStats()).slice(0, 300))
  }
}
