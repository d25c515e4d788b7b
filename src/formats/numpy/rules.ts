import type { RatedRule } from "../../core/rule-info.js";

/** A rule the NumPy analyser reports: stable id, default severity, one line for docs/rules.md. */
export type NumpyRule = RatedRule;

/** Rules reported by the `.npy` analyser; ids are stable (DESIGN.md "Finding shape"). */
export const NUMPY_RULES = Object.freeze({
  malformedHeader: {
    id: "npy.malformed-header",
    severity: "high",
    description:
      "The .npy header is not what np.load accepts (bad version, not a dict literal, wrong keys or values): the file is not a plain array.",
  },
  sizeMismatch: {
    id: "npy.size-mismatch",
    severity: "medium",
    description:
      "The file is shorter than header + shape × item size: the data is incomplete and np.load fails on it.",
  },
  trailingData: {
    id: "npy.trailing-data",
    severity: "medium",
    description:
      "Bytes np.load never reads follow the array (info when they are another .npy, as repeated np.save calls on one file write); analysed as a separate artifact.",
  },
  unknownDtype: {
    id: "npy.unknown-dtype",
    severity: "medium",
    description: "The dtype descriptor is not understood here, so the data size was not checked.",
  },
  objectArray: {
    id: "npy.object-array",
    severity: "info",
    description:
      "An object-dtype array: its data is a pickle, run by np.load(allow_pickle=True); the pickle was analysed.",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A size limit was reached: the header was not read (fail closed).",
  },
} as const satisfies Record<string, NumpyRule>);

export type NumpyRuleKey = keyof typeof NUMPY_RULES;
