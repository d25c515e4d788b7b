import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FileKey, GateStore } from "../src/server/gate-store.js";
import { openStore, parseDbUrl } from "../src/server/open-store.js";
import { authenticate, createToken, hashToken } from "../src/server/tokens.js";
import { freshPgDatabase, testPgUrl } from "./gate-helpers.js";

const pgUrl = testPgUrl("gate store tests on PostgreSQL");

const KEY: FileKey = {
  repoType: "model",
  repo: "acme/m",
  revision: "c".repeat(40),
  path: "model.bin",
  contentHash: "h1",
};

function scanOf(key: FileKey, blocked: boolean) {
  return {
    ...key,
    size: 10,
    format: "pickle",
    verdict: blocked ? ("malicious" as const) : ("safe" as const),
    blocked,
    rule: blocked ? "pickle.dangerous-global" : null,
    global: blocked ? "posix.system" : null,
    message: blocked ? "bad" : "ok",
    result: {
      path: key.path,
      size: 10,
      format: "pickle",
      verdict: blocked ? ("malicious" as const) : ("safe" as const),
      findings: blocked
        ? [
            {
              rule: "pickle.dangerous-global",
              severity: "critical" as const,
              message: "calls os.system",
              location: { file: key.path, member: ["archive", "data.pkl"] },
              evidence: { global: "posix.system" },
            },
          ]
        : [],
      children: [],
      timings: { analyseMs: 1 },
    },
    durationMs: 5,
    bytesFetched: 10,
    scannedAt: new Date().toISOString(),
  };
}

const backends: {
  name: string;
  open: () => Promise<{ store: GateStore; done: () => Promise<void> }>;
}[] = [
  {
    name: "SQLite",
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), "modelvet-store-"));
      const store = await openStore(parseDbUrl(`sqlite:${join(dir, "g.db")}`));
      return { store, done: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];
if (pgUrl !== undefined) {
  backends.push({
    name: "PostgreSQL",
    open: async () => {
      const db = await freshPgDatabase(pgUrl);
      return { store: await openStore(parseDbUrl(db.url)), done: db.drop };
    },
  });
}

