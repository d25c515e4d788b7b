/**
 * A lenient zip reader, written by hand.
 *
 * Why not a library: the published picklescan bypasses (CVE-2025-1944 renamed local header,
 * CVE-2025-1945 flag bits 0x1/0x20/0x40, CVE-2025-10156 bad CRC, CVE-2025-1889 odd member names)
 * all worked the same way — the scanner used a strict reader (Python's `zipfile`) that refused or
 * misread an archive PyTorch's miniz-based reader loads happily, so the payload was never looked
 * at. This reader is at least as lenient as miniz: it trusts the central directory, ignores CRCs
 * and flag bits for reading, compensates for prepended bytes like Python's `zipfile`, and falls
 * back to walking local headers when there is no usable central directory. Everything a strict
 * reader would trip on is reported as a finding instead of stopping the scan.
 *
 * It reads only the end records, the central directory, and the local headers and data of the
 * members asked for — never the whole file, never to disk.
 */
import { type ByteSource, memorySource, sliceSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import type { Limits } from "../../core/limits.js";
import { err, ok, type Result } from "../../core/result.js";
import type { InflateBudget } from "../types.js";
import { crc32Update } from "./crc32.js";
import { bytesEqual, decodeName } from "./decode-name.js";
import { inflateRaw } from "./inflate.js";
import { ZIP_RULES, type ZipRuleKey } from "./rules.js";

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const EOCD64_SIZE = 56;
const LOCATOR_SIZE = 20;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** Flag bit 0: encrypted (traditional PKWARE). */
export const FLAG_ENCRYPTED = 0x1;
/** Flag bit 3: sizes and CRC follow the data in a data descriptor. */
export const FLAG_DATA_DESCRIPTOR = 0x8;
/** Flag bit 5: compressed patched data. */
export const FLAG_PATCHED = 0x20;
/** Flag bit 6: strong encryption. */
export const FLAG_STRONG_ENCRYPTION = 0x40;
/** The bits Python's zipfile refuses and PyTorch ignores. */
const STRICT_REFUSED_FLAGS = FLAG_ENCRYPTED | FLAG_PATCHED | FLAG_STRONG_ENCRYPTION;

export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
/** WinZip AES: always encrypted. */
const METHOD_AES = 99;

/** Stored members up to this size are read once to check their CRC. */
export const DEFAULT_MAX_CRC_CHECK_BYTES = 64 * 1024 * 1024;
/** Overlap findings kept per archive; the rest are counted in one more. */
const MAX_OVERLAP_FINDINGS = 10;
/** End-record signatures tried, nearest the end first (a tail full of them costs no more). */
const MAX_EOCD_CANDIDATES = 32;
/** Bytes of central directory read per step. */
const CD_WINDOW = 1024 * 1024;

/** One member as the central directory records it. */
export interface ZipEntry {
  /** Position in the central directory, from 0. */
  index: number;
  /** Decoded name (UTF-8 with flag 0x800, else CP437, like Python's zipfile). */
  name: string;
  /** The raw name bytes; names are compared as bytes. */
  nameBytes: Uint8Array;
  /** General-purpose flags from the central directory. */
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Absolute offset of the local header in the source (prepended bytes accounted for). */
  localHeaderOffset: number;
  /** Absolute offset of this entry's central-directory record (or local header if recovered). */
  recordOffset: number;
  /** Name ends with `/`. */
  isDirectory: boolean;
  /** Sizes or offset came from a zip64 extra field. */
  zip64: boolean;
}

export interface ZipArchive {
  source: ByteSource;
  entries: ZipEntry[];
  /** Findings about the archive's structure (not about one member's data). */
  findings: LocalFinding[];
  /** Bytes before the archive that its recorded offsets do not account for. */
  prependedBytes: number;
  /**
   * Bytes before the first member (or the central directory): prepended data, counted in the
   * offsets or not. Such a file is also something else (a pickle, an executable) to a loader
   * that reads it from the start.
   */
  leadingBytes: number;
  zip64: boolean;
  /** Absolute offset of the central directory; -1 when recovered from local headers. */
  centralDirectoryOffset: number;
  /** True when there was no usable central directory and members came from local headers. */
  recovered: boolean;
}

export interface ZipOpenOptions {
  limits: Pick<Limits, "maxArchiveMembers">;
}

/** A member's local header, read when its data is read. */
export interface ZipLocalHeader {
  offset: number;
  nameBytes: Uint8Array;
  name: string;
  flags: number;
  method: number;
  /** Absolute offset of the member's data. */
  dataOffset: number;
}

/** Decompressed bytes left for one archive (or one whole scan), shared across member reads. */
export type { InflateBudget } from "../types.js";

export function createInflateBudget(limits: Pick<Limits, "maxTotalInflatedBytes">): InflateBudget {
  return { remaining: limits.maxTotalInflatedBytes };
}

export interface ZipReadOptions {
  limits: Pick<Limits, "maxMemberBytes">;
  budget: InflateBudget;
  /** Stored members up to this size are read once to check their CRC. @default 64 MiB */
  maxCrcCheckBytes?: number;
}

export interface ZipMember {
  entry: ZipEntry;
  /** The member's bytes: a window of the archive when stored, inflated in memory when deflated. */
  source: ByteSource;
  findings: LocalFinding[];
  /** False when only part of the data could be read (truncated, corrupt, over a limit). */
  complete: boolean;
}

/** Why a member could not be read; `encrypted` when that is the reason. */
export interface ZipMemberError {
  findings: LocalFinding[];
  encrypted: boolean;
}

function finding(
  key: ZipRuleKey,
  message: string,
  offset?: number,
  severity?: LocalFinding["severity"],
): LocalFinding {
  const rule = ZIP_RULES[key];
  return {
    rule: rule.id,
    severity: severity ?? rule.severity,
    message,
    ...(offset === undefined ? {} : { offset }),
  };
}

const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
/** Up to 2^53; larger values come back as Infinity so that every bound check fails. */
const u64 = (b: Uint8Array, at: number): number => {
  const high = u32(b, at + 4);
  return high >= 0x200000 ? Number.POSITIVE_INFINITY : high * 0x100000000 + u32(b, at);
};

/** Reads a span of the source, or undefined when the source ends before it. */
async function readExact(
  source: ByteSource,
  offset: number,
  length: number,
): Promise<Uint8Array | undefined> {
  if (offset < 0 || !Number.isFinite(offset) || offset + length > source.size) return undefined;
  const bytes = await source.read(offset, length);
  return bytes.length === length ? bytes : undefined;
}

/** Random reads within a window that is refilled as needed (the central directory). */
class WindowReader {
  private start = 0;
  private bytes = new Uint8Array(0);

  constructor(private readonly source: ByteSource) {}

  async read(offset: number, length: number): Promise<Uint8Array | undefined> {
    if (offset >= this.start && offset + length <= this.start + this.bytes.length) {
      return this.bytes.subarray(offset - this.start, offset - this.start + length);
    }
    if (offset < 0 || offset + length > this.source.size) return undefined;
    const size = Math.min(this.source.size - offset, Math.max(length, CD_WINDOW));
    this.bytes = (await this.source.read(offset, size)).slice();
    this.start = offset;
    return this.bytes.length >= length ? this.bytes.subarray(0, length) : undefined;
  }
}

interface EndRecord {
  /** Absolute offset of the EOCD (or of the EOCD64 record when zip64): the CD ends before it. */
  cdEnd: number;
  eocdOffset: number;
  count: number;
  cdSize: number;
  cdOffset: number;
  commentLength: number;
  zip64: boolean;
}

/** Positions of every EOCD signature in the last 64 KiB + 22 bytes, nearest the end first. */
export function findEocdSignatures(tail: Uint8Array): number[] {
  const found: number[] = [];
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && u32(tail, i) === SIG_EOCD) found.push(i);
  }
  return found;
}

