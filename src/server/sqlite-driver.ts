import Database from "better-sqlite3";
import type { SqlDriver, SqlExecutor } from "./gate-store.js";

/**
 * The embedded store: one SQLite file (WAL mode, so readers never wait for the writer). The
 * database calls are synchronous; a small lock keeps a transaction's statements together while its
 * callback awaits.
 */
export function openSqliteDriver(path: string): SqlDriver {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  // With WAL, NORMAL never corrupts the database; a power cut may lose the last decisions logged.
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  // Statements are prepared once per SQL text (the store uses a fixed set of them).
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const direct: SqlExecutor = {
    all: <T>(sql: string, params: readonly unknown[] = []) =>
      Promise.resolve(prepared(sql).all(...bind(params)) as T[]),
    run: (sql, params = []) => Promise.resolve(prepared(sql).run(...bind(params)).changes),
    exec: (sql) => {
      db.exec(sql);
      return Promise.resolve();
    },
  };
  let lock: Promise<void> = Promise.resolve();
  const idle = () => lock;
  const inTransaction = async <T>(mode: string, fn: (tx: SqlExecutor) => Promise<T>) => {
    const previous = lock;
    let release!: () => void;
    lock = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      db.exec(`BEGIN ${mode}`);
      try {
        const value = await fn(direct);
        db.exec("COMMIT");
        return value;
      } catch (error) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      release();
    }
  };
  return {
    dialect: "sqlite",
    async all(sql, params) {
      await idle();
      return direct.all(sql, params);
    },
    async run(sql, params) {
      await idle();
      return direct.run(sql, params);
    },
    async exec(sql) {
      await idle();
      return direct.exec(sql);
    },
    transaction: (fn) => inTransaction("", fn),
    exclusive: (fn) => inTransaction("IMMEDIATE", fn),
    async close() {
      await idle();
      db.close();
    },
  };
}

function bind(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : typeof p === "boolean" ? Number(p) : p));
}
