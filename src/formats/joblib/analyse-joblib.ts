/**
 * A joblib stream as `joblib.load` reads it: one pickle (read by `pickle._Unpickler`) whose
 * `NumpyArrayWrapper` BUILDs are each followed by the array's data, read straight from the file —
 * raw bytes (after optional alignment padding), or, for object arrays, a nested pickle run by
 * `pickle.load`. The raw bytes are skipped by the sizes the wrapper declares, never read; the
 * nested pickles are analysed like any pickle. Whatever cannot be aligned stops the analysis and
 * says so (fail closed).
 */

import type { ByteSource } from "../../core/byte-source.js";
import type { LocalFinding, Severity } from "../../core/finding.js";
import { analysePickle, type PickleReport } from "../pickle/analyse-pickle.js";
import { pyString } from "../pickle/decompile.js";
import { LIMITS_EXCEEDED_RULE, PICKLE_RULE } from "../pickle/rules.js";
import type { SymBuild, SymValue } from "../pickle/values.js";
import type { ScanContext } from "../types.js";
import { type ObjectLayout, type RawLayout, resolveLayout } from "./array-layout.js";
import { FrameTracker } from "./frame-tracker.js";
import { JOBLIB_RULE } from "./rules.js";
import {
  applyBuildState,
  mentionsWrapperClass,
  newWrapperAttributes,
  targetClass,
  type WrapperAttributes,
  wrapperClassOf,
} from "./wrapper.js";

/** One array joblib reads inline. */
export interface JoblibArray {
  /** Offset of the wrapper's BUILD opcode. */
  buildOffset: number;
  /** Where joblib starts reading: right after the BUILD (the padding byte, if any). */
  offset: number;
  /** First byte of the data: after the padding, or the nested pickle's first opcode. */
  dataOffset: number;
  /** Raw data bytes, or the nested pickle's length. */
  dataBytes: number;
  /** The dtype as the pickle names it, quoted. */
  dtype: string;
  /** The shape; `undefined` for an object array whose shape is not valid (joblib does not check it). */
  shape: bigint[] | undefined;
  /** True for an object array: the data is a nested pickle. */
  nestedPickle: boolean;
}

export interface JoblibReport {
  /** The outer pickle's analysis (its findings are already in `findings`). */
  pickle: PickleReport;
  /** Pickle findings of the outer and nested pickles, and the joblib findings, in stream order. */
  findings: LocalFinding[];
  /** The inline arrays, in file order (at most {@link MAX_ARRAYS_LISTED}). */
  arrays: JoblibArray[];
  /** Number of inline arrays (listed or not). */
  arrayCount: number;
  /** Old-format wrappers that load a companion file. */
  companionFiles: number;
  /** True when part of the stream could not be analysed (fail closed). */
  unanalysable: boolean;
  /** True when the stream imports one of joblib's array wrapper classes. */
  usesWrappers: boolean;
}

/** Arrays listed in {@link JoblibReport.arrays}; the rest are counted. */
export const MAX_ARRAYS_LISTED = 100_000;

/** Why analysis stops at a wrapper, and what to say. */
interface Halt {
  rule: string;
  severity: Severity;
  message: string;
  unanalysable: boolean;
}

/** A companion path that leaves the pickle's directory. */
const ESCAPING_PATH = /^(?:[/\\]|[A-Za-z]:)|(?:^|[/\\])\.\.(?:[/\\]|$)/;

