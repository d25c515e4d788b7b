import { type ByteSource, sliceSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import { analysePickle } from "../pickle/analyse-pickle.js";
import type { Analysis, Artifact, Child, FormatAnalyser, Probe, ScanContext } from "../types.js";
import {
  NPY_MAGIC,
  type NpyHeader,
  NUMPY_MAX_HEADER_SIZE,
  readNpyHeader,
  showValue,
} from "./npy-header.js";
import { NUMPY_RULES, type NumpyRuleKey } from "./rules.js";

/** Child name for bytes after the array data, which `np.load` never reads. */
export const TRAILING_CHILD = "(bytes after the array)";

/** `\x93NUMPY` at the start. */
export function detectNpy(probe: Probe): boolean {
  return NPY_MAGIC.every((b, i) => probe.head[i] === b);
}

function finding(
  key: NumpyRuleKey,
  message: string,
  offset?: number,
  severity?: LocalFinding["severity"],
): LocalFinding {
  const rule = NUMPY_RULES[key];
  return {
    rule: rule.id,
    severity: severity ?? rule.severity,
    message,
    ...(offset === undefined ? {} : { offset }),
  };
}

/**
 * Bytes after the array, which np.load never reads: reported and handed on as a child. Another
 * `.npy` there is ordinary (np.save called repeatedly on one open file), so it is only noted.
 */
async function trailingBytes(
  source: ByteSource,
  start: number,
): Promise<{ findings: LocalFinding[]; children: Child[] }> {
  if (start >= source.size) return { findings: [], children: [] };
  const head = await source.read(start, NPY_MAGIC.length);
  const another = NPY_MAGIC.every((b, i) => head[i] === b);
  const message = another
    ? `Another .npy array follows this one at offset ${start} (np.save called repeatedly on one file); it was analysed as a separate artifact.`
    : `${source.size - start} bytes follow the array (from offset ${start}): np.load never reads them. They were analysed as a separate artifact.`;
  return {
    findings: [finding("trailingData", message, start, another ? "info" : undefined)],
    children: [{ name: TRAILING_CHILD, source: sliceSource(source, start, source.size - start) }],
  };
}

/** PROTO (0x80) or a protocol 0/1 opcode that starts the pickles NumPy writes. */
function looksLikePickle(byte: number | undefined): boolean {
  return byte === 0x80 || byte === 0x28 || byte === 0x63 || byte === 0x5d || byte === 0x7d;
}

/**
 * Reads a `.npy` header as data and checks it against the file: for plain dtypes the data size
 * must match and the data is never read; for object dtypes the data is a pickle, analysed with
 * the pickle analyser (format `npy-object`). `.npz` files need nothing more: they are zips whose
 * `.npy` members the engine detects by content.
 */
export async function analyseNpy(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const { source } = artifact;
  const header = await readNpyHeader(source, { maxHeaderBytes: ctx.limits.maxDecodedArgument });
  if (!header.ok) {
    const e = header.error;
    const findings: LocalFinding[] = [
      e.overLimit
        ? finding("limitsExceeded", `The .npy header was not read: ${e.message}.`, 8)
        : finding(
            "malformedHeader",
            `Malformed .npy header: ${e.message}. np.load refuses this file.`,
            8,
          ),
    ];
    // Fail safe: a header we cannot read may still be an object array; if the data looks like a
    // pickle, say what it would do.
    let format = "npy";
    if (e.dataOffset !== undefined && e.dataOffset < source.size) {
      const first = (await source.read(e.dataOffset, 1))[0];
      if (looksLikePickle(first)) {
        const report = await analysePickle(source, ctx, { start: e.dataOffset });
        findings.push(...report.findings);
        format = "npy-object";
      }
    }
    return {
      format,
      findings,
      children: [],
      ...(e.overLimit ? { unanalysable: true } : {}),
      details: { ...(e.version ? { version: e.version } : {}) },
    };
  }
  const h = header.value;
  const details: Record<string, string | number | boolean> = {
    version: h.version,
    descr: showValue(h.descr, 200),
    shape: `(${h.shape.join(", ")}${h.shape.length === 1 ? "," : ""})`,
    fortranOrder: h.fortranOrder,
    headerLength: h.headerLength,
    dataOffset: h.dataOffset,
  };
  if (h.headerLength > NUMPY_MAX_HEADER_SIZE) details.needsMaxHeaderSize = true;
  if (h.dtype?.hasObject) return analyseObjectArray(artifact, ctx, h, details);
  return await checkPlainArray(artifact, h, details);
}

async function analyseObjectArray(
  artifact: Artifact,
  ctx: ScanContext,
  h: NpyHeader,
  details: Record<string, string | number | boolean>,
): Promise<Analysis> {
  // np.load runs one pickle.load: the first pickle is the array, anything after it is trailing.
  const report = await analysePickle(artifact.source, ctx, { start: h.dataOffset, maxPickles: 1 });
  const first = report.pickles[0];
  const protocol = first?.protocol ?? first?.opcodeProtocol;
  const after = first?.complete
    ? await trailingBytes(artifact.source, report.endOffset)
    : { findings: [], children: [] };
  return {
    format: "npy-object",
    findings: [
      finding(
        "objectArray",
        `Object-dtype array (descr ${showValue(h.descr, 80)}): np.load(allow_pickle=True) unpickles the data from offset ${h.dataOffset}; that pickle was analysed.`,
        h.dataOffset,
      ),
      ...report.findings,
      ...after.findings,
    ],
    children: after.children,
    details: {
      ...details,
      ...(protocol === undefined ? {} : { pickleProtocol: protocol }),
      pickleOpcodes: report.opcodeCount,
    },
  };
}

async function checkPlainArray(
  artifact: Artifact,
  h: NpyHeader,
  details: Record<string, string | number | boolean>,
): Promise<Analysis> {
  const { source } = artifact;
  const itemsize = h.dtype?.itemsize;
  if (itemsize === undefined) {
    return {
      format: "npy",
      findings: [
        finding(
          "unknownDtype",
          `The dtype ${showValue(h.descr, 80)} is not understood here: the data size was not checked.`,
          8,
        ),
      ],
      children: [],
      details,
    };
  }
  const count = h.shape.reduce((a, b) => a * b, 1n);
  const expected = BigInt(h.dataOffset) + count * itemsize;
  const actual = BigInt(source.size);
  details.dataBytes = Number(count * itemsize);
  const findings: LocalFinding[] = [];
  const children: Child[] = [];
  if (actual < expected) {
    findings.push(
      finding(
        "sizeMismatch",
        `The header promises ${count} × ${itemsize} bytes of data from offset ${h.dataOffset}, but the file ends ${expected - actual} bytes short: np.load fails on it.`,
        h.dataOffset,
      ),
    );
  } else if (actual > expected) {
    const after = await trailingBytes(source, Number(expected));
    findings.push(...after.findings);
    children.push(...after.children);
  }
  return { format: "npy", findings, children, details };
}

export const npyFormat: FormatAnalyser = {
  id: "npy",
  version: 1,
  description:
    "NumPy .npy arrays (format 1.0–3.0): header parsed as data, size checked, object arrays' pickles analysed",
  detect: detectNpy,
  analyse: analyseNpy,
};

export { type DtypeInfo, describeDescr, describeDtypeString } from "./dtype.js";
export { type NpyHeader, type NpyVersion, readNpyHeader } from "./npy-header.js";
export { type PyValue, parsePyLiteral } from "./py-literal.js";
export { NUMPY_RULES } from "./rules.js";
