import type { ArchiveRule } from "../zip/rules.js";

/**
 * Rules reported by the tar reader and the tar analyser. Ids are stable (DESIGN.md "Finding
 * shape"); a parser differential a loader tolerates is `high`. The PyTorch legacy tar reader
 * reports `pytorch.storage-layout` and `pytorch.trailing-data` (src/formats/pytorch/rules.ts).
 */
export const TAR_RULES = Object.freeze({
  pathTraversal: {
    id: "tar.path-traversal",
    severity: "high",
    description:
      "A member name has a `..` segment: extracting the archive writes outside the target folder.",
  },
  absolutePath: {
    id: "tar.absolute-path",
    severity: "high",
    description:
      "A member name is absolute (`/…`, `C:…`, `\\…`): extracting it writes wherever it says.",
  },
  link: {
    id: "tar.link",
    severity: "medium",
    description:
      "A symbolic or hard link member (with its target): extraction makes later reads follow it; high when the target is absolute or climbs out with `..`.",
  },
  device: {
    id: "tar.device",
    severity: "high",
    description:
      "A character device, block device or FIFO member: no model archive needs one, extracting it as root creates it.",
  },
  duplicateName: {
    id: "tar.duplicate-name",
    severity: "high",
    description:
      "Two members share a (normalised) name: Python's tarfile opens the last, extraction overwrites, other readers take the first.",
  },
  truncated: {
    id: "tar.truncated",
    severity: "high",
    description:
      "The archive ends inside a header or a member's data: what is there was analysed, the rest is missing.",
  },
  malformed: {
    id: "tar.malformed",
    severity: "high",
    description:
      "A header a reader rejects or reads differently (bad checksum, invalid number, bad pax record, dangling extended header): Python's tarfile stops there or refuses the archive.",
  },
  differential: {
    id: "tar.differential",
    severity: "medium",
    description:
      "Header fields readers interpret differently (a size on a link or directory, a global pax header overriding size): members can differ between readers.",
  },
  sparse: {
    id: "tar.sparse",
    severity: "high",
    description: "A GNU sparse member: its data is not analysed (unsupported).",
  },
  unknownType: {
    id: "tar.unknown-type",
    severity: "info",
    description:
      "A member with a type flag Python's tarfile does not know: it reads it as a regular file, so it was analysed as one.",
  },
  trailingData: {
    id: "tar.trailing-data",
    severity: "medium",
    description:
      "Bytes after the point where Python's tarfile stops reading (end-of-archive marker or an invalid header): hidden from it, read by `tar -i` and other tools; analysed separately.",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A size or count limit was reached: the rest was not read (fail closed).",
  },
  unanalysable: {
    id: "archive.unanalysable",
    severity: "high",
    description: "No member of the archive could be read: nothing was vetted.",
  },
} as const satisfies Record<string, ArchiveRule>);

export type TarRuleKey = keyof typeof TAR_RULES;
