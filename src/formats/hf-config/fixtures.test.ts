import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import type { ArtifactResult } from "../../scan/results.js";
import { collectFindings, scanArtifact } from "../../scan/scan-artifact.js";
import { compressedFormat } from "../compressed/index.js";
import { flaxMsgpackFormat } from "../msgpack/index.js";
import { npyFormat } from "../numpy/index.js";
import { pickleFormat } from "../pickle/index.js";
import { pythonSourceFormat } from "../python-source/index.js";
import { tarFormat } from "../tar/index.js";
import type { FormatAnalyser } from "../types.js";
import { zipFormat } from "../zip/index.js";
import { hfConfigFormat, nemoConfigFormat, torchServeManifestFormat } from "./index.js";

/**
 * Every fixture of test/fixtures/hf-repo and test/fixtures/msgpack (made, and the malicious ones
 * proven, by test/fixtures/make/make_hf_repo_fixtures.py) through the real engine, with these
 * analysers in the detection order the registry should use.
 */
const FORMATS: readonly FormatAnalyser[] = [
  tarFormat,
  compressedFormat,
  zipFormat,
  flaxMsgpackFormat,
  hfConfigFormat,
  torchServeManifestFormat,
  pythonSourceFormat,
  nemoConfigFormat,
  npyFormat,
  pickleFormat,
];

interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious";
  global: string | null;
  pseudocodeContains: string | null;
  technique: string;
  proof: string;
  rules?: string[];
}

function formatsOf(result: ArtifactResult): string[] {
  return [result.format ?? "null", ...result.children.flatMap(formatsOf)];
}

for (const name of ["hf-repo", "msgpack"]) {
  const dir = join(import.meta.dirname, "../../../test/fixtures", name);
  const manifest: { fixtures: Entry[] } = JSON.parse(
    readFileSync(join(dir, "manifest.json"), "utf8"),
  );
  describe(`${name} fixtures (manifest)`, () => {
    it("labels every malicious fixture with its proof", () => {
      for (const e of manifest.fixtures.filter((x) => x.expect === "malicious")) {
        expect(e.proof, e.file).toMatch(/canary created|^not proven/);
      }
    });

    it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (_file, entry) => {
      const bytes = readFileSync(join(dir, entry.file));
      const result = await scanArtifact(
        { file: entry.file, member: [], source: memorySource(bytes) },
        { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 },
        FORMATS,
      );
      const findings = collectFindings(result);
      const text = `${entry.technique}\nformats ${formatsOf(result).join(",")}\n${findings
        .map((f) => `${f.severity} ${f.rule} ${f.location.member?.join(" › ") ?? ""}: ${f.message}`)
        .join("\n")}`;
      expect(result.verdict, text).toBe(entry.expect);
      expect(result.format, text).not.toBeNull();
      for (const rule of entry.rules ?? []) {
        expect(
          findings.map((f) => f.rule),
          text,
        ).toContain(rule);
      }
      if (entry.expect === "malicious") {
        const critical = findings.filter((f) => f.severity === "critical");
        if (entry.global) {
          expect(
            critical.map((f) => f.evidence?.global),
            text,
          ).toContain(entry.global);
        }
        if (entry.pseudocodeContains) {
          expect(critical.map((f) => f.evidence?.pseudocode ?? "").join("\n"), text).toContain(
            entry.pseudocodeContains,
          );
        }
      } else if (entry.global) {
        expect(
          findings.map((f) => f.evidence?.global),
          text,
        ).toContain(entry.global);
      }
      if (entry.expect === "safe") {
        expect(
          findings.filter((f) => f.severity !== "info" && f.severity !== "low"),
          text,
        ).toEqual([]);
      }
    });
  });
}
