import { err, ok, type Result } from "../core/result.js";
import { type BaselineSet, FingerprintCounter, normalisePath } from "../scan/apply-policy.js";
import type { ScanReport } from "../scan/scan.js";

/** Version of the baseline file format (docs/reports.md "Baselines"). */
export const BASELINE_VERSION = 1;

/** One accepted finding in a baseline file. Only `fingerprint` is read back; the rest is for people. */
export interface BaselineEntry {
  fingerprint: string;
  rule: string;
  severity: string;
  path: string;
  member?: string[];
  global?: string;
  offset?: number;
}

export interface BaselineFile {
  modelvetBaseline: typeof BASELINE_VERSION;
  tool: { name: "modelvet"; version: string };
  findings: BaselineEntry[];
}

/**
 * The baseline of a report: every finding still counted (ignored ones stay with the policy file),
 * sorted by fingerprint so that rewriting it gives small diffs. `pathFor` makes paths relative to
 * the baseline's folder.
 */
export function writeBaseline(
  report: ScanReport,
  pathFor: (path: string) => string = normalisePath,
): string {
  const counter = new FingerprintCounter(pathFor);
  const findings: BaselineEntry[] = [];
  for (const file of report.files) {
    for (const f of file.findings) {
      const entry: BaselineEntry = {
        fingerprint: counter.next(f, file),
        rule: f.rule,
        severity: f.severity,
        path: pathFor(file.path),
      };
      if (f.location.member !== undefined && f.location.member.length > 0) {
        entry.member = f.location.member;
      }
      if (f.evidence?.global !== undefined) entry.global = f.evidence.global;
      else if (f.location.offset !== undefined) entry.offset = f.location.offset;
      findings.push(entry);
    }
  }
  findings.sort((a, b) =>
    a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0,
  );
  const file: BaselineFile = {
    modelvetBaseline: BASELINE_VERSION,
    tool: report.tool,
    findings,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Reads a baseline file written by {@link writeBaseline}; errors name `source`. */
export function parseBaseline(text: string, source: string): Result<BaselineSet> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return err(`${source}: not a modelvet baseline (not JSON: ${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || !("modelvetBaseline" in data)) {
    return err(
      `${source}: not a modelvet baseline (no "modelvetBaseline" key; write one with --write-baseline)`,
    );
  }
  const { modelvetBaseline, findings } = data as { modelvetBaseline: unknown; findings: unknown };
  if (modelvetBaseline !== BASELINE_VERSION) {
    return err(
      `${source}: baseline format ${JSON.stringify(modelvetBaseline)} is not supported (expected ${BASELINE_VERSION})`,
    );
  }
  if (!Array.isArray(findings)) return err(`${source}: "findings" must be a list`);
  const fingerprints = new Set<string>();
  for (const [i, entry] of findings.entries()) {
    const fingerprint = (entry as { fingerprint?: unknown } | null)?.fingerprint;
    if (typeof fingerprint !== "string") {
      return err(`${source}: findings[${i}] has no "fingerprint" string`);
    }
    fingerprints.add(fingerprint);
  }
  return ok({ file: source, fingerprints });
}
