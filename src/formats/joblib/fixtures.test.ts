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
import type { FormatAnalyser } from "../types.js";
import { analyseJoblib } from "./analyse-joblib.js";
import { joblibFormat } from "./index.js";

/**
 * Every fixture in test/fixtures/joblib/manifest.json (made by joblib.dump, malicious ones proven
 * under joblib.load) through the real engine; the compressed ones through the compressed-stream
 * analyser, whose single child is the joblib pickle.
 */
const FORMATS: readonly FormatAnalyser[] = [compressedFormat, joblibFormat, pickleFormat];

interface InlineArray {
  offset: number;
  dtype: string;
  shape: number[];
  dataOffset?: number;
  dataBytes?: number;
  nestedPickle?: boolean;
}
interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious";
  format: string;
  compression: string;
  global: string | null;
  globalsResolved?: string[];
  pseudocodeContains: string | null;
  technique: string;
  proof: string;
  inlineArrays?: InlineArray[];
}

const DIR = join(import.meta.dirname, "../../../test/fixtures/joblib");
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(DIR, "manifest.json"), "utf8"),
);
const ctx = () => ({ limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 });
const bytesOf = (file: string) => readFileSync(join(DIR, file));

async function scan(file: string): Promise<ArtifactResult> {
  return scanArtifact({ file, member: [], source: memorySource(bytesOf(file)) }, ctx(), FORMATS);
}

/** The joblib/pickle artifact: the file itself, or the compressed stream's only child. */
const innermost = (r: ArtifactResult): ArtifactResult =>
  r.children.length === 1 ? innermost(r.children[0]!) : r;

describe("joblib fixtures (manifest)", () => {
  it("covers benign and proven malicious files, compressed and not", () => {
    expect(new Set(manifest.fixtures.map((e) => e.expect))).toContain("malicious");
    expect(new Set(manifest.fixtures.map((e) => e.compression))).toContain("none");
    for (const e of manifest.fixtures.filter((x) => x.expect === "malicious")) {
      // Proven, or labelled as a payload that runs only when the loaded object is used.
      expect(e.proof, e.file).toMatch(/^canary ran under|canary did NOT appear/);
    }
  });

  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (file, entry) => {
    const result = await scan(file);
    const findings = collectFindings(result);
    const described = `${entry.technique}\n${result.verdict}\n${findings
      .map((f) => `${f.severity} ${f.rule}: ${f.message}`)
      .join("\n")}`;
    const inner = innermost(result);
    expect(inner.format, described).toBe(entry.format);
    if (entry.compression !== "none") expect(result.children, described).toHaveLength(1);
    if (entry.inlineArrays)
      expect(inner.details?.arrays, described).toBe(entry.inlineArrays.length);
    switch (entry.expect) {
      case "safe":
        expect(result.verdict, described).toBe("safe");
        break;
      case "suspicious":
        // Library classes: known (low) or unknown (medium) by policy; never worse.
        expect(["safe", "suspicious"], described).toContain(result.verdict);
        for (const f of findings) expect(["critical", "high"], described).not.toContain(f.severity);
        break;
      case "malicious": {
        expect(result.verdict, described).toBe("malicious");
        const critical = findings.filter((f) => f.severity === "critical");
        const accepted = [entry.global, ...(entry.globalsResolved ?? [])];
        expect(
          critical.some((f) => accepted.includes(f.evidence?.global ?? null)),
          described,
        ).toBe(true);
        const code = critical.map((f) => f.evidence?.pseudocode ?? "").join("\n");
        expect(code, described).toContain(entry.pseudocodeContains ?? "");
        break;
      }
    }
  });

  const uncompressed = manifest.fixtures.filter(
    (e) => e.compression === "none" && e.inlineArrays !== undefined,
  );
  it.each(uncompressed.map((e) => [e.file, e] as const))(
    "%s: arrays where joblib.dump wrote them",
    async (file, entry) => {
      const r = await analyseJoblib(memorySource(bytesOf(file)), ctx());
      expect(r.unanalysable).toBe(false);
      expect(
        r.arrays.map((a) => ({
          offset: a.offset,
          dtype: a.dtype.replace(/^"|"$/g, ""),
          shape: (a.shape ?? []).map(Number),
          ...(a.nestedPickle
            ? { nestedPickle: true }
            : { dataOffset: a.dataOffset, dataBytes: a.dataBytes }),
        })),
      ).toEqual(entry.inlineArrays);
      expect(r.pickle.endOffset).toBe(bytesOf(file).length);
    },
  );
});
