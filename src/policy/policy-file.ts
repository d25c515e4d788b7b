/**
 * The user's policy file (`modelvet.yaml`, docs/policy.md): parsed and checked here, as data.
 * Pure: the file is found and read by `sources/policy-file-loader.ts`; severity overrides and
 * ignores are applied to results by `scan/apply-policy.ts`; `allow`/`deny` feed {@link createPolicy}.
 */

import { isMap, isScalar, parseDocument, stringify } from "yaml";
import { isSeverity, SEVERITIES, type Severity } from "../core/finding.js";
import { DEFAULT_LIMITS, type Limits } from "../core/limits.js";
import { err, ok, type Result } from "../core/result.js";
import { validatePolicyOptions } from "./match.js";

/** The file name looked for upward from the first scanned path. */
export const POLICY_FILE_NAME = "modelvet.yaml";

/** One accepted finding: which rule, optionally where, and why (docs/policy.md "ignore"). */
export interface IgnoreRule {
  /** Rule id, e.g. `pickle.unknown-global`. */
  rule: string;
  /** Glob over the file path relative to the policy file's folder (`*`, `**`, `?`). */
  path?: string;
  /** The finding's global, exactly (`mypkg.Net`) or by module prefix (`mypkg.*`). */
  global?: string;
  /** Why the finding is accepted (required). */
  reason: string;
  /** Last day the ignore applies (YYYY-MM-DD); after it, the finding counts again. */
  expires?: string;
}

/** A checked policy file. Every key is optional in the file; absent keys are empty here. */
export interface PolicyFile {
  /** Extra allowed globals: `module.name`, `module:Outer.Inner` or `module.*`. */
  allow: string[];
  /** Extra denied modules or globals: `module` or `module.name`. */
  deny: string[];
  /** Severity per rule id, replacing the rule's own. */
  severity: Record<string, Severity>;
  ignore: IgnoreRule[];
  failOn?: Severity | "none";
  limits: Partial<Limits>;
}

/** The policy in force for a run, as recorded in the JSON report and shown by `policy show`. */
export interface PolicyInForce {
  /** The policy file applied, or null when none was (built-in defaults only). */
  source: string | null;
  failOn: Severity | "none";
  allow: string[];
  deny: string[];
  severity: Record<string, Severity>;
  ignore: IgnoreRule[];
}

export const EMPTY_POLICY_FILE: Readonly<PolicyFile> = Object.freeze({
  allow: [],
  deny: [],
  severity: {},
  ignore: [],
  limits: {},
});

/** Top-level keys, in the order `policy show` prints them. */
export const POLICY_KEYS = ["fail-on", "allow", "deny", "severity", "ignore", "limits"] as const;
const IGNORE_KEYS = ["rule", "path", "global", "reason", "expires"] as const;
const FAIL_ON_VALUES = [...SEVERITIES, "none"] as const;

export interface ParsePolicyOptions {
  /** Where the text came from, named in every error message. */
  source: string;
  /** Rule ids that exist; when given, `severity` and `ignore` may name only these. */
  knownRules?: ReadonlySet<string>;
}

/**
 * Parses and checks a policy file. Every problem is reported, one line each, prefixed with the
 * file name; unknown keys are errors (a typo must never silently weaken the policy).
 */
