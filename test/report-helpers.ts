import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { memorySource } from "../src/core/byte-source.js";
import { applyBaseline, applyPolicy } from "../src/scan/apply-policy.js";
import { type ScanReport, scan } from "../src/scan/scan.js";
import { expandPaths } from "../src/sources/walk.js";

export const ROOT = join(import.meta.dirname, "..");

/** Scans files (paths relative to the repository root) from memory, hashing them as the CLI does. */
export async function scanPaths(paths: readonly string[]): Promise<ScanReport> {
  return scan(
    paths.map((path) => ({
      path,
      open: async () => {
        const bytes = readFileSync(join(ROOT, path));
        return {
          source: memorySource(bytes),
          sha256: async () => createHash("sha256").update(bytes).digest("hex"),
        };
      },
    })),
    { concurrency: 1 },
  );
}

/** Every file under examples/, named as `modelvet scan examples/` names them. */
export async function examplesReport(): Promise<ScanReport> {
  const files = (await expandPaths([join(ROOT, "examples")])).map((p) => relative(ROOT, p));
  return scanPaths(files);
}

/**
 * A report with every kind of result a writer must handle: all verdicts, every severity, archive
 * members, a file that is not a model, an unreadable file, and findings set aside by an ignore and
 * by a baseline.
 */
export async function richReport(): Promise<ScanReport> {
  const scanned = await scanPaths([
    "examples/benign/state_dict.pt",
    "examples/malicious/exec_after_garbage.bin",
    "examples/malicious/reverse_shell_stand_in.pkl",
    "examples/README.md",
    "test/fixtures/torch/malicious/checkpoint_zip_in_zip.zip",
    "test/fixtures/torch/benign/whole_module_custom_class.pt",
  ]);
  const unreadable = await scan([
    { path: "models/gone.pt", open: () => Promise.reject(new Error("ENOENT: no such file")) },
  ]);
  const report: ScanReport = {
    ...scanned,
    files: [...scanned.files, ...unreadable.files],
  };
  const policed = applyPolicy(report, {
    today: "2026-01-01",
    severity: { "pickle.malformed": "info" },
    ignore: [
      {
        rule: "pickle.known-library-global",
        path: "test/**",
        reason: "torch layers are expected here",
        expires: "2030-01-01",
      },
    ],
  });
  const baselined = applyBaseline(policed, {
    file: "baseline.json",
    fingerprints: new Set([
      JSON.stringify([
        "pickle.dangerous-global",
        "examples/malicious/reverse_shell_stand_in.pkl",
        [],
        "global:posix.system",
        1,
      ]),
    ]),
  });
  baselined.policy = {
    source: "modelvet.yaml",
    failOn: "medium",
    allow: [],
    deny: [],
    severity: { "pickle.malformed": "info" },
    ignore: [],
  };
  return baselined;
}
