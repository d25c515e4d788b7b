import type { RatedRule } from "../../core/rule-info.js";

/** A rule the joblib analyser reports: stable id, default severity, one-line description. */
export type JoblibRule = RatedRule;

/** Rule ids, for code that names them. */
export const JOBLIB_RULE = Object.freeze({
  unknownArrayLayout: "joblib.unknown-array-layout",
  invalidArray: "joblib.invalid-array",
  splitFrame: "joblib.split-frame",
  unexpectedWrapperUse: "joblib.unexpected-wrapper-use",
  dtypeFlagsMismatch: "joblib.dtype-flags-mismatch",
  objectArray: "joblib.object-array",
  companionFile: "joblib.companion-file",
} as const);

/** Every `joblib.*` rule, for docs/rules.md, SARIF and policy files. */
export const JOBLIB_RULES: readonly JoblibRule[] = Object.freeze([
  {
    id: JOBLIB_RULE.unknownArrayLayout,
    severity: "high",
    description:
      "An array joblib reads straight from the file has a shape, dtype or padding that is not a constant modelvet understands: the bytes after it cannot be aligned, so the rest was not analysed (fail closed).",
  },
  {
    id: JOBLIB_RULE.invalidArray,
    severity: "high",
    description:
      "An inline array joblib.load cannot read (missing attribute, negative or overflowing shape, data past the end of the file): loading fails there, after everything before it has run.",
  },
  {
    id: JOBLIB_RULE.splitFrame,
    severity: "high",
    description:
      "An array's BUILD sits inside a pickle FRAME that goes on after it (or a nested pickle's FRAME runs past its STOP): joblib then reads array data and opcodes from different places; not followed (fail closed).",
  },
  {
    id: JOBLIB_RULE.unexpectedWrapperUse,
    severity: "high",
    description:
      "joblib's array wrapper is used in a way joblib.dump never writes (built twice, passed to a call, placed in a BUILD state): it can make joblib read array data where modelvet does not expect it (fail closed).",
  },
  {
    id: JOBLIB_RULE.dtypeFlagsMismatch,
    severity: "high",
    description:
      "A dtype's pickled flags contradict its type (object flag on a number type, or an object type without it): joblib then reads raw bytes as object pointers, or a pickle where numbers were expected.",
  },
  {
    id: JOBLIB_RULE.objectArray,
    severity: "info",
    description:
      "An object-dtype array: joblib unpickles its data with a nested pickle.load on the same file; that pickle was analysed.",
  },
  {
    id: JOBLIB_RULE.companionFile,
    severity: "medium",
    description:
      "An old-format (joblib ≤ 0.9) array wrapper: joblib.load loads the array from another file with np.load(allow_pickle=True), which was not analysed here (high when the path is absolute, climbs out of the directory, or is not a constant).",
  },
]);
