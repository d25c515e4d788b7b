/**
 * The gate's schema, one list of versioned migrations shared by SQLite and PostgreSQL. The SQL is
 * the common subset of both (TEXT ids, BIGINT counters, ISO-8601 timestamps as TEXT), so the two
 * stores cannot drift apart. Append new versions; never edit an applied one.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "scans, findings, decisions, exceptions, tokens, audit",
    sql: `
CREATE TABLE scans (
  id TEXT PRIMARY KEY,
  repo_type TEXT NOT NULL,
  repo TEXT NOT NULL,
  revision TEXT NOT NULL,
  path TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  size BIGINT NOT NULL,
  format TEXT,
  verdict TEXT NOT NULL,
  blocked INTEGER NOT NULL,
  rule TEXT,
  global_name TEXT,
  message TEXT NOT NULL,
  result TEXT NOT NULL,
  duration_ms BIGINT NOT NULL,
  bytes_fetched BIGINT NOT NULL,
  scanned_at TEXT NOT NULL,
  UNIQUE (repo_type, repo, revision, path, content_hash)
);
CREATE INDEX scans_repo ON scans (repo_type, repo, revision);
CREATE TABLE findings (
  scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  global_name TEXT,
  member TEXT,
  PRIMARY KEY (scan_id, idx)
);
CREATE TABLE decisions (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  repo_type TEXT NOT NULL,
  repo TEXT NOT NULL,
  revision TEXT NOT NULL,
  path TEXT NOT NULL,
  scan_id TEXT,
  action TEXT NOT NULL,
  method TEXT NOT NULL,
  reason TEXT,
  exception_id TEXT
);
CREATE INDEX decisions_action ON decisions (action, at);
CREATE TABLE exceptions (
  id TEXT PRIMARY KEY,
  repo_type TEXT NOT NULL,
  repo TEXT NOT NULL,
  revision TEXT,
  path TEXT,
  content_hash TEXT,
  reason TEXT NOT NULL,
  expires TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX exceptions_repo ON exceptions (repo_type, repo);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  name TEXT,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE TABLE audit (
  id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
`,
  },
];
