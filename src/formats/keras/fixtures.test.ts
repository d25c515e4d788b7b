import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import type { ArtifactResult } from "../../scan/results.js";
import { collectFindings, scanArtifact } from "../../scan/scan-artifact.js";
import { hdf5Format } from "../hdf5/index.js";
import { pickleFormat } from "../pickle/index.js";
import type { FormatAnalyser } from "../types.js";
import { zipFormat } from "../zip/index.js";
import { kerasConfigFormat } from "./index.js";

/**
 * Every fixture in test/fixtures/keras/manifest.json (made by make_keras_fixtures.py: genuine
 * Keras 3 saves, Keras 2 HDF5 built byte-exact, published bypasses as config edits) through the
 * real engine, in the detection order the registry uses.
 */
const FORMATS: readonly FormatAnalyser[] = [zipFormat, hdf5Format, kerasConfigFormat, pickleFormat];

interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious";
  format: string;
  rule: string | null;
  global: string | null;
  pseudocodeContains: string | null;
  technique: string;
  proof: string;
  references?: string[];
}
const DIR = join(import.meta.dirname, "../../../test/fixtures/keras");
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(DIR, "manifest.json"), "utf8"),
);

async function scan(file: string): Promise<ArtifactResult> {
  return scanArtifact(
    { file, member: [], source: memorySource(new Uint8Array(readFileSync(join(DIR, file)))) },
    { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 },
    FORMATS,
  );
}

describe("keras fixtures (manifest)", () => {
  it("covers safe, suspicious and malicious files, each malicious one proven or labelled", () => {
    expect(new Set(manifest.fixtures.map((e) => e.expect))).toEqual(
      new Set(["safe", "suspicious", "malicious"]),
    );
    for (const e of manifest.fixtures.filter((x) => x.expect === "malicious")) {
      expect(e.proof, e.file).toMatch(/^(canary ran under|not executable here: |n\/a \(harmless)/);
    }
    expect(manifest.fixtures.some((e) => e.proof.startsWith("canary ran under"))).toBe(true);
  });

  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (file, entry) => {
    const result = await scan(file);
    const findings = collectFindings(result);
    const described = findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join("\n");
    expect(result.format, described).toBe(entry.format);
    expect(result.verdict, `${entry.technique}\n${described}`).toBe(entry.expect);
    if (entry.expect === "safe") {
      for (const f of findings) expect(["low", "info"], described).toContain(f.severity);
      return;
    }
    const severity = entry.expect === "malicious" ? "critical" : "medium";
    const hits = findings.filter((f) => f.severity === severity && f.rule === entry.rule);
    expect(hits.length, described).toBeGreaterThan(0);
    if (entry.global !== null) {
      expect(
        hits.map((f) => f.evidence?.global),
        described,
      ).toContain(entry.global);
    }
    if (entry.pseudocodeContains !== null) {
      expect(hits.map((f) => f.evidence?.pseudocode ?? "").join("\n")).toContain(
        entry.pseudocodeContains,
      );
    }
    for (const ref of entry.references ?? []) {
      expect(
        findings.flatMap((f) => f.references ?? []),
        described,
      ).toContain(ref);
    }
  });
});

describe("a .keras archive through the engine", () => {
  it("config.json, metadata.json and model.weights.h5 are each recognised by content", async () => {
    const result = await scan("benign/sequential.keras");
    expect(result.children.map((c) => [c.member.at(-1), c.format, c.verdict])).toEqual([
      ["metadata.json", "keras-metadata", "safe"],
      ["config.json", "keras-config", "safe"],
      ["model.weights.h5", "hdf5", "safe"],
    ]);
  });

  it("names the member and the dangerous call of a Lambda payload", async () => {
    const result = await scan("malicious/lambda_os_system.keras");
    const critical = collectFindings(result).filter((f) => f.severity === "critical");
    expect(critical).toHaveLength(1);
    const f = critical[0]!;
    expect(f.location.member).toEqual(["config.json"]);
    expect(f.message).toContain('Lambda layer "preprocess" (function)');
    expect(f.evidence?.pseudocode).toBe(
      'lambda x: uses __import__, system; constants "os", "touch \\"$CANARY\\""',
    );
  });

  it("reports Keras 2 HDF5 facts as details", async () => {
    const result = await scan("benign/sequential_keras2.h5");
    expect(result.details).toMatchObject({
      kerasVersion: "2.12.0",
      backend: "tensorflow",
      modelClass: "Sequential",
      lambdas: 0,
      customObjects: 0,
    });
  });
});