export function parsePolicyFile(text: string, options: ParsePolicyOptions): Result<PolicyFile> {
  const problems: string[] = [];
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return err(`${options.source}: not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    return ok(clone(EMPTY_POLICY_FILE));
  }
  if (!isMap(contents)) {
    return err(
      `${options.source}: expected a mapping of policy keys (${POLICY_KEYS.join(", ")}) at the top level`,
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const result = clone(EMPTY_POLICY_FILE);
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    switch (key) {
      case "allow":
        result.allow = names(value, "allow", problems, (name) =>
          validatePolicyOptions({ extraAllowed: [name] }).length === 0
            ? null
            : `"${name}" is not a Python name like "module.Class", "module:Outer.Inner" or a prefix like "module.*"`,
        );
        break;
      case "deny":
        result.deny = names(value, "deny", problems, (name) =>
          validatePolicyOptions({ extraDenied: [name] }).length === 0
            ? null
            : `"${name}" is not a dotted Python name like "module" or "module.func"`,
        );
        break;
      case "severity":
        result.severity = severities(value, problems, options.knownRules);
        break;
      case "ignore":
        result.ignore = ignores(value, problems, options.knownRules);
        break;
      case "fail-on":
        if (typeof value === "string" && (value === "none" || isSeverity(value))) {
          result.failOn = value;
        } else {
          problems.push(`fail-on: ${show(value)} is not one of ${FAIL_ON_VALUES.join(", ")}`);
        }
        break;
      case "limits":
        result.limits = limits(value, problems);
        break;
      default:
        problems.push(`unknown key "${key}" (known keys: ${POLICY_KEYS.join(", ")})`);
    }
  }
  if (problems.length > 0) return err(problems.map((p) => `${options.source}: ${p}`).join("\n"));
  return ok(result);
}

/** True when `path` matches the glob (`**` any folders, `*` and `?` within one path segment). */
export function matchesGlob(glob: string, path: string): boolean {
  return globToRegExp(glob).test(path);
}

const globCache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let cached = globCache.get(glob);
  if (cached !== undefined) return cached;
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      if (glob[i + 2] === "/") {
        source += "(?:.*/)?";
        i += 2;
      } else {
        source += ".*";
        i += 1;
      }
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[\\^$.|+()[\]{}]/g, "\\$&");
  }
  cached = new RegExp(`^${source}$`, "s");
  if (globCache.size > 256) globCache.clear();
  globCache.set(glob, cached);
  return cached;
}

/** True when a finding's global matches an ignore's `global` (`mod.Name` exactly, or `mod.*`). */
export function matchesGlobal(pattern: string, global: string | undefined): boolean {
  if (global === undefined) return false;
  const dotted = pattern.replace(":", ".");
  if (dotted.endsWith(".*")) return global.startsWith(dotted.slice(0, -1));
  return global === dotted;
}

/** True when an ignore has an `expires` date before `today` (both YYYY-MM-DD). */
export function isExpired(rule: IgnoreRule, today: string): boolean {
  return rule.expires !== undefined && rule.expires < today;
}

/** The policy in force, printed as YAML by `modelvet policy show`. */
export function writePolicyYaml(policy: PolicyInForce, limits: Limits): string {
  const header = [
    "# The modelvet policy in force (docs/policy.md).",
    policy.source === null
      ? "# No policy file: built-in defaults only."
      : `# From: ${policy.source.replace(/[\r\n]/g, " ")}`,
    "# allow and deny extend the built-in allowlist and denylist (modelvet rules, docs/rules.md).",
  ];
  const body = {
    "fail-on": policy.failOn,
    allow: policy.allow,
    deny: policy.deny,
    severity: policy.severity,
    ignore: policy.ignore,
    limits,
  };
  return `${header.join("\n")}\n${stringify(body, { lineWidth: 0 })}`;
}

function clone(file: Readonly<PolicyFile>): PolicyFile {
  return {
    allow: [...file.allow],
    deny: [...file.deny],
    severity: { ...file.severity },
    ignore: file.ignore.map((i) => ({ ...i })),
    limits: { ...file.limits },
    ...(file.failOn !== undefined ? { failOn: file.failOn } : {}),
  };
}

function show(value: unknown): string {
  const text = typeof value === "string" ? `"${value}"` : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function names(
  value: unknown,
  key: string,
  problems: string[],
  check: (name: string) => string | null,
): string[] {
  if (!Array.isArray(value)) {
    problems.push(`${key} must be a list of Python names`);
    return [];
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item !== "string") {
      problems.push(`${key}[${i}]: ${show(item)} is not a string`);
      return;
    }
    const problem = check(item);
    if (problem !== null) problems.push(`${key}[${i}]: ${problem}`);
    else out.push(item);
  });
  return out;
}

