import { resolve } from "node:path";
import { GateStore } from "./gate-store.js";
import { openPostgresDriver } from "./postgres-driver.js";
import { openSqliteDriver } from "./sqlite-driver.js";

/** The database file used when `--db` is not given, next to the config (or in the working folder). */
export const DEFAULT_DB_FILE = "modelvet-gate.db";

export interface DbTarget {
  kind: "sqlite" | "postgres";
  /** File path for SQLite, connection URL for PostgreSQL. */
  location: string;
}

/** `sqlite:PATH`, a bare path, or `postgres://…` / `postgresql://…`. */
export function parseDbUrl(db: string | undefined, configDir = "."): DbTarget {
  if (db === undefined || db === "") {
    return { kind: "sqlite", location: resolve(configDir, DEFAULT_DB_FILE) };
  }
  if (/^postgres(ql)?:\/\//i.test(db)) return { kind: "postgres", location: db };
  if (db.startsWith("sqlite:")) {
    const path = db.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    return { kind: "sqlite", location: path === ":memory:" ? path : resolve(path) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    throw new Error(
      `--db: unsupported database URL scheme in ${db.split("://")[0]}:// (use sqlite:PATH or postgres://…)`,
    );
  }
  return { kind: "sqlite", location: resolve(db) };
}

/** Opens the store and brings its schema up to date. */
export async function openStore(target: DbTarget): Promise<GateStore> {
  const driver =
    target.kind === "postgres"
      ? openPostgresDriver(target.location)
      : openSqliteDriver(target.location);
  const store = new GateStore(driver);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}
