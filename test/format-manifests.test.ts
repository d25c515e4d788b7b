import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { FileResult } from "../src/scan/results.js";
import { scan } from "../src/scan/scan.js";
import { openFile } from "../src/sources/file-source.js";
import { expandPaths } from "../src/sources/walk.js";
import { scanPath } from "./scan-helpers.js";

/**
 * The non-pickle fixtures (made by the genuine libraries or byte-exact from the specifications,
 * malicious ones proven against the real loader — see test/fixtures/make/), scanned through the
 * whole engine: detection order included, so a file claimed by the wrong analyser fails here even
 * when its own analyser's tests pass. Each format's module tests check the finer details.
 *
 * A manifest's `expect: "suspicious"` is also met by `error` when the file carries a high finding:
 * a header that cannot be read at all leaves nothing to analyse, and DESIGN.md counts `error` as
 * suspicious (fail closed).
 */
interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious" | "error";
  technique: string;
  /** The format the file must be detected as, where the manifest says. */
  format?: string;
  /** A rule (or rules) the file must carry. */
  rule?: string | null;
  rules?: string[];
  global?: string | null;
}

const DIRS = [
  "safetensors",
  "gguf",
  "chat-template",
  "keras",
  "onnx",
  "tensorflow",
  "tflite",
  "hf-repo",
  "msgpack",
]
  .map((name) => join(import.meta.dirname, "fixtures", name))
  .filter((dir) => existsSync(join(dir, "manifest.json")));

const describeResult = (r: FileResult) =>
  [`${r.verdict} (${r.format})`, ...r.findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`)]
    .join("\n")
    .slice(0, 4000);

for (const dir of DIRS) {
  const manifest: { fixtures: Entry[] } = JSON.parse(
    readFileSync(join(dir, "manifest.json"), "utf8"),
  );
  describe(`fixtures in ${dir.slice(dir.lastIndexOf("fixtures"))} through the whole engine`, () => {
    it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (_f, entry) => {
      const result = await scanPath(join(dir, entry.file));
      const text = `${entry.technique}\n${describeResult(result)}`;
      if (entry.expect === "suspicious" && result.verdict === "error") {
        expect(
          result.findings.some((f) => f.severity === "high"),
          text,
        ).toBe(true);
      } else {
        expect(result.verdict, text).toBe(entry.expect);
      }
      if (entry.format) expect(result.format, text).toBe(entry.format);
      // A file's findings include its members'.
      const found = new Set(result.findings.map((f) => f.rule));
      const wanted = [...(entry.rules ?? []), ...(entry.rule ? [entry.rule] : [])];
      for (const rule of wanted) expect([...found], text).toContain(rule);
      if (entry.global && entry.expect === "malicious") {
        const globals = result.findings.map((f) => f.evidence?.global);
        expect(globals, text).toContain(entry.global);
      }
    });
  });
}

describe("a whole Hugging Face repository folder, scanned as one unit", () => {
  const dir = join(import.meta.dirname, "fixtures", "hf-repo");
  it("gives every file in it, found by walking the folder, its own verdict and findings", async () => {
    const manifest: { fixtures: Entry[] } = JSON.parse(
      readFileSync(join(dir, "manifest.json"), "utf8"),
    );
    const paths = (await expandPaths([dir])).filter((p) => !p.endsWith("manifest.json"));
    const report = await scan(paths.map((path) => ({ path, open: () => openFile(path) })));
    const byPath = new Map(report.files.map((f) => [relative(dir, f.path), f]));
    expect([...byPath.keys()].sort()).toEqual(manifest.fixtures.map((e) => e.file).sort());
    for (const entry of manifest.fixtures) {
      const result = byPath.get(entry.file)!;
      expect(result.verdict, `${entry.file}\n${describeResult(result)}`).toBe(entry.expect);
      for (const f of result.findings) expect(f.location.file).toBe(result.path);
    }
    expect(report.summary.verdicts.malicious).toBe(
      manifest.fixtures.filter((e) => e.expect === "malicious").length,
    );
  });
});
