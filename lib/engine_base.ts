// The bottom of the Engine's class chain: the EventEmitter and the Db every command family's facade delegates to.
// The facade is split by family to keep each file short (engine_strings.ts, engine_keys.ts, engine.ts on top);
// users see one class, Engine. The Db is #private here as in Engine: nothing a user holds reveals it.
import { EventEmitter } from 'node:events'
import type { Db } from './db.js'

export type EngineEvents = { evicted: [key: string]; expired: [key: string] }

let dbAccess: (engine: EngineBase) => Db
let dbBind: (engine: EngineBase, db: Db) => void

/** The Db an engine's facade delegates to (for the facade classes; lib/index.ts does not export it). */
export function engineDb(engine: EngineBase): Db {
  return dbAccess(engine)
}

/** Gives a new engine its Db, once, from Engine's constructor (the Db's event queue needs the emitter first). */
export function bindEngineDb(engine: EngineBase, db: Db): void {
  dbBind(engine, db)
}

export class EngineBase extends EventEmitter<EngineEvents> {
  static {
    dbAccess = (engine) => {
      const db = engine.#db
      if (db === undefined) throw new Error('the engine is not constructed')
      return db
    }
    dbBind = (engine, db) => {
      if (engine.#db !== undefined) throw new Error('the engine already has a keyspace')
      engine.#db = db
    }
  }

  #db: Db | undefined
}
