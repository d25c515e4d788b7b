import { describe, expect, it } from "vitest";
import { memorySource } from "../core/byte-source.js";
import { DEFAULT_LIMITS } from "../core/limits.js";
import type { FormatAnalyser, ScanContext } from "../formats/types.js";
import type { Policy } from "../policy/types.js";
import { collectFindings, scanArtifact, worseVerdict } from "./scan-artifact.js";

const policy: Policy = {
  classifyGlobal: () => ({ class: "unknown", severity: "medium", rule: "x.y", reason: "test" }),
};
const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy, depth: 0 };
const text = (s: string) => new TextEncoder().encode(s);

/** A toy format: "BOX" + member names separated by commas; "BAD" raises a critical finding. */
const box: FormatAnalyser = {
  id: "box",
  version: 1,
  description: "test container",
  detect: (p) => new TextDecoder().decode(p.head.subarray(0, 3)) === "BOX",
  async analyse(artifact) {
    const body = new TextDecoder().decode(await artifact.source.read(3, artifact.source.size));
    return {
      format: "box",
      findings: [],
      children: body
        .split(",")
        .filter(Boolean)
        .map((name) => ({
          name,
          source: memorySource(text(name.startsWith("in") ? name.slice(2) : name)),
        })),
    };
  },
};
const bad: FormatAnalyser = {
  id: "bad",
  version: 1,
  description: "always critical",
  detect: (p) => new TextDecoder().decode(p.head.subarray(0, 3)) === "BAD",
  analyse: async () => ({
    format: "bad",
    findings: [{ rule: "test.bad", severity: "critical", message: "bad", offset: 1 }],
    children: [],
  }),
};
const thrower: FormatAnalyser = {
  id: "thrower",
  version: 1,
  description: "throws",
  detect: (p) => p.head[0] === 0x21,
  analyse: () => Promise.reject(new Error("boom")),
};
const formats = [box, bad, thrower];

const scanBytes = (bytes: string, file = "f", c = ctx) =>
  scanArtifact({ file, member: [], source: memorySource(text(bytes)) }, c, formats);

describe("scanArtifact", () => {
  it("recurses into children and takes the worst verdict, with member locations", async () => {
    const result = await scanBytes("BOXa.txt,BAD");
    expect(result.format).toBe("box");
    expect(result.verdict).toBe("malicious");
    const findings = collectFindings(result);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.location).toEqual({ file: "f", member: ["BAD"], offset: 1 });
  });

  it("fails closed when an analyser throws", async () => {
    const result = await scanBytes("!oops");
    expect(result.verdict).toBe("error");
    expect(result.findings[0]!.rule).toBe("scan.internal-error");
    expect(result.findings[0]!.message).toContain("boom");
  });

  it("reports an unrecognised file with a model's name as error, other files as not models", async () => {
    expect((await scanBytes("hello", "weights.pt")).verdict).toBe("error");
    const readme = await scanBytes("hello", "README.md");
    expect(readme.format).toBeNull();
    expect(readme.verdict).toBe("safe");
    expect(readme.findings).toEqual([]);
  });

  it("stops at the nesting limit with a finding", async () => {
    const shallow = { ...ctx, limits: { ...DEFAULT_LIMITS, maxNestingDepth: 1 } };
    const result = await scanBytes("BOXinBOXinBAD", "f", shallow);
    const rules = collectFindings(result).map((f) => f.rule);
    expect(rules).toContain("limits.exceeded");
    expect(rules).not.toContain("test.bad");
    expect(result.verdict).toBe("suspicious");
  });

  it("orders verdicts safe < suspicious < error < malicious", () => {
    expect(worseVerdict("safe", "suspicious")).toBe("suspicious");
    expect(worseVerdict("error", "suspicious")).toBe("error");
    expect(worseVerdict("error", "malicious")).toBe("malicious");
  });
});
