import { describe, expect, it } from "vitest";
import type { Finding } from "../core/finding.js";
import type { FileResult } from "../scan/results.js";
import { decide } from "./vetter.js";

function result(verdict: FileResult["verdict"], findings: Partial<Finding>[]): FileResult {
  return {
    path: "f",
    size: 1,
    format: "pickle",
    verdict,
    findings: findings.map((f) => ({
      rule: "r",
      severity: "info",
      message: "m",
      location: { file: "f" },
      ...f,
    })),
    children: [],
    timings: { analyseMs: 0 },
  };
}

describe("decide", () => {
  it("refuses at or above fail-on and names the worst finding", () => {
    const r = result("malicious", [
      { rule: "pickle.unknown-global", severity: "medium", message: "odd" },
      {
        rule: "pickle.dangerous-global",
        severity: "critical",
        message: "runs a shell",
        evidence: { global: "posix.system" },
        location: { file: "f", member: ["archive", "data.pkl"] },
      },
    ]);
    const d = decide(r, "medium");
    expect(d).toMatchObject({
      blocked: true,
      rule: "pickle.dangerous-global",
      global: "posix.system",
    });
    expect(d.message).toBe(
      "pickle.dangerous-global (critical) posix.system in archive/data.pkl: runs a shell",
    );
    expect(decide(r, "critical").blocked).toBe(true);
    expect(decide(r, "none").blocked).toBe(false);
    const medium = result("suspicious", [{ rule: "pickle.unknown-global", severity: "medium" }]);
    expect(decide(medium, "medium").blocked).toBe(true);
    expect(decide(medium, "high").blocked).toBe(false);
  });

  it("fails closed: a file that could not be analysed counts as high", () => {
    const unreadable = result("error", []);
    expect(decide(unreadable, "medium").blocked).toBe(true);
    expect(decide(unreadable, "high").blocked).toBe(true);
    expect(decide(unreadable, "critical").blocked).toBe(false);
  });

  it("lets a clean file through and says so", () => {
    const d = decide(result("safe", [{ severity: "info" }]), "low");
    expect(d.blocked).toBe(false);
    expect(decide(result("safe", []), "low")).toMatchObject({ blocked: false, rule: null });
  });
});
