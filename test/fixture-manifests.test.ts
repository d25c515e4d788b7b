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
}

const MANIFESTS = ["pickle", "torch", "joblib", "numpy", "tar"]
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
    for (const f of raising) expect(f.evidence?.global ?? f.evidence?.pseudocode, text).toBeTruthy();
  }
}

function checkMalicious(result: FileResult, entry: Entry) {
  const text = `${entry.technique}\n${describeFinding(result)}`;
  expect(result.verdict, text).toBe("malicious");
  const critical = result.findings.filter((f) => f.severity === "critical");
  if (entry.global) {
    const accepted = [entry.global, ...(entry.globalsResolved ?? [])];
    const named = critical.map((f) => f.evidence?.global ?? "");
    expect(named.some((g) => accepted.includes(g)), `named ${named.join(", ")}\n${text}`).toBe(true);
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
    it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (_f, entry) => {
      const result = await scanPath(join(dir, entry.file));
      if (entry.expect === "malicious") checkMalicious(result, entry);
      else checkBenign(result, entry);
    });
  });
}
