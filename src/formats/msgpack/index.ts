import type { ByteSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import type { Analysis, Artifact, FormatAnalyser, Probe } from "../types.js";
import { MSGPACK_RULES } from "./rules.js";
import {
  runWalkSync,
  type WalkIssue,
  type WalkOptions,
  type WalkResult,
  walkMsgpack,
} from "./walk-msgpack.js";

/** Bytes read at a time when the walk needs more (headers are small; payloads are skipped). */
const READ_CHUNK = 64 * 1024;
/** Values the detector walks in the head before deciding on what it has seen. */
const DETECT_MAX_VALUES = 100_000;

/**
 * Flax's `serialization.to_bytes` output: a msgpack map at the top (fixmap 0x81–0x8f, map16 0xde,
 * map32 0xdf; the empty fixmap 0x80 is also pickle's PROTO and is left to pickle) whose head walks
 * with printable string keys up to a Flax extension (ndarray, complex, scalar) that parses; or,
 * without one, walks cleanly through a nested map or an unknown extension and, when the whole file
 * is in the head, ends exactly at its end.
 */
export function detectFlaxMsgpack(probe: Probe): boolean {
  const first = probe.head[0];
  if (first === undefined) return false;
  if (!((first >= 0x81 && first <= 0x8f) || first === 0xde || first === 0xdf)) return false;
  const result = runWalkSync(probe.head, probe.size, {
    strictKeys: true,
    maxValues: DETECT_MAX_VALUES,
  });
  const { stats } = result;
  // A Flax extension that parsed (a (shape, dtype, data) triple) is no accident: the file is Flax
  // msgpack even if it is damaged after it (truncated, trailing bytes, a bad array) — the analyser
  // reports that. Weaker signs count only when everything read is clean.
  if (stats.arrays + stats.complexes > 0) return true;
  if (result.status === "stopped") return false;
  if (result.status === "complete" && result.end !== probe.size) return false;
  return stats.maps > 1 || result.issues.some((i) => i.kind === "unknown-ext");
}

/** Drives the walk over a byte source, reading a window at a time and never the skipped payloads. */
export async function walkMsgpackSource(
  source: ByteSource,
  options: WalkOptions = {},
): Promise<WalkResult> {
  const walk = walkMsgpack(source.size, options);
  let window = new Uint8Array(0);
  let windowStart = 0;
  let step = walk.next();
  while (!step.done) {
    const { offset, length } = step.value;
    let bytes: Uint8Array;
    if (offset >= windowStart && offset + length <= windowStart + window.length) {
      bytes = window.subarray(offset - windowStart, offset - windowStart + length);
    } else if (length <= READ_CHUNK) {
      window = (await source.read(offset, READ_CHUNK)).slice();
      windowStart = offset;
      bytes = window.subarray(0, length);
    } else {
      bytes = await source.read(offset, length);
    }
    step = walk.next(bytes);
  }
  return step.value;
}

function at(issue: WalkIssue): string {
  return issue.path === "" ? "at the top level" : `at \`${issue.path.slice(0, 300)}\``;
}

/**
 * Walks the whole document (headers only), checking Flax's array extensions and reporting unknown
 * extension types, malformed structure, limits and trailing bytes.
 */
export async function analyseFlaxMsgpack(artifact: Artifact): Promise<Analysis> {
  const size = artifact.source.size;
  const result = await walkMsgpackSource(artifact.source);
  const findings: LocalFinding[] = [];
  const unknownExt = new Map<number, { first: WalkIssue; count: number }>();
  const unknownDtype = new Map<string, { first: WalkIssue; count: number }>();
  for (const issue of result.issues) {
    if (issue.kind === "unknown-ext") {
      const type = issue.extType ?? 0;
      const seen = unknownExt.get(type);
      if (seen) seen.count++;
      else unknownExt.set(type, { first: issue, count: 1 });
    } else if (issue.kind === "unknown-dtype") {
      const seen = unknownDtype.get(issue.message);
      if (seen) seen.count++;
      else unknownDtype.set(issue.message, { first: issue, count: 1 });
    } else if (issue.kind === "limit") {
      findings.push({
        rule: "limits.exceeded",
        severity: "high",
        message: `${issue.message} (${at(issue)}); what follows was not checked.`,
        offset: issue.offset,
      });
    } else {
      const rule = MSGPACK_RULES.malformed;
      findings.push({
        rule: rule.id,
        severity: rule.severity,
        message: `${issue.message} (${at(issue)})`,
        offset: issue.offset,
      });
    }
  }
  for (const [type, { first, count }] of unknownExt) {
    const rule = MSGPACK_RULES.unknownExt;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `${first.message} (${count > 1 ? `${count} values of type ${type}, the first ` : ""}${at(first)}).`,
      offset: first.offset,
      evidence: { pseudocode: `msgpack.ExtType(${type}, data)` },
    });
  }
  for (const { first, count } of unknownDtype.values()) {
    const rule = MSGPACK_RULES.unknownDtype;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `${first.message}${count > 1 ? ` (${count} arrays)` : ""} First ${at(first)}.`,
      offset: first.offset,
    });
  }
  if (result.status === "complete" && result.end < size) {
    const rule = MSGPACK_RULES.malformed;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `${size - result.end} bytes follow the msgpack value: msgpack.unpackb raises ExtraData, and those bytes could be another format entirely.`,
      offset: result.end,
    });
  } else if (result.status === "incomplete") {
    const rule = MSGPACK_RULES.malformed;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: "The file could not be read to its end.",
      offset: result.end,
    });
  }
  const { stats } = result;
  return {
    format: "flax-msgpack",
    findings,
    children: [],
    details: {
      complete: result.status === "complete",
      arrays: stats.arrays,
      complexScalars: stats.complexes,
      maps: stats.maps,
      values: stats.values,
      tensorBytes: stats.tensorBytes,
      maxDepth: stats.maxDepth,
      dtypes: [...stats.dtypes].sort().join(", ").slice(0, 300),
      topLevelKeys: stats.topLevelKeys.join(", ").slice(0, 300),
    },
  };
}

export const flaxMsgpackFormat: FormatAnalyser = {
  id: "flax-msgpack",
  version: 1,
  description:
    "Flax msgpack checkpoints (serialization.to_bytes): structure and array headers walked, tensor bytes skipped",
  detect: detectFlaxMsgpack,
  analyse: analyseFlaxMsgpack,
};

export {
  decodeHeader,
  headerLength,
  MAX_HEADER_BYTES,
  type MsgpackHeader,
} from "./msgpack-header.js";
export { MSGPACK_RULES, type MsgpackRule, type MsgpackRuleKey } from "./rules.js";
export {
  type ByteRequest,
  DTYPE_SIZES,
  FLAX_EXT,
  type IssueKind,
  runWalkSync,
  TIMESTAMP_EXT,
  type WalkIssue,
  type WalkOptions,
  type WalkResult,
  type WalkStats,
  walkMsgpack,
} from "./walk-msgpack.js";
