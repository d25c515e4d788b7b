import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { type SarifLog, toSarif, toUri, writeSarif } from "../src/report/sarif.js";
import type { ScanReport } from "../src/scan/scan.js";
import { ROOT, richReport } from "./report-helpers.js";

/**
 * The official OASIS schema (test/fixtures/schemas/README.md), verbatim. It declares draft-04,
 * which Ajv 8 has no class for; the keywords it uses mean the same in draft-07, so only the
 * draft-04 `id` becomes `$id` and the `$schema` line is dropped before compiling.
 */
function sarifValidator() {
  const official = JSON.parse(
    readFileSync(join(ROOT, "test/fixtures/schemas/sarif-schema-2.1.0.json"), "utf8"),
  );
  const { $schema: _draft04, id, ...rest } = official;
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  addFormats.default(ajv);
  return ajv.compile({ $id: id, ...rest });
}

type Result = SarifLog["runs"][0]["results"][number];

let report: ScanReport;
let log: SarifLog;
beforeAll(async () => {
  report = await richReport();
  log = JSON.parse(writeSarif(report));
});

const resultsFor = (rule: string): Result[] => log.runs[0].results.filter((r) => r.ruleId === rule);

describe("SARIF 2.1.0 report", () => {
  it("validates against the official SARIF 2.1.0 schema", () => {
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it("the schema check can fail", () => {
    const validate = sarifValidator();
    const broken = structuredClone(log) as unknown as { runs: { results: object[] }[] };
    broken.runs[0]!.results.push({ ruleId: "x", level: "fatal" });
    expect(validate(broken)).toBe(false);
  });

  it("links rule help only to documentation it was told of", () => {
    for (const rule of log.runs[0].tool.driver.rules) {
      expect(rule.helpUri).toBeUndefined();
      expect(rule.help.text).not.toMatch(/https?:/);
    }
    const docs = "https://models.example.com/modelvet/rules";
    const linked = toSarif(report, { rulesDocUrl: docs });
    expect(sarifValidator()(linked)).toBe(true);
    for (const rule of linked.runs[0].tool.driver.rules) {
      expect(rule.helpUri).toBe(`${docs}#${rule.id}`);
      expect(rule.help.markdown).toContain(`(${docs}#${rule.id})`);
    }
  });

  it("has one rule per rule id used, with help and security-severity", () => {
    const rules = log.runs[0].tool.driver.rules;
    const used = new Set(log.runs[0].results.map((r) => r.ruleId));
    expect(rules.map((r) => r.id).sort()).toEqual([...used].sort());
    for (const [i, rule] of rules.entries()) {
      expect(rule.help.text.length).toBeGreaterThan(20);
      expect(rule.fullDescription.text.length).toBeGreaterThanOrEqual(
        rule.shortDescription.text.length,
      );
      for (const r of log.runs[0].results.filter((x) => x.ruleId === rule.id)) {
        expect(r.ruleIndex).toBe(i);
      }
    }
    const severity = (id: string) =>
      rules.find((r) => r.id === id)?.properties["security-severity"];
    expect(severity("pickle.dangerous-global")).toBe("9.5");
    expect(severity("scan.unreadable")).toBe("8.0");
    expect(severity("pickle.unknown-global")).toBe("5.5");
    expect(severity("pickle.known-library-global")).toBe("3.0");
    expect(severity("pickle.malformed")).toBe("0.0"); // lowered to info by the policy
    expect(rules.find((r) => r.id === "pickle.dangerous-global")?.shortDescription.text).toMatch(
      /^Loading the file would import a global on the denylist \(e\.g\. .*\.$/,
    );
  });

  it("maps severities to levels: critical/high → error, medium → warning, low/info → note", () => {
    expect(resultsFor("pickle.dangerous-global").every((r) => r.level === "error")).toBe(true);
    expect(resultsFor("scan.unreadable")[0]?.level).toBe("error");
    expect(resultsFor("pickle.unknown-global")[0]?.level).toBe("warning");
    expect(resultsFor("pickle.known-library-global")[0]?.level).toBe("note");
    expect(resultsFor("pickle.malformed")[0]?.level).toBe("note");
  });

  it("locates a plain file's finding by byte offset, an archive member's by logical location", () => {
    const plain = resultsFor("pickle.dangerous-global").find((r) =>
      r.locations[0]!.physicalLocation.artifactLocation.uri.endsWith("exec_after_garbage.bin"),
    )!;
    expect(plain.locations[0]!.physicalLocation.region).toEqual({ byteOffset: 75 });
    expect(plain.locations[0]!.logicalLocations).toBeUndefined();

    const nested = resultsFor("pickle.dangerous-global").find((r) =>
      r.locations[0]!.physicalLocation.artifactLocation.uri.endsWith("checkpoint_zip_in_zip.zip"),
    )!;
    expect(nested.locations[0]!.physicalLocation.region).toBeUndefined();
    expect(nested.locations[0]!.logicalLocations).toEqual([
      {
        name: "archive/data.pkl",
        fullyQualifiedName: "weights.zip/model.pt/archive/data.pkl",
        kind: "resource",
        properties: { byteOffset: 429 },
      },
    ]);
    const index = nested.locations[0]!.physicalLocation.artifactLocation.index;
    expect(log.runs[0].artifacts[index]?.location.uri).toBe(
      "test/fixtures/torch/malicious/checkpoint_zip_in_zip.zip",
    );
    expect(log.runs[0].artifacts[index]?.hashes?.["sha-256"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("puts the pseudocode in the message, fenced in the Markdown", () => {
    const r = resultsFor("pickle.dangerous-global")[0]!;
    expect(r.message.text).toContain("Loading would run: _var0 = builtins.exec(");
    expect(r.message.markdown).toContain("```python\n_var0 = builtins.exec(");
    expect(r.properties.pseudocode).toContain("builtins.exec(");
  });

  it("marks findings set aside by an ignore or the baseline as suppressed", () => {
    const ignored = resultsFor("pickle.known-library-global");
    expect(ignored.length).toBeGreaterThan(0);
    for (const r of ignored) {
      expect(r.suppressions).toEqual([
        { kind: "external", status: "accepted", justification: "torch layers are expected here" },
      ]);
    }
    const inBaseline = resultsFor("pickle.dangerous-global").find((r) =>
      r.locations[0]!.physicalLocation.artifactLocation.uri.endsWith("reverse_shell_stand_in.pkl"),
    )!;
    expect(inBaseline.baselineState).toBe("unchanged");
    expect(inBaseline.suppressions?.[0]?.justification).toBe("in the baseline baseline.json");
    expect(resultsFor("pickle.unknown-global")[0]?.baselineState).toBe("new");
    expect(resultsFor("pickle.unknown-global")[0]?.suppressions).toBeUndefined();
  });

  it("gives every result a stable fingerprint", async () => {
    const again = toSarif(await richReport());
    const prints = (l: SarifLog) =>
      l.runs[0].results.map((r) => r.partialFingerprints["modelvet/v1"]);
    expect(prints(again)).toEqual(prints(log));
    expect(new Set(prints(log)).size).toBe(log.runs[0].results.length);
  });
});

describe("hostile text in SARIF", () => {
  it("cannot break out of the Markdown code fence or inject Markdown", () => {
    const hostile: ScanReport = structuredClone(report);
    const file = hostile.files.find((f) => f.findings.length > 0)!;
    file.findings = [
      {
        rule: "pickle.dangerous-global",
        severity: "critical",
        message: "![pixel](https://evil.example/t.png) [click](javascript:alert(1))",
        location: { file: file.path, offset: 1 },
        evidence: { pseudocode: "x = 1\n```\n![pixel](https://evil.example/t.png)\n````" },
      },
    ];
    const out = toSarif(hostile).runs[0].results.find((r) => r.partialFingerprints)!;
    const md = out.message.markdown!;
    expect(md).toContain("\\!\\[pixel\\]\\(https://evil\\.example/t\\.png\\)");
    expect(md).toContain("`````python\nx = 1\n```\n");
    expect(md.endsWith("\n`````")).toBe(true);
    const validate = sarifValidator();
    expect(validate(toSarif(hostile))).toBe(true);
  });

  it("percent-encodes file names into URI references", () => {
    expect(toUri("dir with space/a#b?.pkl")).toBe("dir%20with%20space/a%23b%3F.pkl");
    expect(toUri("./models/a.pt")).toBe("models/a.pt");
    expect(toUri("/abs/dir/a b.pt")).toBe("file:///abs/dir/a%20b.pt");
    expect(toUri("C:\\models\\a.pt")).toBe("file:///C:/models/a.pt");
  });
});
