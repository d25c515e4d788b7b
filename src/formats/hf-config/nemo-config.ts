import type { LocalFinding, Severity } from "../../core/finding.js";
import type { Policy } from "../../policy/types.js";
import { detectPythonSource } from "../python-source/detect-python.js";
import { decodeTextHead, pickleFailsOnFirstOpcode } from "../python-source/text-head.js";
import type { Analysis, Artifact, FormatAnalyser, Probe, ScanContext } from "../types.js";
import { HF_RULES } from "./rules.js";

/** Largest YAML config read. */
export const MAX_YAML_CONFIG_BYTES = 16 * 1024 * 1024;

/**
 * Class-path prefixes of NeMo's own model and module classes. The policy does not list them, so
 * it calls them unknown; a target under one of these is reported `low` (a library class the
 * config names), not `medium`. Denied names are still critical, whatever their prefix.
 */
export const NEMO_KNOWN_PREFIXES: readonly string[] = Object.freeze([
  "nemo.collections.",
  "nemo.core.",
]);

/** `_target_:` (Hydra) or `target:` (NeMo's model class) as a key, in block or flow style. */
const TARGET_KEY = /(?:^|[\s{,])(?:-[ \t]+)?(["']?)(_target_|target)\1[ \t]*:(?=[ \t]|$)[ \t]*/g;
const DOTTED = /^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*$/;
const YAML_FIRST_LINE = /^(?:---|%YAML|-[ \t]|["']?[A-Za-z_][\w.\- ]*["']?[ \t]*:(?:[ \t]|$))/;
const TARGET_IN_HEAD =
  /(?:^|[\s{,])["']?_target_["']?[ \t]*:|^[ \t]*target[ \t]*:[ \t]*["']?[A-Za-z_]\w*(?:\.\w+)+/m;

/**
 * A NeMo/Hydra YAML config (`model_config.yaml` inside a `.nemo` tar): text that a pickle loader
 * fails on at once, is not Python, starts like YAML (`key:`, `- `, `---`) after comments, and has
 * a `_target_:` key or a `target: dotted.path` line in its head.
 */
export function detectNemoConfig(probe: Probe): boolean {
  if (probe.size === 0) return false;
  const text = decodeTextHead(probe.head, probe.head.length < probe.size);
  if (text === null || !pickleFailsOnFirstOpcode(probe.head)) return false;
  const first = text.split("\n").find((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  if (first === undefined || !YAML_FIRST_LINE.test(first)) return false;
  if (!TARGET_IN_HEAD.test(text)) return false;
  return !detectPythonSource(probe);
}

export interface HydraTarget {
  key: "_target_" | "target";
  /** The value as written (quotes removed), `null` when it is not a plain scalar. */
  value: string | null;
  raw: string;
  line: number;
  /** Character index of the key. */
  index: number;
}

/**
 * Every `_target_`/`target` value of a YAML document, read line by line without a YAML library:
 * plain, single- and double-quoted scalars (flow mappings included). A `target:` whose value is no
 * dotted path is some other setting and skipped; a `_target_:` written as a block scalar, alias,
 * tag, interpolation or escaped string is returned with `value: null`.
 */
export function findHydraTargets(text: string): HydraTarget[] {
  const out: HydraTarget[] = [];
  let lineStart = 0;
  let line = 0;
  while (lineStart <= text.length) {
    line++;
    const end = text.indexOf("\n", lineStart);
    const content = text.slice(lineStart, end < 0 ? text.length : end).replace(/\r$/, "");
    TARGET_KEY.lastIndex = 0;
    for (let m = TARGET_KEY.exec(content); m; m = TARGET_KEY.exec(content)) {
      const key = m[2] as "_target_" | "target";
      const rest = content.slice(m.index + m[0].length);
      const raw = scalarAt(rest);
      const value = plainValue(raw);
      if (key === "target" && (value === null || !value.includes("."))) continue;
      if (key === "_target_" && (raw === "null" || raw === "~")) continue;
      out.push({ key, value, raw, line, index: lineStart + m.index });
    }
    if (end < 0) break;
    lineStart = end + 1;
  }
  return out;
}

/** The scalar text that starts a value: a quoted string, or plain text up to a comment or flow delimiter. */
function scalarAt(rest: string): string {
  const q = rest[0];
  if (q === '"' || q === "'") {
    const close = rest.indexOf(q, 1);
    return close < 0 ? rest : rest.slice(0, close + 1);
  }
  const stop = rest.search(/[ \t]#|[,}\]]/);
  return (stop < 0 ? rest : rest.slice(0, stop)).trim();
}

function plainValue(raw: string): string | null {
  let value = raw;
  if ((raw.startsWith('"') && raw.endsWith('"')) || (raw.startsWith("'") && raw.endsWith("'"))) {
    if (raw.length < 2 || raw.includes("\\")) return null;
    value = raw.slice(1, -1).trim();
  }
  return DOTTED.test(value) ? value : null;
}

function classify(
  policy: Policy,
  path: string,
): { severity: Severity | null; reason: string; references?: string[] } {
  const dot = path.lastIndexOf(".");
  if (dot < 0) {
    return {
      severity: "medium",
      reason: `Hydra imports \`${path}\` as a module and calls it; it is neither allowlisted nor known.`,
    };
  }
  const verdict = policy.classifyGlobal(path.slice(0, dot), path.slice(dot + 1));
  const references = verdict.references ? { references: verdict.references } : {};
  if (verdict.class === "unknown" && NEMO_KNOWN_PREFIXES.some((p) => path.startsWith(p))) {
    return {
      severity: "low",
      reason: "A NeMo class: restoring the model builds it from the config.",
    };
  }
  return { severity: verdict.severity, reason: verdict.reason, ...references };
}

/**
 * Reports each class or function a NeMo/Hydra config makes `restore_from`/`instantiate` import and
 * call, classed by the policy (denied → critical, unknown → medium, known → low, allowed →
 * nothing). Not covered: YAML anchors/aliases, block scalars, tags, `${…}` interpolation and
 * escaped strings as target values (each reported medium as unreadable), `_target_` keys spelt
 * with escapes or as complex keys, and `_partial_`/`_args_` arguments (not shown).
 */
export async function analyseNemoConfig(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const size = artifact.source.size;
  const length = Math.min(size, MAX_YAML_CONFIG_BYTES);
  const text = new TextDecoder().decode(await artifact.source.read(0, length));
  const findings: LocalFinding[] = [];
  const rule = HF_RULES.hydraTarget;
  const encoder = new TextEncoder();
  const targets = findHydraTargets(text);
  for (const target of targets) {
    const offset = encoder.encode(text.slice(0, target.index)).length;
    if (target.value === null) {
      findings.push({
        rule: rule.id,
        severity: "medium",
        message: `Line ${target.line}: \`${target.key}: ${target.raw.slice(0, 200)}\` names what Hydra instantiates in a form this scanner does not resolve (alias, block scalar, tag, interpolation or escapes), so it cannot be vetted.`,
        offset,
      });
      continue;
    }
    const { severity, reason, references } = classify(ctx.policy, target.value);
    if (severity === null) continue;
    const how =
      target.key === "_target_"
        ? `hydra.utils.instantiate(cfg)  # imports and calls ${target.value}(...)`
        : `nemo.utils.model_utils.import_class_by_path(${JSON.stringify(target.value)})`;
    findings.push({
      rule: rule.id,
      severity,
      message: `Line ${target.line}: restoring this model imports \`${target.value}\` (\`${target.key}\`)${
        target.key === "_target_" ? " and Hydra calls it with the arguments the config gives" : ""
      }. ${reason}`,
      offset,
      evidence: { global: target.value, pseudocode: how },
      ...(references ? { references } : {}),
    });
  }
  if (size > length) {
    findings.push({
      rule: "limits.exceeded",
      severity: "high",
      message: `This config is ${size} bytes; only the first ${length} were read (MAX_YAML_CONFIG_BYTES).`,
      offset: length,
    });
  }
  return {
    format: "nemo-config",
    findings,
    children: [],
    details: { targets: targets.length },
  };
}

export const nemoConfigFormat: FormatAnalyser = {
  id: "nemo-config",
  version: 1,
  description:
    "NeMo/Hydra YAML configs (model_config.yaml of a .nemo): the classes `_target_`/`target` make restoring import and call",
  detect: detectNemoConfig,
  analyse: analyseNemoConfig,
};
