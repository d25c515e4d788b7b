/** Finding severities, most severe first (DESIGN.md "Verdicts, severities, exit codes"). */
export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** Higher number = more severe. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

export interface Location {
  /** The scanned file (path or URL as the user named it). */
  file: string;
  /** Path of archive members from the outside in, e.g. `["archive/data.pkl"]`. */
  member?: string[];
  /** Byte offset inside the innermost member (or the file). */
  offset?: number;
}

export interface Evidence {
  /** Fully qualified callable, e.g. `os.system`. */
  global?: string;
  /** What loading would do, as Python-like pseudocode. */
  pseudocode?: string;
  /** The pickle opcode involved, e.g. `REDUCE`. */
  opcode?: string;
}

export interface Finding {
  /** Stable rule id, e.g. `pickle.dangerous-global` (docs/rules.md). */
  rule: string;
  severity: Severity;
  message: string;
  location: Location;
  evidence?: Evidence;
  /** CVE/GHSA ids or URLs. */
  references?: string[];
}

/** A finding before the engine knows which file/member it belongs to. */
export type LocalFinding = Omit<Finding, "location"> & { offset?: number };
