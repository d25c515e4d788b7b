import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { scanPath } from "./scan-helpers.js";

/**
 * Third-party regression samples (picklescan's and ModelScan's own test data), read through
 * ../shared at test time and never copied into the repo. Every label must hold.
 */
const CORPUS = resolve(import.meta.dirname, "../../shared/corpus/picklescan-tests");
const present = existsSync(join(CORPUS, "labels.json"));

if (!present) {
  console.warn(
    `\n[modelvet] NOTE: third-party corpus not found at ${CORPUS}; its label checks are skipped.\n`,
  );
}

type Label = "malicious" | "safe" | "not-malicious" | "not-safe";
const labels: Record<string, Label> = present
  ? JSON.parse(readFileSync(join(CORPUS, "labels.json"), "utf8"))
  : {};

describe.skipIf(!present)("third-party corpus (picklescan-tests)", () => {
  it("has labels", () => {
    expect(Object.keys(labels).length).toBeGreaterThan(40);
  });

  it.each(Object.entries(labels))("%s is %s", async (file, label) => {
    const result = await scanPath(join(CORPUS, file));
    const summary = `${result.verdict}: ${result.findings.map((f) => `${f.rule} ${f.message}`).join(" | ")}`;
    switch (label) {
      case "malicious":
        expect(result.verdict, summary).toBe("malicious");
        break;
      case "safe":
        expect(result.verdict, summary).toBe("safe");
        break;
      case "not-malicious":
        expect(result.verdict, summary).not.toBe("malicious");
        break;
      case "not-safe":
        expect(result.verdict, summary).not.toBe("safe");
        break;
      default:
        throw new Error(`unknown label ${String(label)} for ${file}`);
    }
  });
});
