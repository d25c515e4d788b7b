import { atLeast, type Severity } from "../core/finding.js";
import type { ScanReport } from "../scan/scan.js";

/** Exit codes (README "Exit codes"; stable). */
export const EXIT = { clean: 0, findings: 1, usage: 2 } as const;

/**
 * 1 when any finding is at or above `failOn` (an `error` verdict always carries a high finding,
 * so an unreadable file fails the run as a suspicious one would), else 0.
 */
export function exitCodeFor(report: ScanReport, failOn: Severity | "none"): number {
  if (failOn === "none") return EXIT.clean;
  for (const file of report.files) {
    if (file.verdict === "error" && atLeast("high", failOn)) return EXIT.findings;
    for (const f of file.findings) if (atLeast(f.severity, failOn)) return EXIT.findings;
  }
  return EXIT.clean;
}
