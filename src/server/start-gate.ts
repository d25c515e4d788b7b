import type { Severity } from "../core/finding.js";
import { createPolicy } from "../policy/index.js";
import { EMPTY_POLICY_FILE, type PolicyFile } from "../policy/policy-file.js";
import { createGate, type Gate } from "./gate-server.js";
import type { FileKey } from "./gate-store.js";
import { type Logger, SILENT_LOGGER } from "./log.js";
import { GateMetrics } from "./metrics.js";
import { openStore, parseDbUrl } from "./open-store.js";
import { PgBossScanQueue } from "./pg-boss-queue.js";
import { type GatePolicy, LocalScanQueue, type ScannerOptions, type ScanQueue } from "./vetter.js";

export interface StartGateOptions {
  upstream?: string;
  /** `sqlite:PATH`, a path, or `postgres://…`. @default ./modelvet-gate.db in `configDir` */
  db?: string;
  configDir?: string;
  /** The policy file in force. @default none (built-in policy, fail-on medium) */
  policyFile?: PolicyFile;
  /** Overrides the policy file's fail-on. */
  failOn?: Severity | "none";
  blockRepo?: boolean;
  port?: number;
  host?: string;
  publicUrl?: string;
  logger?: Logger;
  fetch?: typeof globalThis.fetch;
  /** Folder of the built web app served at `/`, or false for none. @default webRoot() */
  webRoot?: string | false;
  /** Authorization the gate sends upstream for jobs queued by another instance (`HF_TOKEN`). */
  upstreamAuthorization?: string;
  /** With PostgreSQL: scan through the pg-boss queue. @default true */
  jobQueue?: boolean;
  /** Called each time this instance actually scans a file. */
  onScan?: (key: FileKey) => void;
  /** pg-boss settings, for tests. */
  queueOptions?: { expireInSeconds?: number; maintenanceIntervalSeconds?: number };
}

export function gatePolicyOf(file: PolicyFile, failOn?: Severity | "none"): GatePolicy {
  return {
    policy: createPolicy({ extraAllowed: file.allow, extraDenied: file.deny }),
    severity: file.severity,
    ignore: file.ignore,
    limits: file.limits,
    failOn: failOn ?? file.failOn ?? "medium",
  };
}

/** Opens the store, starts the scan queue and listens: everything `modelvet serve` runs. */
export async function startGate(options: StartGateOptions): Promise<{ gate: Gate; url: string }> {
  const target = parseDbUrl(options.db, options.configDir);
  const store = await openStore(target);
  const metrics = new GateMetrics();
  const logger = options.logger ?? SILENT_LOGGER;
  const scanner: ScannerOptions = {
    store,
    policy: gatePolicyOf(options.policyFile ?? EMPTY_POLICY_FILE, options.failOn),
    metrics,
    logger,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.onScan ? { onScan: options.onScan } : {}),
  };
  const queue: ScanQueue =
    target.kind === "postgres" && options.jobQueue !== false
      ? new PgBossScanQueue({
          ...scanner,
          url: target.location,
          ...(options.upstreamAuthorization
            ? { upstreamAuthorization: options.upstreamAuthorization }
            : {}),
          ...options.queueOptions,
        })
      : new LocalScanQueue(scanner);
  try {
    await queue.start();
  } catch (error) {
    await store.close();
    throw error;
  }
  const gate = createGate({
    store,
    queue,
    metrics,
    logger,
    policy: scanner.policy,
    blockRepo: options.blockRepo ?? false,
    ...(options.upstream ? { upstream: options.upstream } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.webRoot !== undefined ? { webRoot: options.webRoot } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const url = await gate.listen(options.port ?? 8080, options.host ?? "127.0.0.1");
  logger.log("info", "listening", { url, store: target.kind, upstream: options.upstream });
  return { gate, url };
}
