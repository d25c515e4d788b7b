import type { ByteSource } from "../core/byte-source.js";
import { atLeast, type Finding, SEVERITIES, type Severity } from "../core/finding.js";
import type { Limits } from "../core/limits.js";
import type { ReadHdf5 } from "../formats/hdf5/read-hdf5.js";
import type { IgnoreRule } from "../policy/policy-file.js";
import type { Policy } from "../policy/types.js";
import { applyPolicy } from "../scan/apply-policy.js";
import type { FileResult } from "../scan/results.js";
import { scanFile, summarise } from "../scan/scan.js";
import { ByteBudget, HttpStatusError, openHttpSource } from "../sources/http-range-source.js";
import { isolatedHdf5Reader } from "../sources/isolated-hdf5.js";
import type { FileKey, GateStore, ScanRecord } from "./gate-store.js";
import type { Logger } from "./log.js";
import type { GateMetrics } from "./metrics.js";

// One HDF5 worker for the whole gate, started on first use (a crafted file can hang libhdf5).
let sharedHdf5Reader: ReadHdf5 | undefined;
const hdf5Reader = (): ReadHdf5 => {
  sharedHdf5Reader ??= isolatedHdf5Reader();
  return sharedHdf5Reader;
};

/** What the gate enforces: the scan policy, the user's severities and ignores, and the threshold. */
export interface GatePolicy {
  policy: Policy;
  severity: Readonly<Record<string, Severity>>;
  ignore: readonly IgnoreRule[];
  limits: Partial<Limits>;
  /**
   * A file with a finding at or above this is refused; `none` refuses nothing. A file that could
   * not be analysed counts as `high` (fail closed), so only `critical` or `none` let it through.
   */
  failOn: Severity | "none";
}

/** A file version to vet and where its bytes are upstream. */
export interface VetTarget extends FileKey {
  size: number;
  /** Upstream resolve URL pinned to the commit. */
  url: string;
}

