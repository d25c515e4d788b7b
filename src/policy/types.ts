import type { Severity } from "../core/finding.js";

/**
 * How the policy classes an importable name reached by a pickle (DESIGN.md principle 4):
 * - `allowed`: on the allowlist — plain data and tensor reconstruction; no finding.
 * - `known`: a curated library class real checkpoints contain; a low finding.
 * - `dangerous`: a known code-execution, file, network or import callable; a critical finding.
 * - `unknown`: anything else; a medium finding.
 */
export type GlobalClass = "allowed" | "known" | "dangerous" | "unknown";

export interface GlobalVerdict {
  class: GlobalClass;
  severity: Severity | null;
  /** Rule id of the finding to report, e.g. `pickle.dangerous-global`; null when allowed. */
  rule: string | null;
  /** Why, in the user's terms. */
  reason: string;
  /** The policy entry that matched, e.g. `os` for `os.path.join`. */
  matched?: string;
  references?: string[];
}

/** The policy in force for a scan: built-in lists plus user overrides. */
export interface Policy {
  classifyGlobal(module: string, name: string): GlobalVerdict;
}
