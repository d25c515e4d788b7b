import { beforeAll, describe, expect, it } from "vitest";
import { writeText } from "../src/report/text.js";
import type { ScanReport } from "../src/scan/scan.js";
import { richReport } from "./report-helpers.js";

let report: ScanReport;
beforeAll(async () => {
  report = await richReport();
});

describe("text report", () => {
  it("hides info findings and set-aside findings unless --verbose", () => {
    const plain = writeText(report);
    expect(plain).not.toContain("pickle.malformed"); // lowered to info by the policy
    expect(plain).not.toContain("set aside (");
    expect(plain).toContain("3 findings set aside by the policy file or baseline");
    const verbose = writeText(report, { verbose: true });
    expect(verbose).toContain("info     pickle.malformed");
    expect(verbose).toContain(
      "set aside (ignore): torch layers are expected here (until 2030-01-01)",
    );
    expect(verbose).toContain("set aside (baseline): in the baseline baseline.json");
  });

  it("--quiet keeps what fails the run: findings at or above fail-on, and files that could not be read", () => {
    const medium = writeText(report, { quiet: true, failOn: "medium" });
    expect(medium).toContain("models/gone.pt  ERROR");
    expect(medium).toContain("pickle.unknown-global");
    expect(medium).not.toContain("SAFE");
    const critical = writeText(report, { quiet: true, failOn: "critical" });
    expect(critical).not.toContain("models/gone.pt");
    expect(critical).not.toContain("pickle.unknown-global");
    expect(critical).toContain("pickle.dangerous-global");
    expect(writeText(report, { quiet: true, failOn: "none" }).trim().split("\n")).toHaveLength(1);
  });

  it("uses no escape codes without colour, and says verdicts and severities in words", () => {
    const text = writeText(report, { verbose: true });
    expect(text).not.toContain("\u001b[");
    for (const word of ["MALICIOUS", "SUSPICIOUS", "ERROR", "SAFE", "critical", "medium", "low"]) {
      expect(text).toContain(word);
    }
  });
});
