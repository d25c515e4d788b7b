import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import { collectFindings, scanArtifact } from "../../scan/scan-artifact.js";
import { compressedFormat } from "../compressed/index.js";
import { npyFormat } from "../numpy/index.js";
import { pickleFormat } from "../pickle/index.js";
import { sevenZipFormat } from "../sevenzip/index.js";
import type { FormatAnalyser } from "../types.js";
import { zipFormat } from "../zip/index.js";
import { tarFormat } from "./index.js";

/**
 * Every fixture in test/fixtures/tar/manifest.json (made and proven by
 * test/fixtures/make/make_archive_numpy_fixtures.py) through the real engine, with the detection
 * order the registry needs: tar and compressed streams before zip, pickle last.
 */
const FORMATS: readonly FormatAnalyser[] = [
  tarFormat,
  compressedFormat,
  zipFormat,
  sevenZipFormat,
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
const DIR = join(import.meta.dirname, "../../../test/fixtures/tar");
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(DIR, "manifest.json"), "utf8"),
);

describe("tar and compressed fixtures (manifest)", () => {
  it("covers benign, suspicious and proven malicious files", () => {
    expect(new Set(manifest.fixtures.map((e) => e.expect))).toEqual(
      new Set(["safe", "suspicious", "malicious"]),
    );
    for (const e of manifest.fixtures.filter((x) => x.expect === "malicious")) {
      expect(e.proof, e.file).toMatch(/^canary ran under/);
    }
  });

  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (_file, entry) => {
    const bytes = readFileSync(join(DIR, entry.file));
    const result = await scanArtifact(
      { file: entry.file, member: [], source: memorySource(bytes) },
      { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 },
      FORMATS,
    );
    const findings = collectFindings(result);
    const described = findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join("\n");
    expect(result.format, described).toBe(entry.format);
    expect(result.verdict, `${entry.technique}\n${described}`).toBe(entry.expect);
    if (entry.expect === "safe") {
      for (const f of findings) expect(["low", "info"], described).toContain(f.severity);
    }
    if (entry.expect === "malicious") {
      const critical = findings.filter((f) => f.severity === "critical");
      expect(critical.map((f) => f.evidence?.global)).toContain(entry.global);
      const code = critical.map((f) => f.evidence?.pseudocode ?? "").join("\n");
      expect(code).toContain(entry.pseudocodeContains);
      if (entry.member) {
        expect(
          critical.some((f) => f.location.member?.at(-1) === entry.member),
          described,
        ).toBe(true);
      }
    }
  });
});

describe("detection order", () => {
  it("tar must come before zip: a tar ending with a zip member also matches zip's end-record probe", async () => {
    const { makeTar } = await import("../../../test/fixtures/tar/make-tar.js");
    const { makeZip } = await import("../../../test/fixtures/zip/make-zip.js");
    const tar = makeTar([
      { name: "saved/model.zip", data: await makeZip([{ name: "a/data.pkl", data: "x" }]) },
    ]);
    const probe = { head: tar.subarray(0, 65558), tail: tar.subarray(-65558), size: tar.length };
    expect(tarFormat.detect(probe)).toBe(true);
    expect(zipFormat.detect(probe)).toBe(true);
    expect(pickleFormat.detect(probe)).toBe(true); // "s" (SETITEM) starts the member name
    const result = await scanArtifact(
      { file: "t.tar", member: [], source: memorySource(tar) },
      { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 },
      FORMATS,
    );
    expect(result.format).toBe("tar");
    expect(result.children[0]!.format).toBe("pytorch-zip");
  });
});
