// The model-based fuzz (test/helpers/model-fuzz.ts) over all eight policies: 200K operations by default,
// ARENAKV_FUZZ_OPS for a longer run, ARENAKV_FUZZ_SEED to replay one seed, ARENAKV_FUZZ_TRACE for a longer history.
import { expect, test } from 'vitest'
import { ModelFuzz } from './helpers/model-fuzz.js'

const OPS = Number(process.env.ARENAKV_FUZZ_OPS ?? 200_000)
const SEEDS = process.env.ARENAKV_FUZZ_SEED ? [Number(process.env.ARENAKV_FUZZ_SEED)] : [0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f]

for (const seed of SEEDS) {
  test(`engine agrees with the model, listeners re-entering and throwing (seed ${seed})`, async () => {
    const fuzz = new ModelFuzz(seed)
    try {
      const result = await fuzz.run(Math.ceil(OPS / SEEDS.length))
      // The run reached what it is for: events of both kinds, re-entrant writes, throws, closes and OOMs.
      expect(result.events.evicted).toBeGreaterThan(0)
      expect(result.events.expired).toBeGreaterThan(0)
      expect(result.listenerWrites).toBeGreaterThan(0)
      expect(result.listenerThrows).toBeGreaterThan(0)
      expect(result.closesFromListener).toBeGreaterThan(0)
      expect(result.ooms).toBeGreaterThan(0)
      expect(result.engines).toBeGreaterThan(1)
    } finally {
      fuzz.close()
    }
  }, 300_000)
}
