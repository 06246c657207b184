/**
 * One connection pool for a process whose stores share it (the gateway, the accepted-solutions process):
 * opened here, checked against the migration steps, then handed to each store's constructor.
 */
import type { Pool } from 'mysql2/promise';
import type { DbSettings } from '../config';
import { createMysqlPool } from '../results/mysqlStore';
import { requireMigrated } from './migrations';

/** A TLS pool on a migrated database; fails naming the missing step (and closes the pool) otherwise. */
export async function openMigratedPool(db: DbSettings, opts: { who: string; connectionLimit?: number }): Promise<Pool> {
  const pool = createMysqlPool({ ...db, connectionLimit: opts.connectionLimit });
  try {
    await requireMigrated(pool, opts.who);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return pool;
}
