export { Engine } from './engine.js'
export type {
  EngineStats,
  ExpireFlag,
  GetExOptions,
  ListenAddress,
  ListenOptions,
  RespListener,
  ScanOptions,
  SetOptions,
  Value,
} from './engine.js'
export { ArenaKVError } from './errors.js'
export type { ArenaKVErrorCode } from './errors.js'
export type { EngineConfig, EngineOptions, MaxmemoryAccounting, MaxmemoryPolicy } from './config.js'
export { allocator } from './allocator.js'
