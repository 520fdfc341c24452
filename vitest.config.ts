import { defineConfig } from 'vitest/config'

// Test tiers, each a vitest project (`vitest run --project <name>`, or `npm run test:<name>`); `npm test` runs
// them all. A test file belongs to exactly one tier: unit takes every file the other tiers do not name.
const TIERS = {
  /** The allocator contract and exported symbols on every variant build (build-variants/), and the cmake-js build. */
  builds: ['test/allocator-builds.test.ts', 'test/cmake-build.test.ts', 'test/symbols.test.ts'],
  /** The packed tarball installed into a fresh project, from its prebuild and from source. */
  packaging: ['test/install.test.ts'],
  /** `arenakv demo`, `bench` and `serve` from dist/ (tiny workloads, beside redis-server and the Redis tools). */
  cli: ['test/cli.test.ts', 'test/bench.test.ts', 'test/bench-nearcache.test.ts', 'test/bench-share.test.ts', 'test/server-tools.test.ts', 'test/bench-trace.test.ts'],
}

export default defineConfig({
  test: {
    // Native addons keep per-process state (allocator counters, arenas): run each file in its own forked process.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report lets .ci/run print a plain 'N passed, N failed' line.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    projects: [
      // Fast, on the default build alone: engine, keyspace, store, config, report, eviction, expiry, events, fuzz.
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: Object.values(TIERS).flat() } },
      ...Object.entries(TIERS).map(([name, include]) => ({ extends: true, test: { name, include } })),
    ],
  },
})