/** Parses the EOCD at `at` and, when a locator precedes it, the zip64 end record. */
async function readEndRecord(
  source: ByteSource,
  eocd: Uint8Array,
  at: number,
  findings: LocalFinding[],
): Promise<EndRecord> {
  const record: EndRecord = {
    cdEnd: at,
    eocdOffset: at,
    count: u16(eocd, 10),
    cdSize: u32(eocd, 12),
    cdOffset: u32(eocd, 16),
    commentLength: u16(eocd, 20),
    zip64: false,
  };
  const locator = await readExact(source, at - LOCATOR_SIZE, LOCATOR_SIZE);
  if (!locator || u32(locator, 0) !== SIG_EOCD64_LOCATOR) {
    if (record.count === U16_MAX || record.cdSize === U32_MAX || record.cdOffset === U32_MAX) {
      findings.push(
        finding("malformed", "End record has zip64 markers but no zip64 locator", at, "medium"),
      );
    }
    return record;
  }
  // Python's zipfile looks right before the locator; the locator's own offset is the spec's way.
  // Prefer the first, which also works when bytes were prepended.
  const stated = u64(locator, 8);
  for (const candidate of [at - LOCATOR_SIZE - EOCD64_SIZE, stated]) {
    const rec = await readExact(source, candidate, EOCD64_SIZE);
    if (rec && u32(rec, 0) === SIG_EOCD64) {
      record.cdEnd = candidate;
      record.count = u64(rec, 32);
      record.cdSize = u64(rec, 40);
      record.cdOffset = u64(rec, 48);
      record.zip64 = true;
      return record;
    }
  }
  findings.push(
    finding("malformed", "Zip64 locator points at no zip64 end record", at - LOCATOR_SIZE),
  );
  return record;
}

