import type { RatedRule } from "../../core/rule-info.js";

/** A rule this module can report: stable id, default severity, one line for docs/rules.md. */
export type ArchiveRule = RatedRule;

/**
 * Rules reported by the zip reader and the zip analyser. Ids are stable (DESIGN.md "Finding
 * shape"); severities follow DESIGN.md: a parser differential a loader tolerates is `high`.
 */
export const ZIP_RULES = Object.freeze({
  crcMismatch: {
    id: "zip.crc-mismatch",
    severity: "high",
    description:
      "A member's CRC-32 differs from the one recorded: PyTorch ignores it, strict readers refuse the archive.",
  },
  nameMismatch: {
    id: "zip.name-mismatch",
    severity: "high",
    description:
      "A local header names a member differently from the central directory: readers disagree on which member it is.",
  },
  duplicateName: {
    id: "zip.duplicate-name",
    severity: "high",
    description: "Two members share a name: readers disagree on which one a load opens.",
  },
  encrypted: {
    id: "zip.encrypted",
    severity: "high",
    description: "A member is encrypted and cannot be analysed.",
  },
  flagBits: {
    id: "zip.flag-bits",
    severity: "high",
    description:
      "General-purpose flag bits (0x1 encrypted, 0x20 patched, 0x40 strong encryption) set on readable data: lenient loaders ignore them, strict readers refuse.",
  },
  prependedData: {
    id: "zip.prepended-data",
    severity: "medium",
    description:
      "Bytes precede the archive (offsets are shifted): the file is also something else, and readers that do not compensate miss members.",
  },
  unsupportedMethod: {
    id: "zip.unsupported-method",
    severity: "high",
    description:
      "A member uses a compression method the reader cannot decode; it was not analysed.",
  },
  malformed: {
    id: "zip.malformed",
    severity: "high",
    description:
      "Structure a strict reader would reject or read differently (bad signature, truncated data, inconsistent counts or sizes).",
  },
  overlap: {
    id: "zip.overlap",
    severity: "high",
    description: "Member data ranges overlap: a zip-bomb technique and a parser differential.",
  },
  bomb: {
    id: "archive.bomb",
    severity: "high",
    description: "A member inflates at an impossible ratio: decompression stopped.",
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

export type ZipRuleKey = keyof typeof ZIP_RULES;
