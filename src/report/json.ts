import type { ScanReport } from "../scan/scan.js";

/** The versioned JSON report (docs/result-schema.json). */
export function writeJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
