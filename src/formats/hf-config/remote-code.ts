import type { LocalFinding } from "../../core/finding.js";
import { isJsonObject, type JsonObject, type JsonValue } from "./parse-json.js";
import { HF_RULES } from "./rules.js";

/** A class reference of `auto_map` / `custom_pipelines`: `[org/repo--]module.Class`. */
export interface RemoteCodeReference {
  /** Where it was found, e.g. `auto_map.AutoModelForCausalLM`. */
  key: string;
  /** The reference as written. */
  reference: string;
  /** `org/repo` when the code comes from another repository (`org/repo--module.Class`). */
  repo: string | null;
  /** Module (file name without `.py`), e.g. `modeling_evil`. */
  module: string;
  /** Class name, e.g. `EvilModel`; empty when the reference has no dot. */
  className: string;
}

/** Deepest nesting searched for `trust_remote_code` keys. */
const MAX_HINT_DEPTH = 64;
/** Most values visited searching for `trust_remote_code` keys. */
const MAX_HINT_VALUES = 1_000_000;

/**
 * Parses `[org/repo--]module.Class` the way transformers' `get_class_from_dynamic_module` does:
 * the part before `--` is a repository id, the rest splits at the last dot.
 */
export function parseClassReference(key: string, reference: string): RemoteCodeReference {
  let repo: string | null = null;
  let rest = reference;
  const sep = reference.indexOf("--");
  if (sep >= 0) {
    repo = reference.slice(0, sep);
    rest = reference.slice(sep + 2);
  }
  const dot = rest.lastIndexOf(".");
  return {
    key,
    reference,
    repo,
    module: dot < 0 ? rest : rest.slice(0, dot),
    className: dot < 0 ? "" : rest.slice(dot + 1),
  };
}

/** Every class reference in `auto_map` (strings, or lists such as `[slow, fast]` with nulls). */
export function autoMapReferences(config: JsonObject): RemoteCodeReference[] {
  const out: RemoteCodeReference[] = [];
  const autoMap = config.get("auto_map");
  if (isJsonObject(autoMap)) {
    for (const [autoClass, value] of autoMap) {
      for (const ref of stringsOf(value))
        out.push(parseClassReference(`auto_map.${autoClass}`, ref));
    }
  } else if (Array.isArray(autoMap)) {
    // Older tokenizer configs: `"auto_map": ["tokenization_x.XTokenizer", null]`.
    for (const ref of stringsOf(autoMap)) out.push(parseClassReference("auto_map", ref));
  }
  const pipelines = config.get("custom_pipelines");
  if (isJsonObject(pipelines)) {
    for (const [task, spec] of pipelines) {
      const impl = isJsonObject(spec) ? spec.get("impl") : undefined;
      if (typeof impl === "string") {
        out.push(parseClassReference(`custom_pipelines.${task}.impl`, impl));
      }
    }
  }
  return out;
}

function stringsOf(value: JsonValue | undefined): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

const fileOf = (ref: RemoteCodeReference): string => `${ref.module.replace(/\./g, "/")}.py`;

/**
 * Findings for the code a Hugging Face config makes `trust_remote_code=True` run: one per class
 * reference (naming its module file and the auto classes that load it), high; a module from
 * another repository says so. Also `trust_remote_code: true` set anywhere in the config.
 */
export function remoteCodeFindings(config: JsonObject): LocalFinding[] {
  const findings: LocalFinding[] = [];
  const byClass = new Map<string, RemoteCodeReference[]>();
  for (const ref of autoMapReferences(config)) {
    const id = `${ref.repo ?? ""}\0${ref.module}\0${ref.className}`;
    const list = byClass.get(id) ?? [];
    list.push(ref);
    byClass.set(id, list);
  }
  const rule = HF_RULES.remoteCode;
  for (const refs of byClass.values()) {
    const first = refs[0]!;
    const file = fileOf(first);
    const uses = refs.map((r) => `${r.key} → ${r.module}${r.className ? `.${r.className}` : ""}`);
    const where =
      first.repo === null
        ? `\`${file}\` from this repository`
        : `\`${file}\` from ANOTHER repository, \`${first.repo}\` — code that is not among the files being vetted`;
    const loader = first.key.startsWith("custom_pipelines")
      ? "pipeline(..., trust_remote_code=True)"
      : `${first.key.slice("auto_map.".length) || "AutoModel"}.from_pretrained(repo, trust_remote_code=True)`;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `Loading with trust_remote_code=True imports and runs ${where} (${uses.join("; ")}).${
        first.repo === null ? " That file is analysed where it is scanned with this one." : ""
      }`,
      evidence: {
        global: `${first.repo === null ? "" : `${first.repo}--`}${first.module}${first.className ? `.${first.className}` : ""}`,
        pseudocode: `${loader}  # imports ${first.repo === null ? "" : `${first.repo}/`}${file}`,
      },
    });
  }
  if (hasTrustRemoteCode(config)) {
    const hint = HF_RULES.trustRemoteCode;
    findings.push({
      rule: hint.id,
      severity: hint.severity,
      message:
        "This config sets `trust_remote_code: true`: whatever reads it is asked to run repository code without the user opting in.",
    });
  }
  return findings;
}

function hasTrustRemoteCode(root: JsonValue): boolean {
  const stack: { value: JsonValue; depth: number }[] = [{ value: root, depth: 0 }];
  let visited = 0;
  while (stack.length > 0 && visited++ < MAX_HINT_VALUES) {
    const { value, depth } = stack.pop()!;
    if (depth > MAX_HINT_DEPTH) continue;
    if (isJsonObject(value)) {
      for (const [key, child] of value) {
        if (key === "trust_remote_code" && child === true) return true;
        if (typeof child === "object" && child !== null)
          stack.push({ value: child, depth: depth + 1 });
      }
    } else if (Array.isArray(value)) {
      for (const child of value) {
        if (typeof child === "object" && child !== null)
          stack.push({ value: child, depth: depth + 1 });
      }
    }
  }
  return false;
}
