import pg from "pg";
import PgBoss from "pg-boss";
import type { ScanRecord } from "./gate-store.js";
import {
  fileKeyString,
  type ScannerOptions,
  type ScanQueue,
  scanAndStore,
  UpstreamError,
  type VetTarget,
} from "./vetter.js";

export const SCAN_QUEUE_NAME = "modelvet-scan";

export interface PgBossQueueOptions extends ScannerOptions {
  /** PostgreSQL URL (the same database as the store; pg-boss keeps its tables in its own schema). */
  url: string;
  /** @default "modelvet_boss" */
  schema?: string;
  /**
   * Authorization the gate itself sends upstream when it scans a job another instance queued
   * (`HF_TOKEN`); a job queued here uses the requesting client's, which never leaves this process.
   */
  upstreamAuthorization?: string;
  /** Seconds an active job may run before it counts as crashed and is retried. @default 600 */
  expireInSeconds?: number;
  /** Retries of a failed or crashed scan. @default 3 */
  retryLimit?: number;
  /** How often waiting requests look for the verdict, in ms. @default 100 */
  pollMs?: number;
  /** How long a request waits for a verdict. @default 900000 */
  waitMs?: number;
  /** pg-boss maintenance (expiring crashed jobs), in seconds. @default 30 */
  maintenanceIntervalSeconds?: number;
}

interface ScanJob {
  target: VetTarget;
}

/**
 * Scans through a pg-boss queue in PostgreSQL, so instances sharing the database scan each file
 * version once: a `stately` queue keyed by the file version admits one queued and one active job
 * per key, and the worker looks for a stored verdict before scanning. A job whose worker dies
 * expires and is retried by any instance. Requests wait by polling the store for the verdict.
 */
export class PgBossScanQueue implements ScanQueue {
  #boss: PgBoss | undefined;
  readonly #localAuth = new Map<string, string | undefined>();
  constructor(readonly options: PgBossQueueOptions) {}

  async start(): Promise<void> {
    const o = this.options;
    const boss = new PgBoss({
      connectionString: o.url,
      schema: o.schema ?? "modelvet_boss",
      max: 4,
      maintenanceIntervalSeconds: o.maintenanceIntervalSeconds ?? 30,
    });
    boss.on("error", (error: Error) =>
      o.logger.log("error", "job queue error", { error: error.message }),
    );
    // Instances starting together would deadlock creating pg-boss's schema and the queue: one at a time.
    await withAdvisoryLock(o.url, async () => {
      await boss.start();
      await boss.createQueue(SCAN_QUEUE_NAME, {
        name: SCAN_QUEUE_NAME,
        policy: "stately",
        retryLimit: o.retryLimit ?? 3,
        retryDelay: 1,
        expireInSeconds: o.expireInSeconds ?? 600,
      });
    });
    await boss.work<ScanJob>(
      SCAN_QUEUE_NAME,
      { pollingIntervalSeconds: 0.5, batchSize: 1 },
      async (jobs) => {
        for (const job of jobs) {
          const key = fileKeyString(job.data.target);
          const auth = this.#localAuth.has(key)
            ? this.#localAuth.get(key)
            : o.upstreamAuthorization;
          await scanAndStore(job.data.target, auth, o);
        }
      },
    );
    this.#boss = boss;
  }

  async scan(target: VetTarget, authorization: string | undefined): Promise<ScanRecord> {
    const boss = this.#boss;
    if (boss === undefined) throw new Error("scan queue not started");
    const o = this.options;
    const key = fileKeyString(target);
    this.#localAuth.set(key, authorization);
    try {
      const jobId = await boss.send(SCAN_QUEUE_NAME, { target } satisfies ScanJob, {
        singletonKey: key,
      });
      const deadline = Date.now() + (o.waitMs ?? 900_000);
      let checks = 0;
      for (;;) {
        const stored = await o.store.getScan(target);
        if (stored !== null) return stored;
        if (jobId !== null && ++checks % 5 === 0) {
          const job = await boss.getJobById(SCAN_QUEUE_NAME, jobId);
          if (job?.state === "failed") {
            const output = job.output as { message?: string } | null;
            throw new UpstreamError(output?.message ?? "the scan job failed");
          }
        }
        if (Date.now() > deadline) throw new UpstreamError("timed out waiting for the scan", 504);
        await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 100));
      }
    } finally {
      this.#localAuth.delete(key);
    }
  }

  async stop(): Promise<void> {
    const boss = this.#boss;
    this.#boss = undefined;
    await boss?.stop({ graceful: true, wait: true, timeout: 10_000 });
  }
}

/** Key of the advisory lock held while an instance sets up the queue. */
const QUEUE_SETUP_LOCK = 0x6d76_6771; // "mvgq"

async function withAdvisoryLock(url: string, fn: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [QUEUE_SETUP_LOCK]);
    try {
      await fn();
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [QUEUE_SETUP_LOCK]);
    }
  } finally {
    await client.end();
  }
}
