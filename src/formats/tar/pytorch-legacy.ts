/**
 * PyTorch's legacy tar checkpoint (written by torch < 0.4, still read by `torch.load`'s
 * `legacy_load`): a tar with members `sys_info`, `pickle`, `tensors` and `storages`.
 *
 * `pickle` and `sys_info` are ordinary pickles (handed to the engine as children). `storages` and
 * `tensors` interleave pickles with raw bytes, so they are read here, as `legacy_load` reads them:
 *
 * - `storages`: a pickle (the storage count N); N times a pickle `(key, location, storage_type)`
 *   followed by what `_write_file` writes (int64 little-endian element count, then count × the
 *   element size of `storage_type`); then a pickle (the list of storage views).
 * - `tensors`: a pickle (the tensor count N); N times a pickle `(key, storage_id, tensor_type)`
 *   followed by the tensor metadata (int32 ndim, 4 unused bytes, ndim int64 sizes, ndim int64
 *   strides, int64 storage offset).
 *
 * Every pickle is analysed with {@link analysePickle} at its offset; raw bytes are skipped by their
 * declared sizes, never read beyond the 8 or 4 bytes that give them.
 */

import type { ByteSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import { analysePickle, type PickleReport } from "../pickle/analyse-pickle.js";
import type { SymValue } from "../pickle/values.js";
import { PYTORCH_RULE } from "../pytorch/rules.js";
import { storageElementSize } from "../pytorch/storage-types.js";
import type { ScanContext } from "../types.js";
import { TAR_RULES } from "./rules.js";
import { normalizeMemberPath } from "./tar-paths.js";
import type { TarEntry } from "./tar-reader.js";

export interface LegacyLayout {
  /** The members `legacy_load` opens (the last of each name, as `TarFile.getmember` picks). */
  pickle: TarEntry;
  storages: TarEntry;
  tensors: TarEntry;
  sysInfo?: TarEntry;
}

/**
 * The legacy layout when the archive has the members `legacy_load` reads (`pickle`, `storages`,
 * `tensors`; `sys_info` is optional), matched after path normalisation like `getmember`.
 */
export function findLegacyLayout(entries: readonly TarEntry[]): LegacyLayout | undefined {
  const byName = new Map<string, TarEntry>();
  for (const entry of entries) {
    if (entry.kind !== "directory") byName.set(normalizeMemberPath(entry.name), entry);
  }
  const pickle = byName.get("pickle");
  const storages = byName.get("storages");
  const tensors = byName.get("tensors");
  if (!pickle || !storages || !tensors) return undefined;
  const sysInfo = byName.get("sys_info");
  return { pickle, storages, tensors, ...(sysInfo ? { sysInfo } : {}) };
}

/** What reading one legacy member found: findings and how many records it walked. */
export interface LegacyMemberResult {
  findings: LocalFinding[];
  records: number;
  /** True when the member was read to its end as `legacy_load` would. */
  complete: boolean;
}

/**
 * What is wrong with a legacy member's layout, under the rules PyTorch's other legacy reader
 * (src/formats/pytorch/legacy.ts) reports: `pytorch.storage-layout` and `pytorch.trailing-data`.
 */
type LayoutProblem = "layout" | "trailing" | "limit";

function finding(problem: LayoutProblem, message: string, offset?: number): LocalFinding {
  const rule =
    problem === "layout"
      ? { id: PYTORCH_RULE.storageLayout, severity: "medium" as const }
      : problem === "trailing"
        ? { id: PYTORCH_RULE.trailingData, severity: "medium" as const }
        : TAR_RULES.limitsExceeded;
  return {
    rule: rule.id,
    severity: rule.severity,
    message,
    ...(offset === undefined ? {} : { offset }),
  };
}

/** A constant int a pickle returned, as a JS number when it is a safe integer. */
function intOf(value: SymValue | undefined): number | undefined {
  if (value?.kind !== "int" || value.value === null) return undefined;
  const n = typeof value.value === "bigint" ? Number(value.value) : value.value;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The storage type global of a `(key, location, storage_type)` record, if constant. */
function storageTypeOf(
  value: SymValue | undefined,
): { module: string | null; name: string | null } | undefined {
  if (value?.kind !== "tuple" || value.count !== 3) return undefined;
  const type = value.items[2];
  if (type?.kind !== "global" || !type.constant) return undefined;
  return { module: type.module, name: type.name };
}

function describe(value: SymValue | undefined): string {
  if (value === undefined) return "nothing";
  if (value.kind === "global") return `${value.module}.${value.name}`;
  if (value.kind === "call") return "the result of a call";
  return `a ${value.kind}`;
}

/**
 * Reads the `storages` or `tensors` member of a legacy checkpoint the way `legacy_load` does and
 * analyses every pickle in it. Findings carry offsets in `source` (the tar) and name the member.
 */
export async function analyseLegacyMember(
  source: ByteSource,
  entry: TarEntry,
  member: "storages" | "tensors",
  ctx: ScanContext,
): Promise<LegacyMemberResult> {
  const start = entry.dataOffset;
  const end = start + (entry.kind === "file" ? entry.available : 0);
  const findings: LocalFinding[] = [];
  const label = `legacy checkpoint member "${entry.name}"`;
  const add = (report: PickleReport): void => {
    for (const f of report.findings) findings.push({ ...f, message: `In ${label}: ${f.message}` });
  };
  const onePickle = async (at: number): Promise<PickleReport> => {
    const report = await analysePickle(source, ctx, { start: at, end, maxPickles: 1 });
    add(report);
    return report;
  };
  const rest = async (at: number, why: string, key: LayoutProblem): Promise<LegacyMemberResult> => {
    findings.push(finding(key, `In ${label} at offset ${at}: ${why}`, at));
    if (at < end) add(await analysePickle(source, ctx, { start: at, end }));
    return { findings, records, complete: false };
  };

  let records = 0;
  const head = await onePickle(start);
  const countPickle = head.pickles[0];
  if (!countPickle?.complete) return { findings, records, complete: false };
  let pos = head.endOffset;
  const count = intOf(countPickle.result);
  if (count === undefined) {
    return rest(
      pos,
      `the ${member === "storages" ? "storage" : "tensor"} count is ${describe(countPickle.result)}, not an int constant, so the records after it cannot be located; the rest of the member was analysed as pickles.`,
      "layout",
    );
  }
  const limit = ctx.limits.maxArchiveMembers;
  if (count > limit) {
    findings.push(
      finding(
        "limit",
        `In ${label}: ${count} records declared, more than maxArchiveMembers (${limit}); only the first ${limit} were read.`,
        start,
      ),
    );
  }
  for (let i = 0; i < Math.min(count, limit); i++) {
    const record = await onePickle(pos);
    const recordPickle = record.pickles[0];
    if (!recordPickle?.complete) return { findings, records, complete: false };
    pos = record.endOffset;
    records++;
    const raw =
      member === "storages"
        ? await storageBytes(source, pos, end, recordPickle.result)
        : await tensorMetadataBytes(source, pos, end);
    if (typeof raw === "string") {
      findings.push(finding("layout", `In ${label}, record ${i} at offset ${pos}: ${raw}`, pos));
      return { findings, records, complete: false };
    }
    pos += raw;
  }
  if (count > limit) return { findings, records, complete: false };
  if (member === "storages") {
    // The storage views list: `(target, root, offset, numel)` tuples.
    const views = await onePickle(pos);
    if (!views.pickles[0]?.complete) return { findings, records, complete: false };
    pos = views.endOffset;
  }
  if (pos < end) {
    return rest(
      pos,
      `${end - pos} bytes follow the last record torch.load reads from this member; they are never read by it.`,
      "trailing",
    );
  }
  return { findings, records, complete: true };
}

/** Length of a storage's raw bytes at `pos` (int64 count + data), or why it cannot be skipped. */
async function storageBytes(
  source: ByteSource,
  pos: number,
  end: number,
  record: SymValue | undefined,
): Promise<number | string> {
  const type = storageTypeOf(record);
  const elementSize = type === undefined ? undefined : storageElementSize(type.module, type.name);
  if (type === undefined || elementSize === undefined) {
    const named = type ? `storage type ${type.module}.${type.name}` : describe(record);
    return `the storage record names ${named}, not a known storage type; its data size is unknown, so the rest of the member was not read.`;
  }
  if (pos + 8 > end) return "the member ends before the storage's element count.";
  const bytes = await source.read(pos, 8);
  const numel = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true);
  const size = numel * BigInt(elementSize);
  if (numel < 0n) return `negative element count ${numel}.`;
  if (BigInt(pos + 8) + size > BigInt(end)) {
    return `the ${type.name} declares ${numel} elements (${size} bytes) but the member ends after ${end - pos - 8}.`;
  }
  return 8 + Number(size);
}

/** Length of a tensor's metadata at `pos`, or why it cannot be skipped. */
async function tensorMetadataBytes(
  source: ByteSource,
  pos: number,
  end: number,
): Promise<number | string> {
  if (pos + 8 > end) return "the member ends before the tensor's dimension count.";
  const bytes = await source.read(pos, 4);
  const ndim = new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
  if (ndim < 0) return `negative dimension count ${ndim}.`;
  const size = 8 + 16 * ndim + 8;
  if (pos + size > end) {
    return `the tensor metadata (${ndim} dimensions, ${size} bytes) runs past the end of the member.`;
  }
  return size;
}
