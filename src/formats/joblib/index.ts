import type { FormatAnalyser } from "../types.js";
import { analyseJoblib } from "./analyse-joblib.js";
import { detectJoblib } from "./detect-joblib.js";

/**
 * joblib's format (`joblib.dump` without compression, or the stream inside a compressed one): a
 * pickle with each NumPy array's data written right after its `NumpyArrayWrapper`'s BUILD. Must
 * come before the pickle format in detection order: both accept the same first byte.
 *
 * The format is `joblib` when the stream imports a wrapper class, else `pickle` (its bytes only
 * mention the name); either way it was read as joblib.load reads it.
 */
export const joblibFormat: FormatAnalyser = {
  id: "joblib",
  version: 1,
  description:
    "joblib.dump files: a pickle with NumPy array data inline after each array wrapper, read as joblib.load does, never executed.",
  detect: detectJoblib,
  async analyse(artifact, ctx) {
    const r = await analyseJoblib(artifact.source, ctx);
    const report = r.pickle;
    const first = report.pickles[0];
    const protocol = first?.protocol ?? first?.opcodeProtocol;
    const notPickle = report.fault !== undefined && !report.actedOn && r.arrayCount === 0;
    return {
      format: r.usesWrappers ? "joblib" : "pickle",
      findings: r.findings,
      children: [],
      ...(notPickle ? { notThisFormat: true } : r.unanalysable ? { unanalysable: true } : {}),
      details: {
        ...(protocol === undefined ? {} : { protocol }),
        pickles: report.pickles.length,
        opcodes: report.opcodeCount,
        arrays: r.arrayCount,
        objectArrays: r.arrays.filter((a) => a.nestedPickle).length,
        ...(r.companionFiles > 0 ? { companionFiles: r.companionFiles } : {}),
      },
    };
  },
};

export {
  analyseJoblib,
  type JoblibArray,
  type JoblibReport,
  MAX_ARRAYS_LISTED,
} from "./analyse-joblib.js";
export {
  type ArrayLayout,
  type DtypeFacts,
  type LayoutError,
  resolveDtype,
  resolveLayout,
  resolveShape,
} from "./array-layout.js";
export { detectJoblib } from "./detect-joblib.js";
export { FrameTracker } from "./frame-tracker.js";
export { JOBLIB_RULE, JOBLIB_RULES, type JoblibRule } from "./rules.js";
export {
  applyBuildState,
  mentionsWrapperClass,
  newWrapperAttributes,
  type TargetClass,
  targetClass,
  type WrapperAttributes,
  type WrapperKind,
  wrapperClassOf,
} from "./wrapper.js";
