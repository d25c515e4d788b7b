import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeText } from "../src/report/text.js";
import { examplesReport, ROOT } from "./report-helpers.js";

/** The README shows each report with a real example from `modelvet scan examples/`: keep them so. */
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
/** The fenced code blocks of the README in language `lang` ("" for none). */
function blocks(lang: string): string[] {
  const found: string[] = [];
  let open: { lang: string; lines: string[] } | null = null;
  for (const line of readme.split("\n")) {
    if (line.startsWith("```")) {
      if (open === null) open = { lang: line.slice(3).trim(), lines: [] };
      else {
        if (open.lang === lang) found.push(`${open.lines.join("\n")}\n`);
        open = null;
      }
    } else open?.lines.push(line);
  }
  return found;
}
const golden = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, "test/fixtures/golden", name), "utf8"));

describe("README report examples are real", () => {
  it("the --quiet text example is what modelvet prints", async () => {
    const text = writeText(await examplesReport(), { quiet: true, failOn: "critical" });
    expect(blocks("").some((b) => b === text)).toBe(true);
  });

  it("the SARIF result is one of the golden SARIF's results", () => {
    const shown = blocks("json")
      .map((b) => JSON.parse(b))
      .find((b) => b.ruleId !== undefined);
    const actual = golden("examples.sarif.json").runs[0].results.find(
      (r: { partialFingerprints: Record<string, string> }) =>
        r.partialFingerprints["modelvet/v1"] === shown.partialFingerprints["modelvet/v1"],
    );
    expect({ ...shown, message: { ...shown.message, markdown: actual.message.markdown } }).toEqual(
      actual,
    );
  });

  it("the CycloneDX component is one of the golden BOM's components", () => {
    const shown = blocks("json")
      .map((b) => JSON.parse(b))
      .find((b) => b.type === "machine-learning-model");
    expect(golden("examples.cdx.json").components).toContainEqual(shown);
  });

  it("the JSON file entry matches the golden JSON report", () => {
    const shown = blocks("json")
      .map((b) => JSON.parse(b))
      .find((b) => b.schemaVersion !== undefined);
    const actual = golden("examples.json").files.find(
      (f: { path: string }) => f.path === shown.files[0].path,
    );
    const { details: _details, ...rest } = actual;
    expect({ ...shown.files[0], timings: { analyseMs: 0 } }).toEqual(rest);
  });
});
