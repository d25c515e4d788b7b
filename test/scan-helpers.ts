import { readFile } from "node:fs/promises";
import { memorySource } from "../src/core/byte-source.js";
import type { FileResult } from "../src/scan/results.js";
import { type ScanOptions, scanFile } from "../src/scan/scan.js";

/** Scans one file from disk through the real engine, as the CLI would (no hashing). */
export async function scanPath(path: string, options: ScanOptions = {}): Promise<FileResult> {
  const bytes = await readFile(path);
  return scanFile({ path, open: async () => ({ source: memorySource(bytes) }) }, options);
}

/** Every global named by a finding's evidence. */
export function globalsOf(result: FileResult): string[] {
  return result.findings.flatMap((f) => (f.evidence?.global ? [f.evidence.global] : []));
}
