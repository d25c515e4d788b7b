import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FileResult } from "../src/scan/results.js";
import { scanPath } from "./scan-helpers.js";

/**
 * Fixtures made by the genuine libraries (benign) and proven to run a canary under their real
 * loader (malicious) — see test/fixtures/make/. Expectations come from the manifest each generator
 * wrote from the same data it built the files with.
 *
 * `expect: "suspicious"` in a manifest means "more than tensors and plain data: it needs library
 * classes". The policy may class those as known library classes (low, verdict `safe`) or as unknown
 * (medium, `suspicious`); either is right, `malicious` never is, and a `suspicious` verdict must
 * name the global that made it so.
 */
interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious";
  global: string | null;
  globalsResolved?: string[];
  pseudocodeContains: string | null;
  technique: string;
  allowLow?: boolean;
  /** Findings the file must carry, whatever its verdict (e.g. the breakage after a payload). */
  mustReport?: { rule: string; severity: string }[];
  /**
   * A bypass modelvet still misses, with why: the entry is expected to FAIL its checks, so the
   * test turns red (and the marker must go) once the miss is fixed.
   */
  knownMiss?: string;
}

const MANIFESTS = ["pickle", "torch", "joblib", "numpy", "tar", "evasion"]
  .map((name) => join(import.meta.dirname, "fixtures", name))
  .filter((dir) => existsSync(join(dir, "manifest.json")));

const describeFinding = (r: FileResult) =>
  r.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join("\n");

function checkBenign(result: FileResult, entry: Entry) {
  const text = `${entry.technique}\n${result.verdict}\n${describeFinding(result)}`;
  if (entry.expect === "safe") {
    expect(result.verdict, text).toBe("safe");
    return;
  }
  expect(["safe", "suspicious"], text).toContain(result.verdict);
  if (result.verdict === "suspicious") {
    const raising = result.findings.filter((f) => f.severity === "medium" || f.severity === "high");
    expect(raising.length, text).toBeGreaterThan(0);
    // Findings the manifest names explicitly (a malformed pickle has no global) are checked below.
    const declared = new Set((entry.mustReport ?? []).map((m) => m.rule));
    for (const f of raising.filter((x) => !declared.has(x.rule)))
      expect(f.evidence?.global ?? f.evidence?.pseudocode, text).toBeTruthy();
  }
}

function checkMalicious(result: FileResult, entry: Entry) {
  const text = `${entry.technique}\n${describeFinding(result)}`;
  expect(result.verdict, text).toBe("malicious");
  const critical = result.findings.filter((f) => f.severity === "critical");
  if (entry.global) {
    const accepted = [entry.global, ...(entry.globalsResolved ?? [])];
    const named = critical.map((f) => f.evidence?.global ?? "");
    expect(
      named.some((g) => accepted.includes(g)),
      `named ${named.join(", ")}\n${text}`,
    ).toBe(true);
  }
  if (entry.pseudocodeContains) {
    const code = critical.map((f) => f.evidence?.pseudocode ?? "").join("\n");
    expect(code, text).toContain(entry.pseudocodeContains);
  }
}

for (const dir of MANIFESTS) {
  const manifest: { fixtures: Entry[] } = JSON.parse(
    readFileSync(join(dir, "manifest.json"), "utf8"),
  );
  describe(`fixtures in ${dir.slice(dir.lastIndexOf("fixtures"))}`, () => {
    it("include benign and malicious files", () => {
      const kinds = new Set(manifest.fixtures.map((e) => e.expect));
      expect(kinds.has("malicious") && kinds.has("safe")).toBe(true);
    });
    const check = async (entry: Entry) => {
      const result = await scanPath(join(dir, entry.file));
      if (entry.expect === "malicious") checkMalicious(result, entry);
      else checkBenign(result, entry);
      for (const want of entry.mustReport ?? []) {
        const hit = result.findings.some(
          (f) => f.rule === want.rule && f.severity === want.severity,
        );
        expect(hit, `${want.severity} ${want.rule}\n${describeFinding(result)}`).toBe(true);
      }
    };
    const known = manifest.fixtures.filter((e) => e.knownMiss !== undefined);
    const rest = manifest.fixtures.filter((e) => e.knownMiss === undefined);
    it.each(rest.map((e) => [e.file, e] as const))("%s", (_f, entry) => check(entry));
    if (known.length > 0) {
      it.fails.each(known.map((e) => [e.file, e] as const))("%s (known miss)", (_f, entry) =>
        check(entry),
      );
    }
  });
}
