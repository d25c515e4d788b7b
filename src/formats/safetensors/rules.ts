import type { RatedRule } from "../../core/rule-info.js";

/** A rule the safetensors analyser reports: stable id, default severity, one line for docs/rules.md. */
export type SafetensorsRule = RatedRule;

/**
 * Rules reported by the safetensors analyser. A file that claims to be the safe format but is
 * not valid safetensors is an evasion sign (parser differential, polyglot), hence `high`.
 */
export const SAFETENSORS_RULES = Object.freeze({
  invalidHeader: {
    id: "safetensors.invalid-header",
    severity: "high",
    description:
      "The safetensors header cannot be read as the format requires (length, UTF-8, JSON object, entry fields): loaders refuse or disagree on it.",
  },
  duplicateKey: {
    id: "safetensors.duplicate-key",
    severity: "high",
    description:
      "A key appears twice in the header: JSON readers keep different copies, so tools disagree on what the file holds.",
  },
  unknownDtype: {
    id: "safetensors.unknown-dtype",
    severity: "high",
    description: "A tensor's dtype is not one the safetensors format defines.",
  },
  badMetadata: {
    id: "safetensors.bad-metadata",
    severity: "high",
    description: "__metadata__ is not a map of strings to strings, as the format requires.",
  },
  badRange: {
    id: "safetensors.bad-range",
    severity: "high",
    description:
      "Tensor byte ranges do not add up: size ≠ shape × dtype, outside the data area, overlapping, or leaving holes.",
  },
  trailingData: {
    id: "safetensors.trailing-data",
    severity: "high",
    description:
      "Bytes follow the last tensor: no loader reads them, a classic place to hide a second file (polyglot). Analysed as a separate artifact.",
  },
  nonconforming: {
    id: "safetensors.nonconforming",
    severity: "medium",
    description:
      "The header deviates from the specification in a way some loaders tolerate (leading whitespace, padding other than spaces, unknown entry fields).",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description:
      "A size or count limit was reached: the header was not fully checked (fail closed).",
  },
} as const satisfies Record<string, SafetensorsRule>);

export type SafetensorsRuleKey = keyof typeof SAFETENSORS_RULES;
