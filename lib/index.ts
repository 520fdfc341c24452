export { Engine } from './engine.js'
export type {
  BitRange,
  CopyOptions,
  EngineStats,
  ExpireFlag,
  GetExOptions,
  Int64,
  LcsIdx,
  LcsMatch,
  LcsOptions,
  ListenAddress,
  ListenOptions,
  RespListener,
  ScanOptions,
  SetOptions,
  StringEncoding,
  Value,
} from './engine.js'
export { ArenaKVError } from './errors.js'
export type { ArenaKVErrorCode } from './errors.js'
export type { EngineConfig, EngineOptions, MaxmemoryAccounting, MaxmemoryPolicy } from './config.js'
export { allocator } from './allocator.js'