interface CentralLocation {
  start: number;
  prepended: number;
}

/** Where the central directory really is: where the end record says, or shifted by prepended bytes. */
async function locateCentralDirectory(
  source: ByteSource,
  end: EndRecord,
  findings: LocalFinding[],
): Promise<CentralLocation | undefined> {
  const shiftedStart = end.cdEnd - end.cdSize;
  const delta = shiftedStart - end.cdOffset;
  const isCentral = async (at: number): Promise<boolean> => {
    const sig = await readExact(source, at, 4);
    return sig !== undefined && u32(sig, 0) === SIG_CENTRAL;
  };
  if (end.count === 0 && end.cdSize === 0) {
    return {
      start: Math.max(0, Math.min(shiftedStart, source.size)),
      prepended: Math.max(0, delta),
    };
  }
  const atShifted = Number.isFinite(shiftedStart) && (await isCentral(shiftedStart));
  const atStated = delta !== 0 && Number.isFinite(end.cdOffset) && (await isCentral(end.cdOffset));
  if (atShifted) {
    if (atStated) {
      findings.push(
        finding(
          "malformed",
          `Two central directories: at ${end.cdOffset} as recorded and at ${shiftedStart} before the end record; readers differ on which they use`,
          end.cdOffset,
        ),
      );
    }
    if (delta < 0) {
      findings.push(
        finding(
          "malformed",
          `Central directory offset ${end.cdOffset} lies past where it is found (${shiftedStart})`,
          shiftedStart,
          "medium",
        ),
      );
    }
    return { start: shiftedStart, prepended: Math.max(0, delta) };
  }
  if (atStated) {
    findings.push(
      finding(
        "malformed",
        `Central directory size ${end.cdSize} does not match its position (found at ${end.cdOffset})`,
        end.cdOffset,
        "medium",
      ),
    );
    return { start: end.cdOffset, prepended: 0 };
  }
  return undefined;
}