function describeShape(shape: readonly bigint[] | undefined): string {
  if (shape === undefined) return "not a valid shape";
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/** Analyses a joblib stream (uncompressed) in `source`. Never throws on bad input. */
export async function analyseJoblib(source: ByteSource, ctx: ScanContext): Promise<JoblibReport> {
  const end = source.size;
  const limit = ctx.limits.maxFindingsPerArtifact;
  const extra: { finding: LocalFinding; at: number }[] = [];
  let dropped = 0;
  const add = (finding: LocalFinding, at = finding.offset ?? Number.POSITIVE_INFINITY): void => {
    if (extra.length < limit) extra.push({ finding, at });
    else dropped++;
  };

  const wrappers = new Map<SymValue, WrapperAttributes>();
  const dtypeStates = new Map<SymValue, SymValue>();
  const frames = new FrameTracker(source, ctx.limits.maxDecodedArgument, 0);
  const arrays: JoblibArray[] = [];
  let arrayCount = 0;
  let companionFiles = 0;
  let unanalysable = false;
  let unknownClasses = 0;
  let haltedAt: number | undefined;

  /** Stops the walk at `offset`: a skip past the end makes the engine stop there. */
  const halt = (offset: number, build: SymBuild, h: Halt): number => {
    add({
      rule: h.rule,
      severity: h.severity,
      message: h.message,
      offset: build.offset,
      evidence: { opcode: "BUILD" },
    });
    unanalysable ||= h.unanalysable;
    haltedAt = offset;
    return end - offset + 1;
  };

  const record = (array: JoblibArray): void => {
    arrayCount++;
    if (arrays.length < MAX_ARRAYS_LISTED) arrays.push(array);
  };

  const nestedPickle = async (
    build: SymBuild,
    after: number,
    layout: ObjectLayout,
  ): Promise<number> => {
    const nested = await analysePickle(source, ctx, { start: after, maxPickles: 1 });
    for (const f of nested.findings) add(f);
    const segment = nested.pickles[0];
    if (nested.limitHit) unanalysable = true;
    if (!segment?.complete) {
      // pickle.load raises inside the nested pickle: joblib.load stops there.
      haltedAt = after;
      return end - after + 1;
    }
    const nestedFrames = new FrameTracker(source, ctx.limits.maxDecodedArgument, after);
    if ((await nestedFrames.frameEndAt(segment.end)) > segment.end) {
      return halt(after, build, {
        rule: JOBLIB_RULE.splitFrame,
        severity: "high",
        message: `The object array's nested pickle (offset ${after}–${segment.end}) declares a FRAME that runs past its STOP: where joblib resumes depends on how the file object buffers. The rest of the stream was not analysed.`,
        unanalysable: true,
      });
    }
    add({
      rule: JOBLIB_RULE.objectArray,
      severity: "info",
      message: `Object array (dtype ${layout.dtype.text}, shape ${describeShape(layout.shape)}) wrapped at offset ${build.offset}: joblib unpickles its data with pickle.load from offset ${after} to ${segment.end}; that pickle was analysed.`,
      offset: after,
    });
    record({
      buildOffset: build.offset,
      offset: after,
      dataOffset: after,
      dataBytes: segment.end - after,
      dtype: layout.dtype.text,
      shape: layout.shape,
      nestedPickle: true,
    });
    frames.resumeAt(segment.end);
    return segment.end - after;
  };

  const rawArray = async (build: SymBuild, after: number, layout: RawLayout): Promise<number> => {
    let header = 0;
    if (layout.padded) {
      const byte = after < end ? (await source.read(after, 1))[0] : undefined;
      if (byte === undefined) {
        return halt(after, build, {
          rule: JOBLIB_RULE.invalidArray,
          severity: "high",
          message: `The file ends at offset ${after}, where the padding byte of the array wrapped at offset ${build.offset} should be: joblib.load fails here.`,
          unanalysable: false,
        });
      }
      header = 1 + byte;
    }
    const dataOffset = after + header;
    const dataBytes = layout.count * layout.dtype.itemsize;
    if (BigInt(dataOffset) + dataBytes > BigInt(end)) {
      return halt(after, build, {
        rule: JOBLIB_RULE.invalidArray,
        severity: "high",
        message: `The array wrapped at offset ${build.offset} (dtype ${layout.dtype.text}, shape ${describeShape(layout.shape)}) needs ${dataBytes} bytes of data from offset ${dataOffset}, but only ${Math.max(0, end - dataOffset)} remain: joblib.load fails here, after everything before it has run.`,
        unanalysable: false,
      });
    }
    const size = Number(dataBytes);
    record({
      buildOffset: build.offset,
      offset: after,
      dataOffset,
      dataBytes: size,
      dtype: layout.dtype.text,
      shape: layout.shape,
      nestedPickle: false,
    });
    frames.resumeAt(dataOffset + size);
    return header + size;
  };

  const companion = (build: SymBuild, attrs: WrapperAttributes): void => {
    companionFiles++;
    const filename = attrs.values.get("filename");
    const path = filename?.kind === "str" ? filename.value : null;
    const shown = path === null ? "a path that is not a constant" : pyString(path, 200);
    const escapes = path === null || ESCAPING_PATH.test(path);
    add({
      rule: JOBLIB_RULE.companionFile,
      severity: escapes ? "high" : "medium",
      message: `${attrs.wrapper} (joblib ≤ 0.9 format) at offset ${build.offset}: joblib.load loads the array from ${shown}${escapes ? ", which may be anywhere on disk," : " next to this file"} with ${attrs.wrapper === "NDArrayWrapper" ? "np.load(allow_pickle=True)" : "a zlib read and ndarray.__setstate__"}. That file was not analysed here.`,
      offset: build.offset,
      evidence: { opcode: "BUILD" },
    });
  };

  const afterBuild = async (build: SymBuild, after: number): Promise<number> => {
    const target = build.target;
    const cls = targetClass(target);
    if (cls.kind === "other") {
      if (target.kind === "call") dtypeStates.set(target, build.state);
      return 0;
    }
    if (cls.kind === "unknown") {
      unanalysable = true;
      if (unknownClasses++ === 0) {
        add({
          rule: JOBLIB_RULE.unknownArrayLayout,
          severity: "high",
          message: `BUILD at offset ${build.offset} sets the state of an object whose class modelvet cannot name (${cls.reason}). If it is joblib's array wrapper, joblib reads array data after it; modelvet assumed it is not.`,
          offset: build.offset,
          evidence: { opcode: "BUILD" },
        });
      }
      return 0;
    }
    let attrs = wrappers.get(target);
    if (attrs !== undefined && attrs.builds > 0) {
      return halt(after, build, {
        rule: JOBLIB_RULE.unexpectedWrapperUse,
        severity: "high",
        message: `BUILD at offset ${build.offset} applies state to the ${attrs.wrapper} already built at an earlier BUILD. joblib.dump never does this; fetched from the memo, the wrapper makes joblib read array data a second time. The rest of the stream was not analysed.`,
        unanalysable: true,
      });
    }
    if (attrs === undefined) {
      attrs = newWrapperAttributes(cls.wrapper, cls.init);
      wrappers.set(target, attrs);
    }
    applyBuildState(attrs, build.state);
    if (attrs.wrapper !== "NumpyArrayWrapper") {
      companion(build, attrs);
      return 0;
    }
    const frameEnd = await frames.frameEndAt(after);
    if (frameEnd > after) {
      return halt(after, build, {
        rule: JOBLIB_RULE.splitFrame,
        severity: "high",
        message: `The array wrapper's BUILD at offset ${build.offset} is inside a pickle FRAME that goes on to offset ${frameEnd}: joblib reads the array data from after the frame while the pickle goes on inside it. joblib.dump never writes this; the rest of the stream was not analysed.`,
        unanalysable: true,
      });
    }
    const layout = resolveLayout(attrs, (v) => dtypeStates.get(v));
    if (!layout.ok) {
      const { kind, reason } = layout.error;
      return halt(after, build, {
        rule: kind === "unknown" ? JOBLIB_RULE.unknownArrayLayout : JOBLIB_RULE.invalidArray,
        severity: "high",
        message:
          kind === "unknown"
            ? `The array wrapped at offset ${build.offset} cannot be sized: ${reason}. joblib reads its data from offset ${after}, so what follows cannot be aligned and was not analysed.`
            : `joblib.load cannot read the array wrapped at offset ${build.offset}: ${reason}. Loading fails here, after everything before it has run; what follows was not analysed.`,
        unanalysable: kind === "unknown",
      });
    }
    if (layout.value.dtype.mismatch !== undefined) {
      add({
        rule: JOBLIB_RULE.dtypeFlagsMismatch,
        severity: "high",
        message: `The array wrapped at offset ${build.offset}: ${layout.value.dtype.mismatch}.`,
        offset: build.offset,
        evidence: { opcode: "BUILD" },
      });
    }
    return layout.value.kind === "object"
      ? nestedPickle(build, after, layout.value)
      : rawArray(build, after, layout.value);
  };

  const report = await analysePickle(source, ctx, { rawBytesAfterBuild: afterBuild });

  // The engine's "past the end of the data" fault where we stopped it is ours, said better above.
  const pickleFindings = report.findings.filter(
    (f) => !(haltedAt !== undefined && f.rule === PICKLE_RULE.malformed && f.offset === haltedAt),
  );
  if (report.fault?.code === "read-error") unanalysable = true;

  // Summaries are always kept, past the findings limit.
  const misuse = findMisuse(report);
  if (misuse !== undefined) {
    unanalysable = true;
    extra.push({ finding: misuse, at: misuse.offset ?? Number.POSITIVE_INFINITY });
  }
  const summary = (finding: LocalFinding) => extra.push({ finding, at: Number.POSITIVE_INFINITY });
  if (unknownClasses > 1) {
    summary({
      rule: JOBLIB_RULE.unknownArrayLayout,
      severity: "high",
      message: `${unknownClasses - 1} more BUILDs set the state of objects whose class modelvet cannot name.`,
    });
  }
  if (dropped > 0) {
    summary({
      rule: LIMITS_EXCEEDED_RULE,
      severity: "high",
      message: `${dropped} more joblib findings were not listed (limit maxFindingsPerArtifact = ${limit}).`,
    });
  }

  const findings = [
    ...pickleFindings.map((finding) => ({
      finding,
      at: finding.offset ?? Number.POSITIVE_INFINITY,
    })),
    ...extra,
  ]
    .map((entry, i) => ({ ...entry, i }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((entry) => entry.finding);

  return {
    pickle: report,
    findings,
    arrays,
    arrayCount,
    companionFiles,
    unanalysable,
    usesWrappers: report.imports.some((g) => wrapperClassOf(g) !== undefined),
  };
}

/**
 * The first use of a wrapper class that joblib.dump never writes: in a call's arguments or a
 * BUILD's state (e.g. `setattr(obj, "__class__", NumpyArrayWrapper)` or a slot state that does
 * the same, which would make joblib read array data after an object modelvet does not see as a
 * wrapper), or as the target of a BUILD or method call (changing the class for every array).
 */
function findMisuse(report: PickleReport): LocalFinding | undefined {
  const finding = (offset: number, opcode: string, what: string): LocalFinding => ({
    rule: JOBLIB_RULE.unexpectedWrapperUse,
    severity: "high",
    message: `${opcode} at offset ${offset} ${what}. joblib.dump never writes this; it can make joblib read array data after an object modelvet does not treat as an array, so the analysis after it cannot be trusted.`,
    offset,
    evidence: { opcode },
  });
  for (const call of report.calls) {
    const cls = call.method === undefined ? targetClass(call) : undefined;
    if (cls?.kind === "wrapper") {
      if (!mentionsWrapperClass(call)) continue;
      return finding(
        call.offset,
        call.opcode,
        "passes joblib's array wrapper class to a new array wrapper",
      );
    }
    if (
      mentionsWrapperClass(call.callable) ||
      mentionsWrapperClass(call.args) ||
      (call.kwargs !== undefined && mentionsWrapperClass(call.kwargs))
    ) {
      return finding(
        call.offset,
        call.opcode,
        "uses joblib's array wrapper class other than to create an array",
      );
    }
  }
  for (const build of report.builds) {
    if (wrapperClassOf(build.target) !== undefined) {
      return finding(
        build.offset,
        "BUILD",
        "sets attributes of joblib's array wrapper class itself",
      );
    }
    if (mentionsWrapperClass(build.state)) {
      return finding(
        build.offset,
        "BUILD",
        "puts joblib's array wrapper class into an object's state",
      );
    }
  }
  return undefined;
}
