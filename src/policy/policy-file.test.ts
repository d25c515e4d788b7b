import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_LIMITS } from "../core/limits.js";
import { createPolicy } from "./match.js";
import {
  isExpired,
  matchesGlob,
  matchesGlobal,
  type PolicyFile,
  parsePolicyFile,
  writePolicyYaml,
} from "./policy-file.js";

const KNOWN = new Set(["pickle.unknown-global", "pickle.dangerous-global", "scan.unreadable"]);

function parsed(text: string): PolicyFile {
  const result = parsePolicyFile(text, { source: "modelvet.yaml", knownRules: KNOWN });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

function problem(text: string, knownRules: ReadonlySet<string> | undefined = KNOWN): string {
  const result = parsePolicyFile(text, {
    source: "conf/modelvet.yaml",
    ...(knownRules ? { knownRules } : {}),
  });
  if (result.ok) throw new Error("expected an error");
  return result.error;
}

describe("parsePolicyFile: each key", () => {
  it("an empty file or a comment-only file is the empty policy", () => {
    for (const text of ["", "# nothing yet\n", "---\n"]) {
      expect(parsed(text)).toEqual({ allow: [], deny: [], severity: {}, ignore: [], limits: {} });
    }
  });

  it("allow: exact names, module:Outer.Inner and module.* prefixes", () => {
    const file = parsed(
      "allow:\n  - mypkg.models.Net\n  - mypkg.models:Outer.Inner\n  - mylib.*\n",
    );
    expect(file.allow).toEqual(["mypkg.models.Net", "mypkg.models:Outer.Inner", "mylib.*"]);
  });

  it("deny: modules and names", () => {
    expect(parsed("deny: [requests, numpy.load]").deny).toEqual(["requests", "numpy.load"]);
  });

  it("severity: rule id to severity", () => {
    expect(parsed("severity:\n  pickle.unknown-global: low\n").severity).toEqual({
      "pickle.unknown-global": "low",
    });
  });

  it("ignore: rule and reason, with optional path, global and expires", () => {
    const file = parsed(
      [
        "ignore:",
        "  - rule: pickle.unknown-global",
        "    path: models/**/*.pt",
        "    global: __main__.TinyNet",
        "    reason: our own class, reviewed in PR 12",
        "    expires: 2030-03-31",
        "  - rule: scan.unreadable",
        "    reason: '  flaky NFS mount  '",
      ].join("\n"),
    );
    expect(file.ignore).toEqual([
      {
        rule: "pickle.unknown-global",
        path: "models/**/*.pt",
        global: "__main__.TinyNet",
        reason: "our own class, reviewed in PR 12",
        expires: "2030-03-31",
      },
      { rule: "scan.unreadable", reason: "flaky NFS mount" },
    ]);
  });

  it("fail-on: a severity or none", () => {
    expect(parsed("fail-on: high").failOn).toBe("high");
    expect(parsed("fail-on: none").failOn).toBe("none");
  });

  it("limits: a subset of the limits", () => {
    expect(parsed("limits:\n  maxNestingDepth: 2\n  maxOpcodes: 1000\n").limits).toEqual({
      maxNestingDepth: 2,
      maxOpcodes: 1000,
    });
  });

  it("without knownRules, any rule id is accepted", () => {
    const result = parsePolicyFile("severity: {other.rule: info}", { source: "x" });
    expect(result.ok && result.value.severity).toEqual({ "other.rule": "info" });
  });
});

describe("parsePolicyFile: every error names the file and the key", () => {
  const cases: [string, string][] = [
    ["allow: [a, b", "conf/modelvet.yaml: not valid YAML:"],
    ["fail-on: high\nfail-on: low\n", "conf/modelvet.yaml: not valid YAML:"],
    ["- allow\n", "conf/modelvet.yaml: expected a mapping of policy keys"],
    ["allw: [a.b]\n", 'conf/modelvet.yaml: unknown key "allw" (known keys: fail-on, allow'],
    ["allow: mypkg.Net\n", "conf/modelvet.yaml: allow must be a list of Python names"],
    ["allow: [3]\n", "conf/modelvet.yaml: allow[0]: 3 is not a string"],
    ["allow: ['my pkg.Net']\n", 'allow[0]: "my pkg.Net" is not a Python name like "module.Class"'],
    ["allow: ['nodot']\n", 'allow[0]: "nodot" is not a Python name'],
    ["deny: os\n", "conf/modelvet.yaml: deny must be a list of Python names"],
    [
      "deny: ['a b']\n",
      'deny[0]: "a b" is not a dotted Python name like "module" or "module.func"',
    ],
    ["severity: [a]\n", "severity must be a mapping of rule id to severity"],
    ["severity: {pickle.nope: low}\n", 'severity: unknown rule "pickle.nope"'],
    [
      "severity: {pickle.unknown-global: severe}\n",
      'severity.pickle.unknown-global: "severe" is not one of critical, high, medium, low, info',
    ],
    ["ignore: {rule: x}\n", "ignore must be a list of {rule, reason, path?, global?, expires?}"],
    ["ignore: [pickle.unknown-global]\n", "ignore[0]: expected a mapping with rule and reason"],
    ["ignore: [{reason: ok}]\n", 'ignore[0]: "rule" is required'],
    ["ignore: [{rule: pickle.nope, reason: ok}]\n", 'ignore[0]: unknown rule "pickle.nope"'],
    ["ignore: [{rule: scan.unreadable}]\n", 'ignore[0]: "reason" is required: say why'],
    ["ignore: [{rule: scan.unreadable, reason: '  '}]\n", 'ignore[0]: "reason" is required'],
    [
      "ignore: [{rule: scan.unreadable, reason: ok, until: 2030-01-01}]\n",
      'ignore[0]: unknown key "until" (known keys: rule, path, global, reason, expires)',
    ],
    [
      "ignore: [{rule: scan.unreadable, reason: ok, path: ''}]\n",
      'ignore[0]: "path" must be a glob',
    ],
    [
      "ignore: [{rule: scan.unreadable, reason: ok, path: 3}]\n",
      'ignore[0]: "path" must be a glob',
    ],
    [
      "ignore: [{rule: scan.unreadable, reason: ok, global: 'x y'}]\n",
      'ignore[0]: "global" must be a name like "module.Class" or "module.*"',
    ],
    [
      "ignore: [{rule: scan.unreadable, reason: ok, expires: 2030-02-30}]\n",
      'ignore[0]: "expires" "2030-02-30" is not a date like 2030-12-31',
    ],
    [
      "ignore: [{rule: scan.unreadable, reason: ok, expires: next week}]\n",
      'ignore[0]: "expires" "next week" is not a date',
    ],
    [
      "fail-on: severe\n",
      'fail-on: "severe" is not one of critical, high, medium, low, info, none',
    ],
    ["limits: 3\n", "limits must be a mapping of limit name to number"],
    ["limits: {maxDepth: 3}\n", 'limits: unknown limit "maxDepth" (known: maxDecodedArgument'],
    ["limits: {maxOpcodes: -1}\n", "limits.maxOpcodes: -1 is not a whole number, 0 or more"],
    ["limits: {maxOpcodes: 1.5}\n", "limits.maxOpcodes: 1.5 is not a whole number, 0 or more"],
    ["limits: {maxOpcodes: many}\n", 'limits.maxOpcodes: "many" is not a whole number, 0 or more'],
  ];
  for (const [text, expected] of cases) {
    it(expected, () => {
      const error = problem(text);
      expect(error).toContain(expected);
      for (const line of error.split("\n")) expect(line).toMatch(/^conf\/modelvet\.yaml: /);
    });
  }

  it("reports every problem, one line each", () => {
    const error = problem("allw: 1\nfail-on: x\nlimits: {nope: 1}\n");
    expect(error.split("\n")).toHaveLength(3);
  });
});

describe("matching helpers", () => {
  it("globs: * within a segment, ** across folders, ? one character", () => {
    expect(matchesGlob("models/*.pt", "models/a.pt")).toBe(true);
    expect(matchesGlob("models/*.pt", "models/sub/a.pt")).toBe(false);
    expect(matchesGlob("models/**/*.pt", "models/a.pt")).toBe(true);
    expect(matchesGlob("models/**/*.pt", "models/x/y/a.pt")).toBe(true);
    expect(matchesGlob("**", "anything/at/all")).toBe(true);
    expect(matchesGlob("a?.bin", "ab.bin")).toBe(true);
    expect(matchesGlob("a?.bin", "a/.bin")).toBe(false);
    expect(matchesGlob("weird(1)+[x].pt", "weird(1)+[x].pt")).toBe(true);
  });

  it("globals: exact, module prefix, module:name", () => {
    expect(matchesGlobal("mypkg.Net", "mypkg.Net")).toBe(true);
    expect(matchesGlobal("mypkg.*", "mypkg.sub.Net")).toBe(true);
    expect(matchesGlobal("mypkg.*", "mypkgx.Net")).toBe(false);
    expect(matchesGlobal("mypkg:Outer.Inner", "mypkg.Outer.Inner")).toBe(true);
    expect(matchesGlobal("mypkg.Net", undefined)).toBe(false);
  });

  it("an ignore expires the day after its date", () => {
    const rule = { rule: "r", reason: "x", expires: "2030-03-31" };
    expect(isExpired(rule, "2030-03-31")).toBe(false);
    expect(isExpired(rule, "2030-04-01")).toBe(true);
    expect(isExpired({ rule: "r", reason: "x" }, "2999-01-01")).toBe(false);
  });
});

describe("allow prefixes in the matcher", () => {
  it("module.* allows the module and its submodules, never a denied global", () => {
    const policy = createPolicy({ extraAllowed: ["mypkg.*", "os.*"] });
    expect(policy.classifyGlobal("mypkg", "Net")).toMatchObject({
      class: "allowed",
      matched: "mypkg.*",
    });
    expect(policy.classifyGlobal("mypkg.models.deep", "Net").class).toBe("allowed");
    expect(policy.classifyGlobal("mypkgx", "Net").class).toBe("unknown");
    expect(policy.classifyGlobal("os", "system").class).toBe("dangerous");
    expect(policy.classifyGlobal("mypkg", "Net.__globals__").class).toBe("dangerous");
  });
});

describe("writePolicyYaml", () => {
  it("prints the policy in force as YAML that reads back as a policy file", () => {
    const text = writePolicyYaml(
      {
        source: "modelvet.yaml",
        failOn: "high",
        allow: ["mypkg.*"],
        deny: ["requests"],
        severity: { "pickle.unknown-global": "low" },
        ignore: [{ rule: "scan.unreadable", reason: "flaky", expires: "2030-01-01" }],
      },
      DEFAULT_LIMITS,
    );
    expect(text).toContain("# From: modelvet.yaml");
    const data = parse(text);
    expect(data["fail-on"]).toBe("high");
    expect(data.limits.maxNestingDepth).toBe(DEFAULT_LIMITS.maxNestingDepth);
    const back = parsed(text);
    expect(back.allow).toEqual(["mypkg.*"]);
    expect(back.ignore[0]?.expires).toBe("2030-01-01");
  });
});