function checkRule(
  rule: string,
  where: string,
  problems: string[],
  knownRules: ReadonlySet<string> | undefined,
): boolean {
  if (knownRules !== undefined && !knownRules.has(rule)) {
    problems.push(`${where}: unknown rule "${rule}" (modelvet rules lists them)`);
    return false;
  }
  return true;
}

function severities(
  value: unknown,
  problems: string[],
  knownRules: ReadonlySet<string> | undefined,
): Record<string, Severity> {
  if (!isRecord(value)) {
    problems.push("severity must be a mapping of rule id to severity");
    return {};
  }
  const out: Record<string, Severity> = {};
  for (const [rule, severity] of Object.entries(value)) {
    if (!checkRule(rule, "severity", problems, knownRules)) continue;
    if (typeof severity !== "string" || !isSeverity(severity)) {
      problems.push(`severity.${rule}: ${show(severity)} is not one of ${SEVERITIES.join(", ")}`);
      continue;
    }
    out[rule] = severity;
  }
  return out;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isDate(text: string): boolean {
  const m = DATE.exec(text);
  if (m === null) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === text;
}

function ignores(
  value: unknown,
  problems: string[],
  knownRules: ReadonlySet<string> | undefined,
): IgnoreRule[] {
  if (!Array.isArray(value)) {
    problems.push("ignore must be a list of {rule, reason, path?, global?, expires?} entries");
    return [];
  }
  const out: IgnoreRule[] = [];
  value.forEach((item, i) => {
    const where = `ignore[${i}]`;
    if (!isRecord(item)) {
      problems.push(`${where}: expected a mapping with rule and reason, got ${show(item)}`);
      return;
    }
    const before = problems.length;
    for (const key of Object.keys(item)) {
      if (!(IGNORE_KEYS as readonly string[]).includes(key)) {
        problems.push(`${where}: unknown key "${key}" (known keys: ${IGNORE_KEYS.join(", ")})`);
      }
    }
    const { rule, path, global, reason, expires } = item;
    if (typeof rule !== "string" || rule === "") {
      problems.push(`${where}: "rule" is required (a rule id such as pickle.unknown-global)`);
    } else checkRule(rule, where, problems, knownRules);
    if (typeof reason !== "string" || reason.trim() === "") {
      problems.push(`${where}: "reason" is required: say why this finding is accepted`);
    }
    if (path !== undefined && (typeof path !== "string" || path === "")) {
      problems.push(`${where}: "path" must be a glob such as "models/**/*.pkl"`);
    }
    if (
      global !== undefined &&
      (typeof global !== "string" || validatePolicyOptions({ extraAllowed: [global] }).length > 0)
    ) {
      problems.push(`${where}: "global" must be a name like "module.Class" or "module.*"`);
    }
    if (expires !== undefined && (typeof expires !== "string" || !isDate(expires))) {
      problems.push(`${where}: "expires" ${show(expires)} is not a date like 2030-12-31`);
    }
    if (problems.length > before) return;
    out.push({
      rule: rule as string,
      ...(path !== undefined ? { path: path as string } : {}),
      ...(global !== undefined ? { global: global as string } : {}),
      reason: (reason as string).trim(),
      ...(expires !== undefined ? { expires: expires as string } : {}),
    });
  });
  return out;
}

function limits(value: unknown, problems: string[]): Partial<Limits> {
  if (!isRecord(value)) {
    problems.push("limits must be a mapping of limit name to number");
    return {};
  }
  const known = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];
  const out: Partial<Limits> = {};
  for (const [key, n] of Object.entries(value)) {
    if (!(known as string[]).includes(key)) {
      problems.push(`limits: unknown limit "${key}" (known: ${known.join(", ")})`);
      continue;
    }
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      problems.push(`limits.${key}: ${show(n)} is not a whole number, 0 or more`);
      continue;
    }
    out[key as keyof Limits] = n;
  }
  return out;
}
