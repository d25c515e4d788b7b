import type { ArchiveRule } from "../zip/rules.js";

/** Rules reported by the compressed-stream analyser; ids are stable (DESIGN.md "Finding shape"). */
export const COMPRESSED_RULES = Object.freeze({
  truncated: {
    id: "compressed.truncated",
    severity: "high",
    description:
      "The compressed stream ends early: what was decompressed was analysed, the rest is missing.",
  },
  corrupt: {
    id: "compressed.corrupt",
    severity: "high",
    description:
      "The compressed stream is corrupt (bad data or checksum): what was decompressed before the error was analysed.",
  },
  trailingData: {
    id: "compressed.trailing-data",
    severity: "medium",
    description:
      "Bytes follow the end of the compressed stream: loaders stop before them or fail on them; they were not analysed.",
  },
  bomb: {
    id: "archive.bomb",
    severity: "high",
    description: "The stream decompresses at an implausible ratio: decompression stopped.",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A size limit was reached: the rest was not decompressed (fail closed).",
  },
  unanalysable: {
    id: "archive.unanalysable",
    severity: "high",
    description: "Nothing could be decompressed: nothing was vetted.",
  },
} as const satisfies Record<string, ArchiveRule>);

export type CompressedRuleKey = keyof typeof COMPRESSED_RULES;