/** Reads sizes and offset from a zip64 extra field (0x0001), in order, for the maxed fields. */
function applyZip64Extra(extra: Uint8Array, entry: ZipEntry): void {
  let at = 0;
  while (at + 4 <= extra.length) {
    const id = u16(extra, at);
    const size = u16(extra, at + 2);
    const body = extra.subarray(at + 4, Math.min(extra.length, at + 4 + size));
    at += 4 + size;
    if (id !== 0x0001) continue;
    let p = 0;
    const next = (): number | undefined => {
      if (p + 8 > body.length) return undefined;
      const v = u64(body, p);
      p += 8;
      return v;
    };
    if (entry.uncompressedSize === U32_MAX) {
      const v = next();
      if (v !== undefined) entry.uncompressedSize = v;
    }
    if (entry.compressedSize === U32_MAX) {
      const v = next();
      if (v !== undefined) entry.compressedSize = v;
    }
    if (entry.localHeaderOffset === U32_MAX) {
      const v = next();
      if (v !== undefined) entry.localHeaderOffset = v;
    }
    entry.zip64 = true;
    return;
  }
}

/** Parses central-directory records from `start` until the signature stops or the end record. */
async function readCentralEntries(
  source: ByteSource,
  start: number,
  end: EndRecord,
  prepended: number,
  maxMembers: number,
  findings: LocalFinding[],
): Promise<ZipEntry[]> {
  const reader = new WindowReader(source);
  const entries: ZipEntry[] = [];
  const declaredEnd = start + end.cdSize;
  let pos = start;
  while (pos + CENTRAL_SIZE <= end.cdEnd) {
    const rec = await reader.read(pos, CENTRAL_SIZE);
    if (!rec || u32(rec, 0) !== SIG_CENTRAL) break;
    if (entries.length >= maxMembers) {
      findings.push(
        finding(
          "limitsExceeded",
          `More than ${maxMembers} members: the rest were not read (maxArchiveMembers)`,
          pos,
        ),
      );
      break;
    }
    const nameLength = u16(rec, 28);
    const extraLength = u16(rec, 30);
    const commentLength = u16(rec, 32);
    const variable = await reader.read(pos + CENTRAL_SIZE, nameLength + extraLength);
    if (!variable) {
      findings.push(finding("malformed", "Central directory record runs past end of file", pos));
      break;
    }
    const nameBytes = variable.slice(0, nameLength);
    const flags = u16(rec, 8);
    const name = decodeName(nameBytes, flags);
    const entry: ZipEntry = {
      index: entries.length,
      name,
      nameBytes,
      flags,
      method: u16(rec, 10),
      crc32: u32(rec, 16),
      compressedSize: u32(rec, 20),
      uncompressedSize: u32(rec, 24),
      localHeaderOffset: u32(rec, 42),
      recordOffset: pos,
      isDirectory: name.endsWith("/"),
      zip64: false,
    };
    applyZip64Extra(variable.subarray(nameLength), entry);
    entry.localHeaderOffset += prepended;
    entries.push(entry);
    pos += CENTRAL_SIZE + nameLength + extraLength + commentLength;
  }
  if (pos > declaredEnd && entries.length > 0) {
    findings.push(
      finding(
        "malformed",
        `Central directory runs ${pos - declaredEnd} bytes past its recorded size; readers disagree on the member list`,
        declaredEnd,
      ),
    );
  }
  const limited = entries.length >= maxMembers;
  if (!limited && entries.length !== end.count && entries.length % 0x10000 !== end.count) {
    findings.push(
      finding(
        "malformed",
        `End record counts ${end.count} members, the central directory holds ${entries.length}; readers disagree on the member list`,
        end.eocdOffset,
      ),
    );
  }
  return entries;
}

