import type { ByteSource } from "../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../core/limits.js";
import { type Verdict, verdictOf } from "../core/verdict.js";
import type { ReadHdf5 } from "../formats/hdf5/read-hdf5.js";
import { FORMATS } from "../formats/registry.js";
import type { FormatAnalyser, ScanContext } from "../formats/types.js";
import { BUILTIN_POLICY } from "../policy/index.js";
import type { PolicyInForce } from "../policy/policy-file.js";
import type { Policy } from "../policy/types.js";
import { RESULT_SCHEMA_VERSION, VERSION } from "../version.js";
import type { FileResult, RemoteInfo, RepositoryInfo } from "./results.js";
import { collectFindings, scanArtifact, worseVerdict } from "./scan-artifact.js";

/** An opened file: bytes plus what the adapter can do with them. */
export interface OpenedInput {
  source: ByteSource;
  /** Computes the file's SHA-256 (hex) if the adapter can; omitted to skip hashing. */
  sha256?: () => Promise<string>;
  /** Releases the source once the file is done. */
  close?: () => Promise<void>;
  /**
   * The SHA-256 (hex) the file's origin declares, e.g. the Hub's LFS oid. When `sha256` computes
   * a different one, the file gets a `remote.hash-mismatch` finding.
   */
  expectedSha256?: string;
  /** Where a remote file came from and what reading it cost; asked once the file is analysed. */
  remote?: () => RemoteInfo;
}

/** One file to scan; opened lazily so a large folder does not hold every file open. */
export interface ScanInput {
  /** The path or URL as the user named it. */
  path: string;
  /** Opens the file; a rejection (unreadable file) is reported as an `error` verdict. */
  open: () => Promise<OpenedInput>;
}

export interface ScanOptions {
  /** Overrides of the default limits. */
  limits?: Partial<Limits>;
  /** @default BUILTIN_POLICY */
  policy?: Policy;
  /** @default FORMATS */
  formats?: readonly FormatAnalyser[];
  /** Files analysed at once. @default 4 */
  concurrency?: number;
  /** How HDF5 is read; see `ScanContext.readHdf5`. @default in this thread */
  readHdf5?: ReadHdf5;
  /** Called as each file finishes, in completion order. */
  onFile?: (result: FileResult, done: number, total: number) => void;
}

export interface ScanSummary {
  files: number;
  verdicts: Record<Verdict, number>;
  /** Files whose bytes match no model format (not counted as safe models). */
  unrecognised: number;
  findings: number;
  /** Findings set aside by the policy file's ignores or a baseline (absent when none). */
  suppressed?: number;
}

/** The whole report of one run (docs/result-schema.json). */
export interface ScanReport {
  schemaVersion: number;
  tool: { name: "modelvet"; version: string };
  limits: Limits;
  files: FileResult[];
  summary: ScanSummary;
  /** The user policy in force, when the CLI applied one (scan/apply-policy.ts). */
  policy?: PolicyInForce;
  /** The baseline whose findings were set aside, when one was given. */
  baseline?: { file: string; findings: number };
  /** Hub repositories and cached revisions scanned, with the commit each resolved to (CLI). */
  repositories?: RepositoryInfo[];
}

export async function scanFile(
  scanInput: ScanInput,
  options: ScanOptions = {},
): Promise<FileResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const ctx: ScanContext = {
    limits,
    policy: options.policy ?? BUILTIN_POLICY,
    depth: 0,
    // One decompression allowance for the whole file, however deeply its archives nest.
    budget: { remaining: limits.maxTotalInflatedBytes },
    ...(options.readHdf5 ? { readHdf5: options.readHdf5 } : {}),
  };
  const started = performance.now();
  let input: OpenedInput;
  try {
    input = await scanInput.open();
  } catch (error) {
    return unreadable(scanInput.path, error, started);
  }
  let hashError: unknown;
  try {
    const [artifact, sha256] = await Promise.all([
      scanArtifact(
        { file: scanInput.path, member: [], source: input.source },
        ctx,
        options.formats ?? FORMATS,
      ),
      input.sha256?.().catch((error: unknown) => {
        hashError = error;
        return undefined;
      }),
    ]);
    const result: FileResult = {
      path: scanInput.path,
      size: input.source.size,
      format: artifact.format,
      verdict: artifact.verdict,
      findings: collectFindings(artifact),
      children: artifact.children,
      timings: { analyseMs: Math.round(performance.now() - started) },
    };
    if (sha256 !== undefined) result.sha256 = sha256;
    if (artifact.details) result.details = artifact.details;
    const remote = input.remote?.();
    if (hashError !== undefined) {
      const reason = hashError instanceof Error ? hashError.message : String(hashError);
      result.findings.push({
        rule: "scan.unreadable",
        severity: "high",
        message: `The file could not be read whole to compute its SHA-256${
          input.expectedSha256 === undefined ? "" : " and check it against the declared hash"
        }: ${reason}`,
        location: { file: scanInput.path },
      });
      result.verdict = worseVerdict(result.verdict, "error");
      if (remote && input.expectedSha256 !== undefined) remote.hashVerified = false;
    }
    if (input.expectedSha256 !== undefined && sha256 !== undefined) {
      const expected = input.expectedSha256.toLowerCase();
      if (remote) remote.hashVerified = sha256 === expected;
      if (sha256 !== expected) {
        result.findings.push({
          rule: "remote.hash-mismatch",
          severity: "high",
          message: `The file's SHA-256 is ${sha256}, but its origin declares ${expected} (the Hub's LFS hash, or the cache blob's name): these are not the bytes that were committed.`,
          location: { file: scanInput.path },
        });
        result.verdict = worseVerdict(result.verdict, verdictOf(result.findings));
      }
    }
    if (remote) result.remote = remote;
    return result;
  } finally {
    await input.close?.();
  }
}

function unreadable(path: string, error: unknown, started: number): FileResult {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    path,
    size: 0,
    format: null,
    verdict: "error",
    findings: [
      {
        rule: "scan.unreadable",
        severity: "high",
        message: `The file could not be read, so it cannot be vouched for: ${reason}`,
        location: { file: path },
      },
    ],
    children: [],
    timings: { analyseMs: Math.round(performance.now() - started) },
  };
}

/** Scans every input (several at once) and summarises; results keep the inputs' order. */
export async function scan(
  inputs: readonly ScanInput[],
  options: ScanOptions = {},
): Promise<ScanReport> {
  const files: FileResult[] = new Array(inputs.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const index = next++;
      const result = await scanFile(inputs[index]!, options);
      files[index] = result;
      options.onFile?.(result, ++done, inputs.length);
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? 4);
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: "modelvet", version: VERSION },
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    files,
    summary: summarise(files),
  };
}

export function summarise(files: readonly FileResult[]): ScanSummary {
  const verdicts: Record<Verdict, number> = { malicious: 0, suspicious: 0, safe: 0, error: 0 };
  let unrecognised = 0;
  let findings = 0;
  for (const f of files) {
    if (f.format === null && f.verdict === "safe") unrecognised++;
    else verdicts[f.verdict]++;
    findings += f.findings.length;
  }
  return { files: files.length, verdicts, unrecognised, findings };
}
