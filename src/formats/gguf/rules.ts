import type { RatedRule } from "../../core/rule-info.js";

/** A rule the GGUF analyser reports: stable id, default severity, one line for docs/rules.md. */
export type GgufRule = RatedRule;

/** Rules reported by the GGUF reader and analyser; ids are stable (DESIGN.md "Finding shape"). */
export const GGUF_RULES = Object.freeze({
  malformed: {
    id: "gguf.malformed",
    severity: "high",
    description:
      "The GGUF header or metadata is not what llama.cpp accepts (bad version or value type, truncated, duplicate keys, counts the file cannot hold).",
  },
  badTensor: {
    id: "gguf.bad-tensor",
    severity: "high",
    description:
      "A tensor's description does not fit the file: data outside the file, overlapping tensors, misaligned offsets, impossible dimensions.",
  },
  tensorLayout: {
    id: "gguf.tensor-layout",
    severity: "medium",
    description:
      "Tensor data is not laid out back to back as GGUF writers do (gaps or reordering): current llama.cpp refuses it, other readers may not.",
  },
  unknownTensorType: {
    id: "gguf.unknown-tensor-type",
    severity: "info",
    description:
      "A tensor type whose block size modelvet does not know: its data size was not checked.",
  },
  trailingData: {
    id: "gguf.trailing-data",
    severity: "medium",
    description:
      "Bytes follow the last tensor's data: no loader reads them. Analysed as a separate artifact.",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description:
      "A count or size limit was reached: the rest of the file was not read (fail closed).",
  },
} as const satisfies Record<string, GgufRule>);

export type GgufRuleKey = keyof typeof GGUF_RULES;