/** No usable central directory: walk local headers from the start, as streaming readers do. */
async function recoverFromLocalHeaders(
  source: ByteSource,
  maxMembers: number,
  findings: LocalFinding[],
): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  let pos = 0;
  for (;;) {
    const rec = await readExact(source, pos, LOCAL_SIZE);
    if (!rec || u32(rec, 0) !== SIG_LOCAL) break;
    if (entries.length >= maxMembers) {
      findings.push(
        finding("limitsExceeded", `More than ${maxMembers} members: the rest were not read`, pos),
      );
      break;
    }
    const flags = u16(rec, 6);
    const nameLength = u16(rec, 26);
    const extraLength = u16(rec, 28);
    const variable = await readExact(source, pos + LOCAL_SIZE, nameLength + extraLength);
    if (!variable) break;
    const nameBytes = variable.slice(0, nameLength);
    const name = decodeName(nameBytes, flags);
    const entry: ZipEntry = {
      index: entries.length,
      name,
      nameBytes,
      flags,
      method: u16(rec, 8),
      crc32: u32(rec, 14),
      compressedSize: u32(rec, 18),
      uncompressedSize: u32(rec, 22),
      localHeaderOffset: pos,
      recordOffset: pos,
      isDirectory: name.endsWith("/"),
      zip64: false,
    };
    applyZip64Extra(variable.subarray(nameLength), entry);
    if (flags & FLAG_DATA_DESCRIPTOR && entry.compressedSize === 0) {
      findings.push(
        finding(
          "malformed",
          `Member ${JSON.stringify(name)} has no sizes in its local header and there is no central directory: members from here on were not recovered`,
          pos,
        ),
      );
      entries.push(entry);
      break;
    }
    entries.push(entry);
    pos += LOCAL_SIZE + nameLength + extraLength + entry.compressedSize;
    if (!Number.isFinite(pos)) break;
    if (flags & FLAG_DATA_DESCRIPTOR) {
      const descriptor = await readExact(source, pos, 4);
      pos += descriptor && u32(descriptor, 0) === 0x08074b50 ? 16 : 12;
    }
  }
  return entries;
}

/** Structural checks across entries: duplicates, overlaps, data past the end, prepended bytes. */
function checkEntries(archive: ZipArchive): void {
  const { entries, findings, source } = archive;
  const seen = new Map<string, number>();
  for (const e of entries) {
    const key = Array.from(e.nameBytes).join(",");
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (count === 2) {
      findings.push(
        finding(
          "duplicateName",
          `Member name ${JSON.stringify(e.name)} appears more than once: readers disagree on which one a load opens`,
          e.recordOffset,
        ),
      );
    }
    const dataEnd = e.localHeaderOffset + LOCAL_SIZE + e.nameBytes.length + e.compressedSize;
    if (!(dataEnd <= source.size)) {
      findings.push(
        finding(
          "malformed",
          `Member ${JSON.stringify(e.name)} claims data past the end of the file (local header at ${e.localHeaderOffset}, ${e.compressedSize} bytes)`,
          e.recordOffset,
        ),
      );
    }
  }

  const ranges = entries
    .map((e) => ({
      entry: e,
      start: e.localHeaderOffset,
      end: e.localHeaderOffset + LOCAL_SIZE + e.nameBytes.length + e.compressedSize,
    }))
    .sort((a, b) => a.start - b.start || a.entry.index - b.entry.index);
  let reach: (typeof ranges)[number] | undefined;
  let overlaps = 0;
  for (const r of ranges) {
    if (reach && r.start < reach.end) {
      overlaps++;
      if (overlaps <= MAX_OVERLAP_FINDINGS) {
        findings.push(
          finding(
            "overlap",
            `Members ${JSON.stringify(reach.entry.name)} and ${JSON.stringify(r.entry.name)} overlap in the file`,
            r.start,
          ),
        );
      }
    }
    if (!reach || r.end > reach.end) reach = r;
  }
  if (overlaps > MAX_OVERLAP_FINDINGS) {
    findings.push(
      finding("overlap", `${overlaps - MAX_OVERLAP_FINDINGS} more overlapping members not listed`),
    );
  }

  const first = ranges[0];
  archive.leadingBytes = archive.recovered
    ? 0
    : Math.min(
        first ? first.start : archive.centralDirectoryOffset,
        archive.centralDirectoryOffset,
      );
  if (archive.prependedBytes > 0) {
    findings.push(
      finding(
        "prependedData",
        `${archive.prependedBytes} bytes precede the archive and its offsets do not count them: the file is also something else`,
        0,
      ),
    );
  } else if (first && first.start > 0 && !archive.recovered) {
    findings.push(
      finding(
        "prependedData",
        `${first.start} bytes precede the first member: the file is also something else`,
        0,
      ),
    );
  }
}

