import type { Severity } from "../core/finding.js";
import { COMPRESSED_RULES } from "../formats/compressed/rules.js";
import { NUMPY_RULES } from "../formats/numpy/rules.js";
import { PICKLE_RULES } from "../formats/pickle/rules.js";
import { PYTORCH_RULES } from "../formats/pytorch/rules.js";
import { SEVEN_ZIP_RULES } from "../formats/sevenzip/rules.js";
import { TAR_RULES } from "../formats/tar/rules.js";
import { ZIP_RULES } from "../formats/zip/rules.js";
import { RULES as POLICY_RULES } from "../policy/rules.js";
import { SCAN_RULES } from "./rules.js";

/** One documented rule: its stable id, usual severity (if fixed) and what it means. */
export interface DocumentedRule {
  id: string;
  severity?: Severity;
  description: string;
}

type Listed = { id: string; severity?: Severity; description: string };

/**
 * Every rule any part of modelvet reports, by id (docs/rules.md is generated from this; a test
 * keeps them equal). The first description listed for an id wins: policy rules explain best.
 */
export function allRules(): DocumentedRule[] {
  const lists: readonly (readonly Listed[])[] = [
    SCAN_RULES,
    POLICY_RULES,
    PICKLE_RULES,
    PYTORCH_RULES,
    Object.values(ZIP_RULES),
    Object.values(SEVEN_ZIP_RULES),
    Object.values(TAR_RULES),
    Object.values(COMPRESSED_RULES),
    Object.values(NUMPY_RULES),
  ];
  const byId = new Map<string, DocumentedRule>();
  for (const list of lists) {
    for (const rule of list) {
      if (byId.has(rule.id)) continue;
      byId.set(rule.id, {
        id: rule.id,
        description: rule.description,
        ...(rule.severity ? { severity: rule.severity } : {}),
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
