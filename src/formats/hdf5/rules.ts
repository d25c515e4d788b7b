import type { Severity } from "../../core/finding.js";

/** A rule the HDF5 analyser reports: stable id, default severity, one line for docs/rules.md. */
export interface Hdf5Rule {
  id: string;
  severity: Severity;
  description: string;
}

/** Rules reported for HDF5 files; Keras models inside also get the `keras.*` rules. */
export const HDF5_RULES = Object.freeze({
  unreadable: {
    id: "hdf5.unreadable",
    severity: "high",
    description:
      "The file has an HDF5 signature but the HDF5 library cannot open it (damaged, truncated or too large to read): nothing in it was vetted.",
  },
  externalLink: {
    id: "hdf5.external-link",
    severity: "medium",
    description:
      "An HDF5 external link points into another file: whoever opens the link reads a file the scan never saw, named by this one.",
  },
} as const satisfies Record<string, Hdf5Rule>);

export type Hdf5RuleKey = keyof typeof HDF5_RULES;
