// Starting test/helpers/share-worker.mjs for the shared-engine tests (test/share.test.ts, the allocator contract's
// share case): its first message is its result; an error or an exit before it fails the test.
import { Worker } from 'node:worker_threads'

export const SHARE_WORKER = new URL('./share-worker.mjs', import.meta.url)

export function runShareWorker<T>(workerData: Record<string, unknown>): { worker: Worker; result: Promise<T> } {
  const worker = new Worker(SHARE_WORKER, { workerData })
  const result = new Promise<T>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before reporting`)))
  })
  return { worker, result }
}