/** The upstream could not be read (network error, 5xx, or it refused the gate): answered as 502. */
export class UpstreamError extends Error {
  readonly code = "MODELVET_UPSTREAM";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

export function fileKeyString(key: FileKey): string {
  return [key.repoType, key.repo, key.revision, key.path, key.contentHash]
    .map(encodeURIComponent)
    .join("/");
}

/** Which finding decides, and whether the file is refused under `failOn`. */
export function decide(
  result: FileResult,
  failOn: Severity | "none",
): { blocked: boolean; rule: string | null; global: string | null; message: string } {
  const worst = worstFinding(result.findings);
  const blocked =
    failOn !== "none" &&
    ((result.verdict === "error" && atLeast("high", failOn)) ||
      result.findings.some((f) => atLeast(f.severity, failOn)));
  if (worst === undefined) {
    return {
      blocked,
      rule: null,
      global: null,
      message: blocked
        ? `verdict ${result.verdict}`
        : `no findings (${result.format ?? "not a model format"})`,
    };
  }
  const global = worst.evidence?.global ?? null;
  const where = worst.location.member?.length ? ` in ${worst.location.member.join("/")}` : "";
  // Pickle findings already open with "<global>: "; say the global once.
  const text =
    global && worst.message.startsWith(`${global}: `)
      ? worst.message.slice(global.length + 2)
      : worst.message;
  return {
    blocked,
    rule: worst.rule,
    global,
    message: `${worst.rule} (${worst.severity})${global ? ` ${global}` : ""}${where}: ${text}`,
  };
}

function worstFinding(findings: readonly Finding[]): Finding | undefined {
  let worst: Finding | undefined;
  for (const f of findings) {
    if (
      worst === undefined ||
      SEVERITIES.indexOf(f.severity) < SEVERITIES.indexOf(worst.severity)
    ) {
      worst = f;
    }
  }
  return worst;
}

export interface ScannerOptions {
  store: GateStore;
  policy: GatePolicy;
  metrics: GateMetrics;
  logger: Logger;
  fetch?: typeof globalThis.fetch;
  /** Range-request block size for scans. @default 262144 */
  blockSize?: number;
  /** Most bytes one scan may fetch. @default 1 GiB */
  maxScanBytes?: number;
  /** Called each time a file is actually scanned (tests count these). */
  onScan?: (key: FileKey) => void;
}

/**
 * Scans one file version through range requests and stores the verdict (unless another instance
 * stored one first). Upstream failures throw {@link UpstreamError} and store nothing, so a retry
 * can succeed; only the file's own content decides a stored verdict.
 */
export async function scanAndStore(
  target: VetTarget,
  authorization: string | undefined,
  options: ScannerOptions,
): Promise<ScanRecord> {
  const existing = await options.store.getScan(target);
  if (existing !== null) return existing;
  options.onScan?.(target);
  const started = performance.now();
  let fetched = 0;
  let opened: Awaited<ReturnType<typeof openHttpSource>>;
  try {
    opened = await openHttpSource(target.url, {
      headers: authorization === undefined ? {} : { authorization },
      ...(options.fetch ? { fetch: options.fetch } : {}),
      blockSize: options.blockSize ?? 256 * 1024,
      cacheBlocks: 64,
      retries: 2,
      budget: new ByteBudget(options.maxScanBytes ?? 1024 ** 3),
      onBytes: (n) => {
        fetched += n;
      },
    });
  } catch (error) {
    const status = error instanceof HttpStatusError ? error.status : undefined;
    throw new UpstreamError(
      `could not read ${target.repo}/${target.path} upstream for scanning: ${error instanceof Error ? error.message : String(error)}`,
      status,
    );
  }
  return scanSourceAndStore(target, opened.source, () => fetched, started, options);
}

/**
 * Scans bytes already at hand (an upload, or an opened upstream source) as the file version `key`,
 * applies the gate's policy and stores the verdict; returns the stored record.
 */
export async function scanSourceAndStore(
  target: FileKey & { size: number },
  source: ByteSource,
  fetched: () => number,
  started: number,
  options: ScannerOptions,
): Promise<ScanRecord> {
  const { policy } = options;
  const scanned = await scanFile(
    { path: target.path, open: async () => ({ source }) },
    { policy: policy.policy, limits: policy.limits, concurrency: 1, readHdf5: hdf5Reader() },
  );
  const report = applyPolicy(
    {
      schemaVersion: 0,
      tool: { name: "modelvet", version: "" },
      limits: {} as never,
      files: [scanned],
      summary: summarise([scanned]),
    },
    {
      severity: policy.severity,
      ignore: policy.ignore,
      today: new Date().toISOString().slice(0, 10),
      pathFor: (path) => `${target.repo}/${path}`,
    },
  );
  const result = report.files[0]!;
  const seconds = (performance.now() - started) / 1000;
  options.metrics.scanSeconds.observe(seconds);
  options.metrics.scans.inc({ verdict: result.verdict });
  options.metrics.bytesFetched.inc({ purpose: "scan" }, fetched());
  const decision = decide(result, policy.failOn);
  options.logger.log("info", "scanned", {
    repo: target.repo,
    revision: target.revision,
    path: target.path,
    verdict: result.verdict,
    blocked: decision.blocked,
    rule: decision.rule,
    ms: Math.round(seconds * 1000),
    bytesFetched: fetched(),
  });
  return options.store.putScan({
    repoType: target.repoType,
    repo: target.repo,
    revision: target.revision,
    path: target.path,
    contentHash: target.contentHash,
    size: target.size,
    format: result.format,
    verdict: result.verdict,
    ...decision,
    result,
    durationMs: seconds * 1000,
    bytesFetched: fetched(),
    scannedAt: new Date().toISOString(),
  });
}

/** Where scans run: in this process, or through a job queue shared by several instances. */
export interface ScanQueue {
  /** Resolves with the stored verdict of `target`, scanning it if nobody has. */
  scan(target: VetTarget, authorization: string | undefined): Promise<ScanRecord>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Scans in this process. */
export class LocalScanQueue implements ScanQueue {
  constructor(readonly options: ScannerOptions) {}
  scan(target: VetTarget, authorization: string | undefined): Promise<ScanRecord> {
    return scanAndStore(target, authorization, this.options);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/**
 * The verdict of a file version, scanning it at most once: a stored verdict is returned at once;
 * concurrent callers for the same file share one scan.
 */
export class Vetter {
  readonly #inflight = new Map<string, Promise<ScanRecord>>();
  /** Stored scans never change, so recent ones are kept in memory (insertion-ordered LRU). */
  readonly #recent = new Map<string, ScanRecord>();
  constructor(
    readonly store: GateStore,
    readonly queue: ScanQueue,
    readonly cacheSize = 10_000,
  ) {}

  async verdict(target: VetTarget, authorization: string | undefined): Promise<ScanRecord> {
    const key = fileKeyString(target);
    const cached = this.#recent.get(key);
    if (cached !== undefined) {
      this.#recent.delete(key);
      this.#recent.set(key, cached);
      return cached;
    }
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#lookUpOrScan(target, authorization).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    const record = await pending;
    this.#remember(key, record);
    return record;
  }

  async #lookUpOrScan(target: VetTarget, authorization: string | undefined) {
    return (await this.store.getScan(target)) ?? this.queue.scan(target, authorization);
  }

  #remember(key: string, record: ScanRecord): void {
    this.#recent.set(key, record);
    if (this.#recent.size > this.cacheSize) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
  }

  /** Scans in progress in this process. */
  get inflight(): number {
    return this.#inflight.size;
  }
}
