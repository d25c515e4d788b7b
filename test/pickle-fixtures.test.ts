import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scanPath } from "./scan-helpers.js";

/**
 * Fixtures made by the genuine libraries (benign) and proven to run a canary under the real
 * `pickle.load` (malicious) — see test/fixtures/make/. Expectations come from the manifest the
 * generator wrote from the same data it built each file with.
 */
interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious";
  global: string | null;
  globalsResolved: string[];
  pseudocodeContains: string | null;
  technique: string;
  allowLow: boolean;
}
const DIR = join(import.meta.dirname, "fixtures/pickle");
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(DIR, "manifest.json"), "utf8"),
);

describe("pickle fixtures", () => {
  it("covers benign and malicious files", () => {
    const kinds = new Set(manifest.fixtures.map((e) => e.expect));
    expect(kinds).toEqual(new Set(["safe", "malicious"]));
  });

  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (_file, entry) => {
    const result = await scanPath(join(DIR, entry.file));
    const described = result.findings
      .map((f) => `${f.severity} ${f.rule}: ${f.message}`)
      .join("\n");
    expect(result.format, described).toBe("pickle");
    expect(result.verdict, `${entry.technique}\n${described}`).toBe(entry.expect);
    if (entry.expect === "safe") {
      const allowed = entry.allowLow ? ["low", "info"] : ["info"];
      for (const f of result.findings) expect(allowed, described).toContain(f.severity);
      return;
    }
    // The dangerous global must be named — as written in the pickle or as Python resolves it.
    const critical = result.findings.filter((f) => f.severity === "critical");
    const named = critical.map((f) => f.evidence?.global);
    const accepted = [entry.global, ...entry.globalsResolved];
    expect(
      named.some((g) => accepted.includes(g ?? "")),
      `named ${named.join(", ")}`,
    ).toBe(true);
    if (entry.pseudocodeContains) {
      const code = critical.map((f) => f.evidence?.pseudocode ?? "").join("\n");
      expect(code).toContain(entry.pseudocodeContains);
    }
  });
});
