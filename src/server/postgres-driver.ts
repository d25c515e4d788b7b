import pg from "pg";
import type { SqlDriver, SqlExecutor } from "./gate-store.js";

/** Key of the advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK = 0x6d76_6774; // "mvgt"

/** The team store: a PostgreSQL pool shared by every `serve` instance. */
export function openPostgresDriver(url: string, options: { max?: number } = {}): SqlDriver {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const on = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(numbered(sql), [...params])).rows as T[];
    },
    async run(sql, params = []) {
      return (await client.query(numbered(sql), [...params])).rowCount ?? 0;
    },
    async exec(sql) {
      await client.query(sql);
    },
  });
  const inTransaction = async <T>(lock: boolean, fn: (tx: SqlExecutor) => Promise<T>) => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      if (lock) await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      const value = await fn(on(client));
      await client.query("COMMIT");
      return value;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    dialect: "postgres",
    ...on(pool),
    transaction: (fn) => inTransaction(false, fn),
    exclusive: (fn) => inTransaction(true, fn),
    close: () => pool.end(),
  };
}

/** `?` placeholders to `$1, $2, …` (our SQL never has `?` inside literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
