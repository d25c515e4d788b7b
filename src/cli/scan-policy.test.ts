import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { terminal } from "../../test/cli-terminal.js";
import { main } from "./main.js";

const ROOT = join(import.meta.dirname, "../..");
const MALICIOUS = "examples/malicious/reverse_shell_stand_in.pkl";
const GARBAGE = "examples/malicious/exec_after_garbage.bin";
const CUSTOM = "test/fixtures/torch/benign/whole_module_custom_class.pt";
const STATE_DICT = "examples/benign/state_dict.pt";

/** A temporary git checkout holding copies of `files` under models/, and a policy file. */
function project(files: string[], policy?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "modelvet-cli-"));
  mkdirSync(join(dir, ".git"));
  mkdirSync(join(dir, "models"));
  for (const f of files) copyFileSync(join(ROOT, f), join(dir, "models", f.split("/").at(-1)!));
  if (policy !== undefined) writeFileSync(join(dir, "modelvet.yaml"), policy);
  return dir;
}

async function run(args: string[], env?: NodeJS.ProcessEnv) {
  const t = terminal(env);
  const code = await main(args, t.term);
  return { code, out: t.out(), err: t.err() };
}

describe("policy file, end to end (a test per key)", () => {
  it("without a policy file the custom class is suspicious (exit 1)", async () => {
    const dir = project([CUSTOM]);
    expect((await run(["scan", join(dir, "models")])).code).toBe(1);
  });

  it("allow: an exact name or a module prefix makes it safe (exit 0)", async () => {
    for (const allow of ["__main__.TinyNet", "__main__.*"]) {
      const dir = project([CUSTOM], `allow: ["${allow}"]\n`);
      const r = await run(["scan", join(dir, "models")]);
      expect(r.code, allow).toBe(0);
      expect(r.out).toContain("SAFE");
    }
  });

  it("deny: a denied module makes the file malicious", async () => {
    const dir = project([CUSTOM], "deny: [torch.nn.modules.activation]\n");
    const r = await run(["scan", join(dir, "models")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("MALICIOUS");
    expect(r.out).toContain("Denied by your policy");
  });

  it("severity: an override changes what fails the run", async () => {
    const dir = project([CUSTOM], "severity:\n  pickle.unknown-global: low\n");
    expect((await run(["scan", join(dir, "models")])).code).toBe(0);
  });

  it("ignore: the finding is set aside, kept in JSON with its reason, and not counted", async () => {
    const dir = project(
      [MALICIOUS, STATE_DICT],
      "ignore:\n  - rule: pickle.dangerous-global\n    path: models/*.pkl\n    reason: canary demo file\n    expires: 2999-12-31\n",
    );
    const r = await run(["scan", join(dir, "models"), "-f", "json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    const file = report.files.find((f: { path: string }) => f.path.endsWith(".pkl"));
    expect(file.verdict).toBe("safe");
    expect(file.findings).toEqual([]);
    expect(file.suppressed[0].suppression).toEqual({
      kind: "ignore",
      reason: "canary demo file",
      expires: "2999-12-31",
    });
    expect(report.summary.suppressed).toBe(1);
    expect(report.policy.source).toBe(join(dir, "modelvet.yaml"));
    const text = await run(["scan", join(dir, "models")]);
    expect(text.out).toContain("1 finding set aside by the policy file or baseline");
    expect((await run(["scan", join(dir, "models"), "-v"])).out).toContain(
      "set aside (ignore): canary demo file (until 2999-12-31)",
    );
  });

  it("ignore: an expired ignore no longer applies, says so, and warns", async () => {
    const dir = project(
      [MALICIOUS],
      "ignore:\n  - rule: pickle.dangerous-global\n    reason: was fine\n    expires: 2001-01-01\n",
    );
    const r = await run(["scan", join(dir, "models"), "-v"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("policy.ignore-expired");
    expect(r.err).toContain("ignore[0] (pickle.dangerous-global) expired on 2001-01-01");
  });

  it("fail-on: the policy's threshold applies unless --fail-on is given", async () => {
    const dir = project([CUSTOM], "fail-on: critical\n");
    expect((await run(["scan", join(dir, "models")])).code).toBe(0);
    expect((await run(["scan", join(dir, "models"), "--fail-on", "medium"])).code).toBe(1);
  });

  it("limits: a policy limit is enforced and reported", async () => {
    const dir = project([STATE_DICT], "limits:\n  maxNestingDepth: 0\n");
    const r = await run(["scan", join(dir, "models"), "-f", "json"]);
    const report = JSON.parse(r.out);
    expect(report.limits.maxNestingDepth).toBe(0);
    expect(report.files[0].findings.map((f: { rule: string }) => f.rule)).toContain(
      "limits.exceeded",
    );
    expect(r.code).toBe(1);
  });

  it("--policy FILE uses that file; --no-policy uses none", async () => {
    const dir = project([CUSTOM]);
    const other = join(dir, "elsewhere.yaml");
    writeFileSync(other, "allow: [__main__.TinyNet]\n");
    expect((await run(["scan", join(dir, "models"), "--policy", other])).code).toBe(0);
    writeFileSync(join(dir, "modelvet.yaml"), "allow: [__main__.TinyNet]\n");
    expect((await run(["scan", join(dir, "models")])).code).toBe(0);
    expect((await run(["scan", join(dir, "models"), "--no-policy"])).code).toBe(1);
  });

  it("an invalid policy file is a usage error naming the file and the key (exit 2)", async () => {
    const dir = project([CUSTOM], "alow: [x.y]\n");
    const r = await run(["scan", join(dir, "models")]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `modelvet: ${join(dir, "modelvet.yaml")}: unknown key "alow" (known keys: fail-on, allow, deny, severity, ignore, limits)\n`,
    );
  });

  it("a missing --policy file is a usage error (exit 2)", async () => {
    const r = await run(["scan", MALICIOUS, "--policy", "/no/such.yaml"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe("modelvet: /no/such.yaml: cannot read the policy file (no such file)\n");
  });
});

describe("modelvet policy show", () => {
  it("prints the merged policy as YAML", async () => {
    const dir = project([], "fail-on: high\nallow: [mypkg.*]\nlimits: {maxOpcodes: 1000}\n");
    const r = await run(["policy", "show", join(dir, "models")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`# From: ${join(dir, "modelvet.yaml")}`);
    const data = parse(r.out);
    expect(data).toMatchObject({ "fail-on": "high", allow: ["mypkg.*"], deny: [], ignore: [] });
    expect(data.limits).toMatchObject({ maxOpcodes: 1000, maxNestingDepth: 8 });
  });

  it("says when there is no policy file", async () => {
    const dir = project([]);
    const r = await run(["policy", "show", dir]);
    expect(r.out).toContain("# No policy file: built-in defaults only.");
    expect(parse(r.out)["fail-on"]).toBe("medium");
    const none = await run(["policy", "show", "--no-policy", dir]);
    expect(none.out).toContain("No policy file");
  });

  it("names a missing path (exit 2)", async () => {
    const r = await run(["policy", "show", "/no/such/dir"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe("modelvet: /no/such/dir: no such file or folder\n");
  });
});

describe("baselines, end to end", () => {
  it("--write-baseline then --baseline reports only new findings", async () => {
    const dir = project([MALICIOUS]);
    const baseline = join(dir, "baseline.json");
    const first = await run(["scan", join(dir, "models"), "--write-baseline", baseline]);
    expect(first.code).toBe(1);
    const written = JSON.parse(readFileSync(baseline, "utf8"));
    expect(written.modelvetBaseline).toBe(1);
    expect(written.findings[0]).toMatchObject({
      rule: "pickle.dangerous-global",
      path: "models/reverse_shell_stand_in.pkl",
      global: "posix.system",
    });
    expect((await run(["scan", join(dir, "models"), "--baseline", baseline])).code).toBe(0);

    copyFileSync(join(ROOT, GARBAGE), join(dir, "models", "new.bin"));
    const r = await run(["scan", join(dir, "models"), "--baseline", baseline, "-f", "json"]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.baseline).toEqual({ file: baseline, findings: 1 });
    expect(
      report.files.map((f: { verdict: string; path: string }) => [
        f.path.split("/").at(-1),
        f.verdict,
      ]),
    ).toEqual([
      ["new.bin", "malicious"],
      ["reverse_shell_stand_in.pkl", "safe"],
    ]);
  });

  it("a baseline works whatever the working folder (paths are relative to it)", async () => {
    const dir = project([MALICIOUS]);
    const baseline = join(dir, "baseline.json");
    await run(["scan", join(dir, "models"), "--write-baseline", baseline]);
    const fromHere = relative(process.cwd(), join(dir, "models"));
    expect(fromHere).not.toBe(join(dir, "models"));
    expect(
      (await run(["scan", fromHere, "--baseline", relative(process.cwd(), baseline)])).code,
    ).toBe(0);
  });

  it("a bad baseline is a usage error (exit 2)", async () => {
    const dir = project([]);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{}");
    let r = await run(["scan", MALICIOUS, "--baseline", bad]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `modelvet: ${bad}: not a modelvet baseline (no "modelvetBaseline" key; write one with --write-baseline)\n`,
    );
    writeFileSync(bad, "not json");
    r = await run(["scan", MALICIOUS, "--baseline", bad]);
    expect(r.err).toContain(`modelvet: ${bad}: not a modelvet baseline (not JSON:`);
    writeFileSync(bad, '{"modelvetBaseline": 2, "findings": []}');
    r = await run(["scan", MALICIOUS, "--baseline", bad]);
    expect(r.err).toBe(`modelvet: ${bad}: baseline format 2 is not supported (expected 1)\n`);
    writeFileSync(bad, '{"modelvetBaseline": 1, "findings": {}}');
    r = await run(["scan", MALICIOUS, "--baseline", bad]);
    expect(r.err).toBe(`modelvet: ${bad}: "findings" must be a list\n`);
    writeFileSync(bad, '{"modelvetBaseline": 1, "findings": [{}]}');
    r = await run(["scan", MALICIOUS, "--baseline", bad]);
    expect(r.err).toBe(`modelvet: ${bad}: findings[0] has no "fingerprint" string\n`);
    r = await run(["scan", MALICIOUS, "--baseline", join(dir, "missing.json")]);
    expect(r.err).toBe(
      `modelvet: ${join(dir, "missing.json")}: cannot read the baseline (no such file)\n`,
    );
  });
});

describe("terminal output options", () => {
  it("--quiet shows only files with findings at or above --fail-on, then the summary", async () => {
    const r = await run(["scan", "examples/", "--quiet"]);
    expect(r.out).not.toContain("SAFE");
    expect(r.out).toContain("reverse_shell_stand_in.pkl  MALICIOUS");
    const critical = await run(["scan", "examples/", "-q", "--fail-on", "critical"]);
    expect(critical.out).not.toContain("pickle.malformed");
    expect(critical.out).toMatch(/Scanned 5 model files/);
  });

  it("--verbose also lists files that are not models; --quiet and --verbose conflict", async () => {
    expect((await run(["scan", "examples/"])).out).not.toContain("README.md");
    expect((await run(["scan", "examples/", "-v"])).out).toContain(
      "examples/README.md  SAFE  (not a model format)",
    );
    const both = await run(["scan", "examples/", "-q", "-v"]);
    expect(both.code).toBe(2);
    expect(both.err).toContain("cannot be used with option");
  });

  it("colours a terminal, and never with NO_COLOR", async () => {
    const coloured = terminal({}, { stdout: true });
    await main(["scan", MALICIOUS], coloured.term);
    expect(coloured.out()).toContain("\u001b[31m");
    const plain = terminal({ NO_COLOR: "1" }, { stdout: true });
    await main(["scan", MALICIOUS], plain.term);
    expect(plain.out()).not.toContain("\u001b[");
  });
});

describe("report formats from the CLI", () => {
  it("writes SARIF, CycloneDX and HTML, to stdout or -o", async () => {
    const sarif = JSON.parse((await run(["scan", MALICIOUS, "-f", "sarif"])).out);
    expect(sarif.version).toBe("2.1.0");
    const cdx = JSON.parse((await run(["scan", MALICIOUS, "-f", "cyclonedx"])).out);
    expect(cdx.specVersion).toBe("1.6");
    expect(cdx.serialNumber).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    const dir = project([]);
    const out = join(dir, "report.html");
    expect(await run(["scan", MALICIOUS, "-f", "html", "-o", out])).toMatchObject({
      code: 1,
      out: "",
    });
    expect(readFileSync(out, "utf8")).toContain("<!doctype html>");
  });

  it("rejects an unknown format (exit 2)", async () => {
    const r = await run(["scan", MALICIOUS, "-f", "xml"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Allowed choices are text, json, sarif, cyclonedx, html");
  });
});
