import { rm } from "node:fs/promises";
import PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FileKey } from "../src/server/gate-store.js";
import { openStore, parseDbUrl } from "../src/server/open-store.js";
import { SCAN_QUEUE_NAME } from "../src/server/pg-boss-queue.js";
import { startGate } from "../src/server/start-gate.js";
import { fileKeyString, type VetTarget } from "../src/server/vetter.js";
import { freshPgDatabase, makeGateRepos, testPgUrl } from "./gate-helpers.js";
import { type HubServer, startHubServer } from "./hub-server.js";

const baseUrl = testPgUrl("gate tests on PostgreSQL (two instances, job queue)");

describe.skipIf(baseUrl === undefined)("gate on PostgreSQL", () => {
  let db: { url: string; drop: () => Promise<void> };
  let repos: string;
  let hub: HubServer;

  beforeAll(async () => {
    db = await freshPgDatabase(baseUrl!);
    repos = await makeGateRepos();
    hub = await startHubServer({ repos, separateCdn: true });
  });
  afterAll(async () => {
    await hub?.close();
    await db?.drop();
    if (repos) await rm(repos, { recursive: true, force: true });
  });

  it("migrates once when several instances start at the same time", async () => {
    const stores = await Promise.all([1, 2, 3].map(() => openStore(parseDbUrl(db.url))));
    try {
      for (const s of stores) expect(await s.schemaVersion()).toBe(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("two gate instances sharing one database scan each file once, through the job queue", async () => {
    const scans: { instance: string; key: FileKey }[] = [];
    const start = (instance: string) =>
      startGate({
        upstream: hub.url,
        db: db.url,
        port: 0,
        onScan: (key) => scans.push({ instance, key }),
      });
    const [a, b] = await Promise.all([start("a"), start("b")]);
    try {
      const files = [
        "acme/clean/resolve/main/model.safetensors",
        "acme/clean/resolve/main/state_dict.pt",
        "acme/evil/resolve/main/pytorch_model.bin",
        "acme/evil/resolve/main/shell.pkl",
      ];
      const requests = files.flatMap((f) =>
        [a.url, b.url, a.url, b.url].map(async (base) => {
          const r = await fetch(`${base}/${f}`);
          await r.arrayBuffer();
          return { f, status: r.status };
        }),
      );
      const results = await Promise.all(requests);
      for (const r of results) expect(r.status).toBe(r.f.startsWith("acme/evil") ? 403 : 200);
      for (const f of files) {
        const path = f.split("/").slice(4).join("/");
        const repo = f.split("/").slice(0, 2).join("/");
        expect(scans.filter((s) => s.key.path === path && s.key.repo === repo)).toHaveLength(1);
      }
      // One store: each instance sees the other's verdicts and decisions.
      expect(await a.gate.store.countScans()).toBe(4);
      const blocked = await b.gate.store.listDecisions({ action: "blocked" }, 100);
      expect(blocked.length).toBe(8);
    } finally {
      await Promise.all([a.gate.close(), b.gate.close()]);
    }
  }, 60_000);

  it("retries a scan whose worker died: the job expires and another instance scans it", async () => {
    const commit = await hub.commitOf("acme/mixed");
    const target: VetTarget = {
      repoType: "model",
      repo: "acme/mixed",
      revision: commit,
      path: "extra.pkl",
      contentHash: "taken-by-a-worker-that-died",
      size: 53,
      url: `${hub.url}/acme/mixed/resolve/${commit}/extra.pkl`,
    };
    // A worker takes the job and dies: the job stays active, nobody will complete it.
    const dead = new PgBoss({
      connectionString: db.url,
      schema: "modelvet_boss",
      supervise: false,
    });
    dead.on("error", () => {});
    await dead.start();
    await dead.createQueue(SCAN_QUEUE_NAME, { name: SCAN_QUEUE_NAME, policy: "stately" });
    await dead.send(
      SCAN_QUEUE_NAME,
      { target },
      { singletonKey: fileKeyString(target), expireInSeconds: 1 },
    );
    const taken = await dead.fetch(SCAN_QUEUE_NAME);
    expect(taken).toHaveLength(1);
    await dead.stop({ graceful: false, wait: true });

    const scans: string[] = [];
    const b = await startGate({
      upstream: hub.url,
      db: db.url,
      port: 0,
      onScan: (key) => scans.push(key.contentHash),
      queueOptions: { maintenanceIntervalSeconds: 1 },
    });
    try {
      let stored = null;
      for (let i = 0; i < 300 && stored === null; i++) {
        stored = await b.gate.store.getScan(target);
        if (stored === null) await new Promise((r) => setTimeout(r, 100));
      }
      expect(stored?.verdict).toBe("malicious");
      expect(scans).toEqual(["taken-by-a-worker-that-died"]);
    } finally {
      await b.gate.close();
    }
  }, 60_000);
});