/**
 * Opens a zip: finds the end record, the central directory (or recovers members from local
 * headers) and lists the entries. Errors only when nothing zip-like can be found.
 */
export async function openZip(
  source: ByteSource,
  options: ZipOpenOptions,
): Promise<Result<ZipArchive, LocalFinding>> {
  const findings: LocalFinding[] = [];
  const maxMembers = options.limits.maxArchiveMembers;
  const tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = source.size - tailLength;
  const tail = (await source.read(tailStart, tailLength)).slice();
  const candidates = findEocdSignatures(tail).slice(0, MAX_EOCD_CANDIDATES);

  for (const [i, at] of candidates.entries()) {
    const eocdOffset = tailStart + at;
    const candidateFindings: LocalFinding[] = [];
    const end = await readEndRecord(
      source,
      tail.subarray(at, at + EOCD_SIZE),
      eocdOffset,
      candidateFindings,
    );
    const location = await locateCentralDirectory(source, end, candidateFindings);
    if (!location) continue;
    findings.push(...candidateFindings);
    if (i > 0) {
      findings.push(
        finding(
          "malformed",
          `${i} end-record signature(s) after the one used are not valid end records; a reader taking the last one fails`,
          tailStart + candidates[0]!,
          "medium",
        ),
      );
    }
    const trailing = source.size - (eocdOffset + EOCD_SIZE + end.commentLength);
    if (trailing > 0) {
      findings.push(
        finding(
          "malformed",
          `${trailing} bytes follow the end of the archive`,
          source.size - trailing,
          "low",
        ),
      );
    }
    const entries = await readCentralEntries(
      source,
      location.start,
      end,
      location.prepended,
      maxMembers,
      findings,
    );
    const archive: ZipArchive = {
      source,
      entries,
      findings,
      prependedBytes: location.prepended,
      leadingBytes: 0,
      zip64: end.zip64,
      centralDirectoryOffset: location.start,
      recovered: false,
    };
    checkEntries(archive);
    return ok(archive);
  }

  const head = await readExact(source, 0, 4);
  if (head && u32(head, 0) === SIG_LOCAL) {
    findings.push(
      finding(
        "malformed",
        candidates.length === 0
          ? "No end of central directory record: PyTorch and Python's zipfile refuse this file; members were recovered from local headers"
          : "No usable central directory: PyTorch and Python's zipfile refuse this file; members were recovered from local headers",
        candidates.length === 0 ? undefined : tailStart + candidates[0]!,
      ),
    );
    const entries = await recoverFromLocalHeaders(source, maxMembers, findings);
    const archive: ZipArchive = {
      source,
      entries,
      findings,
      prependedBytes: 0,
      leadingBytes: 0,
      zip64: entries.some((e) => e.zip64),
      centralDirectoryOffset: -1,
      recovered: true,
    };
    checkEntries(archive);
    return ok(archive);
  }
  return err(
    finding(
      "malformed",
      candidates.length === 0
        ? "No end of central directory record: not a readable zip"
        : "End record found but no central directory where it points",
      candidates.length === 0 ? undefined : tailStart + candidates[0]!,
    ),
  );
}

