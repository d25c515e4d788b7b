import { randomUUID } from "node:crypto";
import type { Severity } from "../core/finding.js";
import type { Verdict } from "../core/verdict.js";
import type { FileResult } from "../scan/results.js";
import { MIGRATIONS } from "./migrations.js";

/**
 * What the gate remembers: scans (one per file version), their findings, every decision served,
 * exceptions, API tokens (hashed) and an audit trail. One {@link GateStore} over a small
 * {@link SqlDriver}; `sqlite-driver.ts` and `postgres-driver.ts` are the two drivers.
 */

export type RepoType = "model" | "dataset" | "space" | "upload";

/** A file version: the unit that is scanned once. */
export interface FileKey {
  repoType: RepoType;
  repo: string;
  /** The resolved commit (never a branch name). */
  revision: string;
  path: string;
  /** The content's hash as the Hub states it (X-Linked-Etag / ETag, unquoted). */
  contentHash: string;
}

export interface ScanRecord extends FileKey {
  id: string;
  size: number;
  format: string | null;
  verdict: Verdict;
  /** Whether the policy in force when it was scanned refuses this file. */
  blocked: boolean;
  /** The finding that decided a block (or the worst finding). */
  rule: string | null;
  global: string | null;
  /** One line for humans: why it is blocked, or that it is clean. */
  message: string;
  result: FileResult;
  durationMs: number;
  bytesFetched: number;
  scannedAt: string;
}

export interface FindingRow {
  rule: string;
  severity: Severity;
  message: string;
  global: string | null;
  member: string | null;
}

export type DecisionAction = "served" | "blocked" | "excepted";

export interface DecisionRecord {
  id: string;
  at: string;
  repoType: RepoType;
  repo: string;
  revision: string;
  path: string;
  scanId: string | null;
  action: DecisionAction;
  method: string;
  reason: string | null;
  exceptionId: string | null;
}

export interface GateException {
  id: string;
  repoType: RepoType;
  repo: string;
  /** Null: any revision. */
  revision: string | null;
  /** Null: any file of the repo. */
  path: string | null;
  contentHash: string | null;
  reason: string;
  /** ISO-8601 instant after which the exception no longer applies. */
  expires: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export const ROLES = ["admin", "reader"] as const;
export type Role = (typeof ROLES)[number];

export interface TokenRecord {
  id: string;
  role: Role;
  name: string | null;
  createdAt: string;
}

export interface AuditEntry {
  id: string;
  at: string;
  /** Token id (never the token) or `cli`. */
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/** SQL with `?` placeholders; drivers translate to their own. */
export interface SqlExecutor {
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: "sqlite" | "postgres";
  /** Runs `fn` in one transaction (all or nothing). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs `fn` holding a lock that other processes sharing the database respect. */
  exclusive<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;

const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export class GateStore {
  constructor(readonly driver: SqlDriver) {}

  /** Applies the migrations not yet applied; safe to call from several processes at once. */
  async migrate(): Promise<number> {
    return this.driver.exclusive(async (tx) => {
      await tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
      );
      const done = new Set(
        (await tx.all<{ version: unknown }>("SELECT version FROM schema_migrations")).map((r) =>
          Number(r.version),
        ),
      );
      let applied = 0;
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await tx.exec(m.sql);
        await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
        applied++;
      }
      return applied;
    });
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.driver.all<{ v: unknown }>(
      "SELECT MAX(version) AS v FROM schema_migrations",
    );
    return Number(rows[0]?.v ?? 0);
  }

  async ping(): Promise<void> {
    await this.driver.all("SELECT 1 AS one");
  }

  async getScan(key: FileKey): Promise<ScanRecord | null> {
    const rows = await this.driver.all(
      "SELECT * FROM scans WHERE repo_type = ? AND repo = ? AND revision = ? AND path = ? AND content_hash = ?",
      [key.repoType, key.repo, key.revision, key.path, key.contentHash],
    );
    return rows[0] ? toScan(rows[0]) : null;
  }

  async getScanById(id: string): Promise<ScanRecord | null> {
    const rows = await this.driver.all("SELECT * FROM scans WHERE id = ?", [id]);
    return rows[0] ? toScan(rows[0]) : null;
  }

