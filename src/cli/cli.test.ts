import { describe, expect, it } from "vitest";
import { terminal } from "../../test/cli-terminal.js";
import { main } from "./main.js";

describe("modelvet CLI", () => {
  it("prints help with exit codes and exits 0", async () => {
    const t = terminal();
    expect(await main(["scan", "--help"], t.term)).toBe(0);
    expect(t.out()).toContain("--fail-on");
    expect(t.out()).toContain("Exit codes");
  });

  it("rejects an unknown --fail-on level with exit 2", async () => {
    const t = terminal();
    expect(await main(["scan", "x", "--fail-on", "severe"], t.term)).toBe(2);
    expect(t.err()).toContain("expected one of");
  });

  it("names a missing path clearly, without a stack trace, and exits 2", async () => {
    const t = terminal();
    expect(await main(["scan", "/no/such/model.pt"], t.term)).toBe(2);
    expect(t.err()).toBe("modelvet: /no/such/model.pt: no such file or folder\n");
  });
});

describe("--rules-doc-url", () => {
  it("links SARIF rules to the given documentation, and only then", async () => {
    const plain = terminal();
    await main(["scan", "examples/malicious", "--format", "sarif", "--no-hash"], plain.term);
    const linked = terminal();
    await main(
      [
        "scan",
        "examples/malicious",
        "--format",
        "sarif",
        "--no-hash",
        "--rules-doc-url",
        "https://docs.example.com/modelvet/rules",
      ],
      linked.term,
    );
    const rules = (out: string) =>
      (
        JSON.parse(out) as {
          runs: { tool: { driver: { rules: { id: string; helpUri?: string }[] } } }[];
        }
      ).runs[0]!.tool.driver.rules;
    expect(rules(plain.out()).every((r) => r.helpUri === undefined)).toBe(true);
    const withDocs = rules(linked.out());
    expect(withDocs.length).toBeGreaterThan(0);
    for (const r of withDocs) {
      expect(r.helpUri).toBe(`https://docs.example.com/modelvet/rules#${r.id}`);
    }
  });

  it("refuses a URL that is not http(s), with exit 2", async () => {
    const t = terminal();
    expect(await main(["scan", "examples", "--rules-doc-url", "javascript:alert(1)"], t.term)).toBe(
      2,
    );
    expect(t.err()).toContain("expected an http(s) URL");
  });
});

describe("modelvet rules", () => {
  it("keeps docs/rules.md equal to the rules the code reports", async () => {
    const { readFileSync } = await import("node:fs");
    const t = terminal();
    expect(await main(["rules", "--markdown"], t.term)).toBe(0);
    const doc = readFileSync(new URL("../../docs/rules.md", import.meta.url), "utf8");
    expect(doc, "regenerate with: npx modelvet rules --markdown > docs/rules.md").toBe(t.out());
  });
});
