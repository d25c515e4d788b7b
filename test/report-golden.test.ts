import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeCycloneDx } from "../src/report/cyclonedx.js";
import { writeJson } from "../src/report/json.js";
import { writeSarif } from "../src/report/sarif.js";
import { writeText } from "../src/report/text.js";
import type { ScanReport } from "../src/scan/scan.js";
import { examplesReport, ROOT } from "./report-helpers.js";

/**
 * Golden reports of `modelvet scan examples/` (test/fixtures/golden/README.md). Volatile fields
 * are fixed: CycloneDX gets a fixed timestamp and serial number, JSON timings are zeroed (SARIF
 * and text carry none). Regenerate after an intended change with
 * `UPDATE_GOLDEN=1 npx vitest run test/report-golden.test.ts` and review the diff.
 */
const GOLDEN = join(ROOT, "test/fixtures/golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

function golden(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  const expected = readFileSync(path, "utf8");
  expect(
    actual,
    `${name} changed; if intended: UPDATE_GOLDEN=1 npx vitest run ${"test/report-golden.test.ts"}`,
  ).toBe(expected);
}

let report: ScanReport;
beforeAll(async () => {
  report = await examplesReport();
});

describe("golden reports of examples/", () => {
  it("text", () => {
    golden("examples.txt", writeText(report));
  });

  it("text --verbose", () => {
    golden("examples.verbose.txt", writeText(report, { verbose: true }));
  });

  it("SARIF", () => {
    golden("examples.sarif.json", writeSarif(report));
  });

  it("CycloneDX", () => {
    golden(
      "examples.cdx.json",
      writeCycloneDx(report, {
        timestamp: new Date("2026-01-01T00:00:00Z"),
        serialNumber: "urn:uuid:00000000-0000-4000-8000-000000000000",
      }),
    );
  });

  it("JSON", () => {
    const normalised: ScanReport = {
      ...report,
      files: report.files.map((f) => ({ ...f, timings: { analyseMs: 0 } })),
    };
    golden("examples.json", writeJson(normalised));
  });
});
