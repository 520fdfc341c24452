// The `arenakv/redis` entry: arenakv as node-redis's client-side cache. Only this entry imports `redis` (an
// optional peer dependency); the main entry never does.
export { ArenaKVClientSideCache, cacheKeyOf } from './client-side-cache.js'
export type { ArenaKVClientSideCacheOptions, FlushReason } from './client-side-cache.js'
export { CacheStatsSnapshot } from './stats.js'
export type { CacheCounters } from './stats.js'
export { decodeReply, encodeReply, ReplyEncoder, REPLY_CODEC_VERSION } from './reply-codec.js'
export type { VerbatimFactory } from './reply-codec.js'
