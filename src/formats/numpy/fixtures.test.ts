import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import type { ArtifactResult } from "../../scan/results.js";
import { collectFindings, scanArtifact } from "../../scan/scan-artifact.js";
import { compressedFormat } from "../compressed/index.js";
import { pickleFormat } from "../pickle/index.js";
import { tarFormat } from "../tar/index.js";
import type { FormatAnalyser } from "../types.js";
import { zipFormat } from "../zip/index.js";
import { npyFormat } from "./index.js";

/**
 * Every fixture in test/fixtures/numpy/manifest.json (made by np.save / np.savez, malicious ones
 * proven under np.load(allow_pickle=True)) through the real engine.
 */
const FORMATS: readonly FormatAnalyser[] = [
  tarFormat,
  compressedFormat,
  zipFormat,
  npyFormat,
  pickleFormat,
];
interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious";
  format: string;
  global: string | null;
  pseudocodeContains: string | null;
  member?: string;
  technique: string;
  proof: string;
}
const DIR = join(import.meta.dirname, "../../../test/fixtures/numpy");
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(DIR, "manifest.json"), "utf8"),
);

async function scan(file: string): Promise<ArtifactResult> {
  return scanArtifact(
    { file, member: [], source: memorySource(readFileSync(join(DIR, file))) },
    { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 },
    FORMATS,
  );
}

describe("numpy fixtures (manifest)", () => {
  it("covers benign and proven malicious files", () => {
    expect(new Set(manifest.fixtures.map((e) => e.expect))).toEqual(new Set(["safe", "malicious"]));
    for (const e of manifest.fixtures.filter((x) => x.expect === "malicious")) {
      expect(e.proof, e.file).toMatch(/^canary ran under/);
    }
  });

  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (file, entry) => {
    const result = await scan(file);
    const findings = collectFindings(result);
    const described = findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join("\n");
    expect(result.format, described).toBe(entry.format);
    expect(result.verdict, `${entry.technique}\n${described}`).toBe(entry.expect);
    if (entry.expect === "safe") {
      for (const f of findings) expect(["low", "info"], described).toContain(f.severity);
    } else {
      const critical = findings.filter((f) => f.severity === "critical");
      expect(critical.map((f) => f.evidence?.global)).toContain(entry.global);
      const code = critical.map((f) => f.evidence?.pseudocode ?? "").join("\n");
      expect(code).toContain(entry.pseudocodeContains);
    }
  });
});

describe(".npz through the engine (a zip of .npy members, detected by content)", () => {
  it("np.savez and np.savez_compressed: every member is an npy", async () => {
    for (const file of ["benign/savez.npz", "benign/savez_compressed.npz"]) {
      const result = await scan(file);
      expect(result.format).toBe("zip");
      expect(result.children.map((c) => [c.member, c.format, c.verdict])).toEqual([
        [["weights.npy"], "npy", "safe"],
        [["steps.npy"], "npy", "safe"],
      ]);
    }
  });

  it("an object array inside an .npz is found and named by member", async () => {
    const result = await scan("malicious/object_reduce.npz");
    expect(result.verdict).toBe("malicious");
    const x = result.children.find((c) => c.member.at(-1) === "x.npy")!;
    expect(x.format).toBe("npy-object");
    const critical = collectFindings(result).filter((f) => f.severity === "critical");
    expect(critical[0]!.location.member).toEqual(["x.npy"]);
    expect(critical[0]!.evidence?.pseudocode).toContain("touch");
  });
});