describe.each(backends)("gate store on $name", ({ open }) => {
  let store: GateStore;
  let done: () => Promise<void>;
  beforeAll(async () => {
    ({ store, done } = await open());
  });
  afterAll(async () => {
    await store.close();
    await done();
  });

  it("migrates to the latest version and is idempotent", async () => {
    expect(await store.schemaVersion()).toBe(1);
    expect(await store.migrate()).toBe(0);
  });

  it("keeps the first scan of a file version; findings stored with it", async () => {
    const [a, b] = await Promise.all([
      store.putScan(scanOf(KEY, true)),
      store.putScan(scanOf(KEY, false)),
    ]);
    expect(a.id).toBe(b.id);
    expect(await store.countScans()).toBe(1);
    const stored = (await store.getScan(KEY))!;
    expect(stored.result.findings).toHaveLength(stored.blocked ? 1 : 0);
    if (stored.blocked) {
      expect(await store.findings(stored.id)).toEqual([
        {
          rule: "pickle.dangerous-global",
          severity: "critical",
          message: "calls os.system",
          global: "posix.system",
          member: "archive/data.pkl",
        },
      ]);
    }
    expect(await store.getScan({ ...KEY, contentHash: "h2" })).toBeNull();
  });

  it("finds the blocked file of a repo at a commit", async () => {
    const key = { ...KEY, repo: "acme/r", path: "evil.pkl" };
    expect(await store.blockedInRepo("model", "acme/r", KEY.revision)).toBeNull();
    await store.putScan(scanOf(key, true));
    expect((await store.blockedInRepo("model", "acme/r", KEY.revision))?.path).toBe("evil.pkl");
    expect(await store.blockedInRepo("model", "acme/r", "d".repeat(40))).toBeNull();
    expect(await store.blockedInRepo("dataset", "acme/r", KEY.revision)).toBeNull();
  });

  it("matches exceptions by repo, revision, path and hash, until they expire or are revoked", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const base = {
      repoType: "model" as const,
      repo: "acme/x",
      createdBy: "t1",
      reason: "accepted risk",
    };
    const key = { ...KEY, repo: "acme/x" };
    expect(await store.findException(key, now)).toBeNull();
    await store.addException({
      ...base,
      revision: null,
      path: "other.bin",
      contentHash: null,
      expires: "2031-01-01T00:00:00.000Z",
    });
    await store.addException({
      ...base,
      revision: "e".repeat(40),
      path: null,
      contentHash: null,
      expires: "2031-01-01T00:00:00.000Z",
    });
    await store.addException({
      ...base,
      revision: null,
      path: null,
      contentHash: "h1",
      expires: "2029-06-01T00:00:00.000Z",
    });
    expect(await store.findException(key, now)).toBeNull();
    const live = await store.addException({
      ...base,
      revision: KEY.revision,
      path: "model.bin",
      contentHash: "h1",
      expires: "2030-02-01T00:00:00.000Z",
    });
    expect((await store.findException(key, now))?.id).toBe(live.id);
    expect(await store.findException(key, new Date("2030-03-01T00:00:00Z"))).toBeNull();
    expect(await store.revokeException(live.id, "t2")).toBe(true);
    expect(await store.revokeException(live.id, "t2")).toBe(false);
    expect(await store.findException(key, now)).toBeNull();
    const audit = await store.listAudit();
    expect(audit.filter((a) => a.action === "exception.add")).toHaveLength(4);
    expect(audit.find((a) => a.action === "exception.revoke")).toMatchObject({
      actor: "t2",
      detail: { id: live.id },
    });
  });

  it("records decisions and lists the blocked ones", async () => {
    const d = {
      repoType: "model" as const,
      repo: "acme/m",
      revision: KEY.revision,
      path: "model.bin",
      scanId: null,
      method: "GET",
      reason: null,
      exceptionId: null,
    };
    await store.recordDecision({ ...d, action: "served" });
    await store.recordDecision({ ...d, action: "blocked", reason: "bad" });
    const blocked = await store.listDecisions({ action: "blocked" });
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({ action: "blocked", reason: "bad", path: "model.bin" });
    expect(await store.listDecisions({}, 10)).toHaveLength(2);
  });

  it("stores tokens hashed and authenticates only live gate tokens", async () => {
    const { token, record } = await createToken(store, "reader", "ci");
    expect(await store.findToken(token)).toBeNull();
    expect((await store.findToken(hashToken(token)))?.id).toBe(record.id);
    expect((await authenticate(store, `Bearer ${token}`))?.role).toBe("reader");
    expect(await authenticate(store, `Bearer ${token}x`)).toBeNull();
    expect(await authenticate(store, token)).toBeNull();
    expect(await authenticate(store, undefined)).toBeNull();
  });

  it("lists live tokens and revokes one (audited); a revoked token no longer authenticates", async () => {
    const { token, record } = await createToken(store, "admin", "to revoke");
    expect((await store.listTokens()).map((t) => t.id)).toContain(record.id);
    expect(await store.revokeToken(record.id, "cli")).toBe(true);
    expect(await store.revokeToken(record.id, "cli")).toBe(false);
    expect((await store.listTokens()).map((t) => t.id)).not.toContain(record.id);
    expect(await authenticate(store, `Bearer ${token}`)).toBeNull();
    const audit = await store.listAudit();
    expect(audit.some((a) => a.action === "token.revoke")).toBe(true);
  });
});

describe("parseDbUrl", () => {
  it("reads SQLite paths and PostgreSQL URLs", () => {
    expect(parseDbUrl(undefined, "/etc/gate")).toEqual({
      kind: "sqlite",
      location: "/etc/gate/modelvet-gate.db",
    });
    expect(parseDbUrl("sqlite:/tmp/x.db")).toEqual({ kind: "sqlite", location: "/tmp/x.db" });
    expect(parseDbUrl("sqlite::memory:")).toEqual({ kind: "sqlite", location: ":memory:" });
    expect(parseDbUrl("postgres://u@h/db").kind).toBe("postgres");
    expect(parseDbUrl("postgresql://u@h/db").kind).toBe("postgres");
    expect(() => parseDbUrl("mysql://h/db")).toThrow(/unsupported/);
  });
});