  /**
   * Stores a scan and its findings unless that file version already has one (another instance
   * won the race); returns the stored record either way.
   */
  async putScan(scan: Omit<ScanRecord, "id">): Promise<ScanRecord> {
    const id = randomUUID();
    await this.driver.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO scans (id, repo_type, repo, revision, path, content_hash, size, format, verdict,
           blocked, rule, global_name, message, result, duration_ms, bytes_fetched, scanned_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (repo_type, repo, revision, path, content_hash) DO NOTHING`,
        [
          id,
          scan.repoType,
          scan.repo,
          scan.revision,
          scan.path,
          scan.contentHash,
          scan.size,
          scan.format,
          scan.verdict,
          scan.blocked ? 1 : 0,
          scan.rule,
          scan.global,
          scan.message,
          JSON.stringify(scan.result),
          Math.round(scan.durationMs),
          scan.bytesFetched,
          scan.scannedAt,
        ],
      );
      if (inserted === 0) return;
      for (const [idx, f] of scan.result.findings.entries()) {
        await tx.run(
          "INSERT INTO findings (scan_id, idx, rule, severity, message, global_name, member) VALUES (?, ?, ?, ?, ?, ?, ?)",
          [
            id,
            idx,
            f.rule,
            f.severity,
            f.message,
            f.evidence?.global ?? null,
            f.location.member?.join("/") ?? null,
          ],
        );
      }
    });
    const stored = await this.getScan(scan);
    if (stored === null) throw new Error("scan vanished after insert");
    return stored;
  }

  async listScans(
    filter: { repoType?: RepoType; repo?: string; revision?: string; blocked?: boolean } = {},
    limit = 100,
  ): Promise<ScanRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.repoType !== undefined) where.push("repo_type = ?") && params.push(filter.repoType);
    if (filter.repo !== undefined) where.push("repo = ?") && params.push(filter.repo);
    if (filter.revision !== undefined) where.push("revision = ?") && params.push(filter.revision);
    if (filter.blocked !== undefined)
      where.push("blocked = ?") && params.push(filter.blocked ? 1 : 0);
    params.push(limit);
    const rows = await this.driver.all(
      `SELECT * FROM scans ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY scanned_at DESC, id LIMIT ?`,
      params,
    );
    return rows.map(toScan);
  }

  async countScans(): Promise<number> {
    const rows = await this.driver.all<{ n: unknown }>("SELECT COUNT(*) AS n FROM scans");
    return Number(rows[0]?.n ?? 0);
  }

  async findings(scanId: string): Promise<FindingRow[]> {
    const rows = await this.driver.all(
      "SELECT rule, severity, message, global_name, member FROM findings WHERE scan_id = ? ORDER BY idx",
      [scanId],
    );
    return rows.map((r) => ({
      rule: str(r.rule),
      severity: str(r.severity) as Severity,
      message: str(r.message),
      global: strOrNull(r.global_name),
      member: strOrNull(r.member),
    }));
  }

  /** The first blocked file of a repo at a commit, for `--block-repo`. */
  async blockedInRepo(repoType: RepoType, repo: string, revision: string) {
    const rows = await this.driver.all(
      "SELECT * FROM scans WHERE repo_type = ? AND repo = ? AND revision = ? AND blocked = 1 ORDER BY scanned_at LIMIT 1",
      [repoType, repo, revision],
    );
    return rows[0] ? toScan(rows[0]) : null;
  }

  async recordDecision(d: Omit<DecisionRecord, "id" | "at">): Promise<DecisionRecord> {
    const record: DecisionRecord = { id: randomUUID(), at: new Date().toISOString(), ...d };
    await this.driver.run(
      `INSERT INTO decisions (id, at, repo_type, repo, revision, path, scan_id, action, method, reason, exception_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        record.id,
        record.at,
        record.repoType,
        record.repo,
        record.revision,
        record.path,
        record.scanId,
        record.action,
        record.method,
        record.reason,
        record.exceptionId,
      ],
    );
    return record;
  }

