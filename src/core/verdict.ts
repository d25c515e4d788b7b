import type { Finding } from "./finding.js";

export const VERDICTS = ["malicious", "suspicious", "safe", "error"] as const;
export type Verdict = (typeof VERDICTS)[number];

/**
 * `malicious` if any critical; `suspicious` if any high/medium; `safe` otherwise. `error` is set by
 * the engine when a file could not be analysed at all (fail closed), never computed here.
 */
export function verdictOf(findings: readonly Pick<Finding, "severity">[]): Verdict {
  let verdict: Verdict = "safe";
  for (const f of findings) {
    if (f.severity === "critical") return "malicious";
    if (f.severity === "high" || f.severity === "medium") verdict = "suspicious";
  }
  return verdict;
}
