import type { RuleInfo } from "../core/rule-info.js";

/** Rules the engine itself raises (formats and policy list their own). */
export const SCAN_RULES: readonly RuleInfo[] = Object.freeze([
  {
    id: "scan.unrecognised-format",
    description:
      "A file named like a model (.pt, .bin, .pkl, …) whose bytes match no format modelvet analyses; it cannot be vouched for.",
  },
  {
    id: "scan.unreadable",
    description: "The file could not be opened or read.",
  },
  {
    id: "scan.internal-error",
    description: "An analyser failed on this input (a modelvet bug); the file fails closed.",
  },
  {
    id: "remote.hash-mismatch",
    severity: "high",
    description:
      "With --verify-hashes: a file's SHA-256 differs from the one its origin declares (the Hub's LFS hash, or a Hugging Face cache blob's name), so the bytes are not the ones committed.",
  },
  {
    id: "policy.ignore-expired",
    description:
      "An ignore in the policy file (modelvet.yaml) has expired, so the finding it accepted counts again (info).",
  },
  {
    id: "limits.exceeded",
    description:
      "A size, count, depth or time limit was reached; what lies beyond it was not analysed.",
  },
]);