  async listDecisions(
    filter: { action?: DecisionAction; since?: string } = {},
    limit = 100,
  ): Promise<DecisionRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.action !== undefined) where.push("action = ?") && params.push(filter.action);
    if (filter.since !== undefined) where.push("at >= ?") && params.push(filter.since);
    params.push(limit);
    const rows = await this.driver.all(
      `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY at DESC, id LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      id: str(r.id),
      at: str(r.at),
      repoType: str(r.repo_type) as RepoType,
      repo: str(r.repo),
      revision: str(r.revision),
      path: str(r.path),
      scanId: strOrNull(r.scan_id),
      action: str(r.action) as DecisionAction,
      method: str(r.method),
      reason: strOrNull(r.reason),
      exceptionId: strOrNull(r.exception_id),
    }));
  }

  async addException(
    e: Omit<GateException, "id" | "createdAt" | "revokedAt">,
  ): Promise<GateException> {
    const record: GateException = {
      ...e,
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      revokedAt: null,
    };
    await this.driver.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO exceptions (id, repo_type, repo, revision, path, content_hash, reason, expires, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          record.id,
          record.repoType,
          record.repo,
          record.revision,
          record.path,
          record.contentHash,
          record.reason,
          record.expires,
          record.createdBy,
          record.createdAt,
        ],
      );
      await insertAudit(tx, record.createdBy, "exception.add", { ...record });
    });
    return record;
  }

  async revokeException(id: string, actor: string): Promise<boolean> {
    return this.driver.transaction(async (tx) => {
      const changed = await tx.run(
        "UPDATE exceptions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        [new Date().toISOString(), id],
      );
      if (changed > 0) await insertAudit(tx, actor, "exception.revoke", { id });
      return changed > 0;
    });
  }

  async listExceptions(): Promise<GateException[]> {
    const rows = await this.driver.all("SELECT * FROM exceptions ORDER BY created_at DESC, id");
    return rows.map(toException);
  }

  /** The newest exception in force at `now` that covers this file version, if any. */
  async findException(key: FileKey, now: Date = new Date()): Promise<GateException | null> {
    const rows = await this.driver.all(
      `SELECT * FROM exceptions WHERE repo_type = ? AND repo = ? AND revoked_at IS NULL AND expires > ?
         AND (revision IS NULL OR revision = ?) AND (path IS NULL OR path = ?)
         AND (content_hash IS NULL OR content_hash = ?)
       ORDER BY created_at DESC LIMIT 1`,
      [key.repoType, key.repo, now.toISOString(), key.revision, key.path, key.contentHash],
    );
    return rows[0] ? toException(rows[0]) : null;
  }

  async createToken(hash: string, role: Role, name: string | null): Promise<TokenRecord> {
    const record: TokenRecord = {
      id: randomUUID(),
      role,
      name,
      createdAt: new Date().toISOString(),
    };
    await this.driver.transaction(async (tx) => {
      await tx.run("INSERT INTO tokens (id, hash, role, name, created_at) VALUES (?, ?, ?, ?, ?)", [
        record.id,
        hash,
        role,
        name,
        record.createdAt,
      ]);
      await insertAudit(tx, "cli", "token.create", { id: record.id, role, name });
    });
    return record;
  }

  /** Every token not revoked (ids, roles and names; never hashes), newest first. */
  async listTokens(): Promise<TokenRecord[]> {
    const rows = await this.driver.all(
      "SELECT id, role, name, created_at FROM tokens WHERE revoked_at IS NULL ORDER BY created_at DESC",
      [],
    );
    return rows.map((r) => ({
      id: str(r.id),
      role: str(r.role) as Role,
      name: strOrNull(r.name),
      createdAt: str(r.created_at),
    }));
  }

  /** Revokes a token by id (audited); false when no live token has that id. */
  async revokeToken(id: string, actor: string): Promise<boolean> {
    return this.driver.transaction(async (tx) => {
      const changed = await tx.run(
        "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        [new Date().toISOString(), id],
      );
      if (changed > 0) await insertAudit(tx, actor, "token.revoke", { id });
      return changed > 0;
    });
  }

  async findToken(hash: string): Promise<TokenRecord | null> {
    const rows = await this.driver.all(
      "SELECT id, role, name, created_at FROM tokens WHERE hash = ? AND revoked_at IS NULL",
      [hash],
    );
    const r = rows[0];
    if (r === undefined) return null;
    return {
      id: str(r.id),
      role: str(r.role) as Role,
      name: strOrNull(r.name),
      createdAt: str(r.created_at),
    };
  }

  async audit(actor: string, action: string, detail: Record<string, unknown>): Promise<void> {
    await insertAudit(this.driver, actor, action, detail);
  }

  async listAudit(limit = 100): Promise<AuditEntry[]> {
    const rows = await this.driver.all("SELECT * FROM audit ORDER BY at DESC, id LIMIT ?", [limit]);
    return rows.map((r) => ({
      id: str(r.id),
      at: str(r.at),
      actor: str(r.actor),
      action: str(r.action),
      detail: JSON.parse(str(r.detail)) as Record<string, unknown>,
    }));
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

async function insertAudit(
  tx: SqlExecutor,
  actor: string,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await tx.run("INSERT INTO audit (id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)", [
    randomUUID(),
    new Date().toISOString(),
    actor,
    action,
    JSON.stringify(detail),
  ]);
}

function toScan(r: Row): ScanRecord {
  return {
    id: str(r.id),
    repoType: str(r.repo_type) as RepoType,
    repo: str(r.repo),
    revision: str(r.revision),
    path: str(r.path),
    contentHash: str(r.content_hash),
    size: Number(r.size),
    format: strOrNull(r.format),
    verdict: str(r.verdict) as Verdict,
    blocked: Number(r.blocked) === 1,
    rule: strOrNull(r.rule),
    global: strOrNull(r.global_name),
    message: str(r.message),
    result: JSON.parse(str(r.result)) as FileResult,
    durationMs: Number(r.duration_ms),
    bytesFetched: Number(r.bytes_fetched),
    scannedAt: str(r.scanned_at),
  };
}

function toException(r: Row): GateException {
  return {
    id: str(r.id),
    repoType: str(r.repo_type) as RepoType,
    repo: str(r.repo),
    revision: strOrNull(r.revision),
    path: strOrNull(r.path),
    contentHash: strOrNull(r.content_hash),
    reason: str(r.reason),
    expires: str(r.expires),
    createdBy: str(r.created_by),
    createdAt: str(r.created_at),
    revokedAt: strOrNull(r.revoked_at),
  };
}
