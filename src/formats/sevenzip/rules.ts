import type { ArchiveRule } from "../zip/rules.js";

/** Rules reported by the 7z analyser; ids are stable (DESIGN.md "Finding shape"). */
export const SEVEN_ZIP_RULES = Object.freeze({
  encrypted: {
    id: "archive.encrypted",
    severity: "high",
    description:
      "The archive or some of its members are password-protected and cannot be analysed.",
  },
  malformed: {
    id: "7z.malformed",
    severity: "high",
    description: "7-Zip reports the archive as damaged or unreadable (headers or data errors).",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A size or count limit was reached: the rest was not read (fail closed).",
  },
  unanalysable: {
    id: "archive.unanalysable",
    severity: "high",
    description:
      "No member of the archive could be read, or members are encrypted: nothing was vetted.",
  },
} as const satisfies Record<string, ArchiveRule>);

export type SevenZipRuleKey = keyof typeof SEVEN_ZIP_RULES;