/** Reads and checks a member's local header. */
export async function readLocalHeader(
  archive: ZipArchive,
  entry: ZipEntry,
): Promise<Result<ZipLocalHeader, LocalFinding>> {
  const at = entry.localHeaderOffset;
  const rec = await readExact(archive.source, at, LOCAL_SIZE);
  if (!rec || u32(rec, 0) !== SIG_LOCAL) {
    return err(
      finding(
        "malformed",
        `Member ${JSON.stringify(entry.name)}: no local header at ${at}; it cannot be read`,
        entry.recordOffset,
      ),
    );
  }
  const flags = u16(rec, 6);
  const nameLength = u16(rec, 26);
  const extraLength = u16(rec, 28);
  const nameBytes = (await readExact(archive.source, at + LOCAL_SIZE, nameLength))?.slice();
  if (!nameBytes) {
    return err(
      finding(
        "malformed",
        `Member ${JSON.stringify(entry.name)}: local header runs past end of file`,
        at,
      ),
    );
  }
  return ok({
    offset: at,
    nameBytes,
    name: decodeName(nameBytes, flags),
    flags,
    method: u16(rec, 8),
    dataOffset: at + LOCAL_SIZE + nameLength + extraLength,
  });
}

async function crcOfSource(source: ByteSource): Promise<number> {
  let crc = 0;
  for (let pos = 0; pos < source.size; pos += CD_WINDOW) {
    const chunk = await source.read(pos, Math.min(CD_WINDOW, source.size - pos));
    if (chunk.length === 0) break;
    crc = crc32Update(crc, chunk);
  }
  return crc;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`;

/**
 * Reads one member the way PyTorch's reader does: central sizes and method, local header only
 * for the data offset; CRC and flag bits ignored for reading but reported. Encrypted members
 * (flag 0x1/0x40 whose data does not read as plain) come back as an error with `encrypted`.
 */
export async function readZipMember(
  archive: ZipArchive,
  entry: ZipEntry,
  options: ZipReadOptions,
): Promise<Result<ZipMember, ZipMemberError>> {
  const findings: LocalFinding[] = [];
  const quoted = JSON.stringify(entry.name);
  const local = await readLocalHeader(archive, entry);
  if (!local.ok) return err({ findings: [local.error], encrypted: false });
  const header = local.value;
  if (!bytesEqual(header.nameBytes, entry.nameBytes)) {
    findings.push(
      finding(
        "nameMismatch",
        `Member ${quoted} is named ${JSON.stringify(header.name)} in its local header: PyTorch reads it by the central name, Python's zipfile refuses it (CVE-2025-1944)`,
        header.offset,
      ),
    );
  }
  if (header.method !== entry.method && !archive.recovered) {
    findings.push(
      finding(
        "malformed",
        `Member ${quoted}: local header says method ${header.method}, central directory ${entry.method}; read as ${entry.method}`,
        header.offset,
        "medium",
      ),
    );
  }

  const flags = entry.flags | header.flags;
  const claimsEncryption = (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) !== 0;
  const encryptedError = (): Result<never, ZipMemberError> =>
    err({
      findings: [
        ...findings,
        finding(
          "encrypted",
          `Member ${quoted} is encrypted and cannot be analysed`,
          entry.localHeaderOffset,
        ),
      ],
      encrypted: true,
    });

  if (entry.method === METHOD_AES) return encryptedError();
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATE) {
    if (claimsEncryption) return encryptedError();
    return err({
      findings: [
        ...findings,
        finding(
          "unsupportedMethod",
          `Member ${quoted} uses compression method ${entry.method}, which PyTorch cannot read either; it was not analysed`,
          entry.localHeaderOffset,
        ),
      ],
      encrypted: false,
    });
  }

  const available = Math.max(
    0,
    Math.min(entry.compressedSize, archive.source.size - header.dataOffset),
  );
  let complete = true;
  if (available < entry.compressedSize) {
    complete = false;
    findings.push(
      finding(
        "malformed",
        `Member ${quoted} is truncated: ${entry.compressedSize} bytes recorded, ${available} in the file`,
        header.dataOffset,
      ),
    );
  }

  let source: ByteSource;
  let crc: number | undefined;
  let readsAsPlain: boolean;
  if (entry.method === METHOD_STORED) {
    source = sliceSource(archive.source, header.dataOffset, available);
    const maxCrc = options.maxCrcCheckBytes ?? DEFAULT_MAX_CRC_CHECK_BYTES;
    if (complete && available <= maxCrc) crc = await crcOfSource(source);
    // Traditional encryption adds a 12-byte header to stored data, so sizes differ.
    readsAsPlain =
      entry.compressedSize === entry.uncompressedSize && (crc === undefined || crc === entry.crc32);
    if (entry.compressedSize !== entry.uncompressedSize && !claimsEncryption) {
      findings.push(
        finding(
          "malformed",
          `Stored member ${quoted} records ${entry.compressedSize} bytes stored but ${entry.uncompressedSize} uncompressed; read ${available}`,
          header.dataOffset,
          "medium",
        ),
      );
    }
  } else {
    const fromBudget = options.budget.remaining < options.limits.maxMemberBytes;
    const cap = Math.max(0, Math.min(options.limits.maxMemberBytes, options.budget.remaining));
    const outcome = await inflateRaw(archive.source, header.dataOffset, available, {
      maxOutput: cap,
      sizeHint: Math.min(entry.uncompressedSize, cap),
    });
    options.budget.remaining -= outcome.bytes.length;
    source = memorySource(outcome.bytes);
    if (outcome.stop === "end") {
      crc = crc32Update(0, outcome.bytes);
      if (outcome.bytes.length !== entry.uncompressedSize && !claimsEncryption) {
        findings.push(
          finding(
            "malformed",
            `Member ${quoted} inflates to ${outcome.bytes.length} bytes, ${entry.uncompressedSize} recorded`,
            header.dataOffset,
            "medium",
          ),
        );
      }
    } else {
      complete = false;
    }
    readsAsPlain =
      outcome.stop === "end" &&
      outcome.bytes.length === entry.uncompressedSize &&
      crc === entry.crc32;
    if (outcome.stop === "limit") {
      findings.push(
        finding(
          "limitsExceeded",
          fromBudget
            ? `Member ${quoted}: total decompressed bytes for this archive reached the limit (maxTotalInflatedBytes); analysed the first ${outcome.bytes.length} bytes`
            : `Member ${quoted} inflates past ${cap} bytes (maxMemberBytes); analysed the first ${cap} bytes`,
          header.dataOffset,
        ),
      );
    } else if (outcome.stop === "ratio") {
      findings.push(
        finding(
          "bomb",
          `Member ${quoted} inflates ${outcome.bytes.length} bytes from ${outcome.consumed}: decompression stopped`,
          header.dataOffset,
        ),
      );
    } else if (outcome.stop === "error" && !claimsEncryption) {
      findings.push(
        finding(
          "malformed",
          `Member ${quoted}: deflate data is corrupt (${outcome.error ?? "error"}) after ${outcome.bytes.length} bytes; analysed those`,
          header.dataOffset,
        ),
      );
    }
  }

  if (claimsEncryption && !readsAsPlain) return encryptedError();
  const refused = flags & STRICT_REFUSED_FLAGS;
  if (refused) {
    findings.push(
      finding(
        "flagBits",
        `Member ${quoted} has flag bits 0x${refused.toString(16)} set (${describeFlags(refused)}) but its data reads as plain: PyTorch ignores them, Python's zipfile refuses the member (CVE-2025-1945)`,
        header.offset,
      ),
    );
  }
  if (crc !== undefined && crc !== entry.crc32) {
    findings.push(
      finding(
        "crcMismatch",
        `Member ${quoted}: CRC-32 is ${hex(crc)}, ${hex(entry.crc32)} recorded: PyTorch ignores it, strict readers refuse the member (CVE-2025-10156)`,
        header.dataOffset,
      ),
    );
  }
  return ok({ entry, source, findings, complete });
}

function describeFlags(bits: number): string {
  const names: string[] = [];
  if (bits & FLAG_ENCRYPTED) names.push("encrypted");
  if (bits & FLAG_PATCHED) names.push("patched data");
  if (bits & FLAG_STRONG_ENCRYPTION) names.push("strong encryption");
  return names.join(", ");
}
