import type { Severity } from "../core/finding.js";
import type { GlobalClass } from "./types.js";

export const DANGEROUS_GLOBAL_RULE = "pickle.dangerous-global";
export const KNOWN_LIBRARY_GLOBAL_RULE = "pickle.known-library-global";
export const UNKNOWN_GLOBAL_RULE = "pickle.unknown-global";

export type PolicyRuleId =
  | typeof DANGEROUS_GLOBAL_RULE
  | typeof KNOWN_LIBRARY_GLOBAL_RULE
  | typeof UNKNOWN_GLOBAL_RULE;

export interface RuleInfo {
  id: PolicyRuleId;
  /** The policy class this rule reports. */
  class: Exclude<GlobalClass, "allowed">;
  severity: Severity;
  /** One line, for listings. */
  summary: string;
  /** What it means and what to do, for docs/rules.md and SARIF rule help. */
  description: string;
}

/** The rules the policy layer reports, with stable ids (DESIGN.md "Finding shape"). */
export const RULES: readonly RuleInfo[] = [
  {
    id: DANGEROUS_GLOBAL_RULE,
    class: "dangerous",
    severity: "critical",
    summary:
      "The pickle reaches a known code-execution, process, file, network or import callable.",
    description:
      "Loading the file would import a global on the denylist (e.g. `os.system`, `builtins.eval`, " +
      "`subprocess.Popen`, `torch.load`), reach one through an attribute chain or a dunder " +
      "attribute (`__globals__`, `__builtins__`), or get hold of a dangerous module object. " +
      "Treat the file as malicious: do not load it.",
  },
  {
    id: UNKNOWN_GLOBAL_RULE,
    class: "unknown",
    severity: "medium",
    summary: "The pickle imports a global that is neither allowlisted nor a known library class.",
    description:
      "Loading the file would import and possibly call this global with arguments the file " +
      "chooses. It is not known to be dangerous, but it is not known to be safe either (custom " +
      "classes, library functions, malformed names). Check where the file comes from; allow the " +
      "global in your policy only if you trust that code.",
  },
  {
    id: KNOWN_LIBRARY_GLOBAL_RULE,
    class: "known",
    severity: "low",
    summary: "The pickle imports a curated library class that real checkpoints contain.",
    description:
      "A class such as a scikit-learn estimator, a `torch.nn` layer or `TrainingArguments`: more " +
      "than plain tensors, and loading it needs that library installed, but it is not known to be " +
      "abusable. Prefer formats that store tensors only (safetensors) where you can.",
  },
];

export function ruleFor(cls: Exclude<GlobalClass, "allowed">): RuleInfo {
  const rule = RULES.find((r) => r.class === cls);
  if (rule === undefined) throw new Error(`no rule for policy class ${cls}`);
  return rule;
}
