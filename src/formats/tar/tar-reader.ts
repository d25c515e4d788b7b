/**
 * A bounded tar reader over a {@link ByteSource}, written by hand rather than taken from a library
 * because it must read exactly like the victim's loader: `torch.load` opens PyTorch's legacy
 * checkpoints with Python's `tarfile`, which is lenient in specific ways (it stops silently at a
 * bad header after the first, reads unknown member types as files, ignores the size of links and
 * directories, lets pax and GNU long-name headers override names and sizes, accepts base-256
 * numbers), and a scanner that reads differently can be shown different members. It must also
 * say what is dangerous in the archive rather than extract it, and never read a member's data:
 * members are handed back as offsets, and only headers and extended headers are read.
 *
 * Dialects: v7, ustar (with the name prefix), GNU (`././@LongLink` 'L'/'K' headers, old sparse
 * 'S' members — located and reported, not decoded), pax ('x'/'X' per-member and 'g' global
 * extended headers with `path`, `linkpath` and `size` overrides), base-256 numeric fields. The
 * behaviour follows CPython 3.11's `tarfile` (`TarInfo.frombuf`, `_proc_member`, `TarFile.next`).
 */

import type { ByteSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import type { Limits } from "../../core/limits.js";
import { err, ok, type Result } from "../../core/result.js";
import { decodeSurrogateEscape } from "./decode-surrogateescape.js";
import { TAR_RULES, type TarRuleKey } from "./rules.js";

export const TAR_BLOCK = 512;
/** Extended headers (pax, GNU long names) nested in front of one member before we give up. */
export const MAX_EXTENSION_CHAIN = 256;
/** GNU sparse extension blocks followed for one member before we give up. */
const MAX_SPARSE_BLOCKS = 65_536;

/** `ustar\0` — POSIX ustar (and pax); `ustar  \0` — GNU. Both at offset 257. */
const USTAR_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72];

export type TarEntryKind =
  | "file"
  | "hardlink"
  | "symlink"
  | "chardev"
  | "blockdev"
  | "directory"
  | "fifo"
  | "sparse";

export type TarDialect = "v7" | "ustar" | "gnu" | "pax";

export interface TarEntry {
  /** The name Python's tarfile gives the member (long names, prefix and pax `path` applied). */
  name: string;
  /** The type flag as written (`"0"`, `"5"`, `"x"`…; `""` for the old NUL flag). */
  typeFlag: string;
  kind: TarEntryKind;
  /** True when the type flag is one Python's tarfile does not know (it reads it as a file). */
  unknownType: boolean;
  /** Bytes Python's `extractfile` returns for it (pax overrides applied). */
  size: number;
  /** Link target for hard and symbolic links (long link names and pax `linkpath` applied). */
  linkName: string;
  /** Offset of the member's first header (its pax or GNU long-name header when it has one). */
  headerOffset: number;
  /** Offset of its data, after its last header block. */
  dataOffset: number;
  /** True when Python's tarfile reads it as a file (regular, contiguous, unknown type). */
  readable: boolean;
  /** Data bytes present before the end of the source (less than `size` when truncated). */
  available: number;
}

/** Why reading stopped. */
export type TarEnding =
  /** A zero block: the end-of-archive marker. */
  | "end-marker"
  /** The source ended at a header boundary (no marker; Python's tarfile accepts that). */
  | "eof"
  /** A header Python's tarfile rejects; it stops there silently (or refuses the archive). */
  | "invalid-header"
  /** The source ends inside a header or a member's data. */
  | "truncated"
  /** `maxArchiveMembers` was reached. */
  | "limit";

export interface TarArchive {
  source: ByteSource;
  entries: TarEntry[];
  /** Structural findings: malformed or truncated headers, differentials, limits. */
  findings: LocalFinding[];
  /** Where Python's tarfile stops reading: the end marker, the bad header, or the end of the last member. */
  end: number;
  ending: TarEnding;
  dialects: TarDialect[];
}

export interface TarReadOptions {
  /** `maxArchiveMembers` bounds the members; extended headers over `maxDecodedArgument` are not read. */
  limits: Pick<Limits, "maxArchiveMembers" | "maxDecodedArgument">;
}

function finding(
  key: TarRuleKey,
  message: string,
  offset?: number,
  severity?: LocalFinding["severity"],
): LocalFinding {
  const rule = TAR_RULES[key];
  return {
    rule: rule.id,
    severity: severity ?? rule.severity,
    message,
    ...(offset === undefined ? {} : { offset }),
  };
}

/** Rounds a size up to whole blocks, as `TarInfo._block` does. */
export function blockSize(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

// ---------------------------------------------------------------------------------------------
// Header fields
// ---------------------------------------------------------------------------------------------

/** The bytes up to the first NUL (`nts`). */
function untilNul(bytes: Uint8Array): Uint8Array {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

/** A name field: up to the first NUL, UTF-8 with Python's `surrogateescape`. */
export function decodeName(bytes: Uint8Array): string {
  return decodeSurrogateEscape(untilNul(bytes));
}

/** ASCII characters Python's `str.strip()` removes: \t \n \v \f \r, 0x1C–0x1F and space. */
const isPySpace = (code: number): boolean =>
  (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f) || code === 0x20;
/** What Python's `int(text, 8)` accepts: sign, optional `0o`, digits with single underscores. */
const PY_OCTAL = /^([+-]?)(?:0[oO]_?)?([0-7](?:_?[0-7])*)$/;

/**
 * A numeric header field (`nti`): base-256 when the first byte is 0x80 or 0xFF (0xFF negative),
 * otherwise ASCII octal up to the first NUL, surrounding white space ignored, empty meaning 0.
 * `undefined` where Python raises `InvalidHeaderError`.
 */
export function parseNumericField(field: Uint8Array): number | undefined {
  const first = field[0];
  if (first === 0x80 || first === 0xff) {
    let n = 0n;
    for (let i = 1; i < field.length; i++) n = (n << 8n) | BigInt(field[i]!);
    if (first === 0xff) n -= 256n ** BigInt(field.length - 1);
    return Number(n);
  }
  const raw = untilNul(field);
  if (raw.some((b) => b > 0x7f)) return undefined; // nts(..., "ascii", "strict") raises
  let from = 0;
  let to = raw.length;
  while (from < to && isPySpace(raw[from]!)) from++;
  while (to > from && isPySpace(raw[to - 1]!)) to--;
  const text = String.fromCharCode(...raw.subarray(from, to));
  if (text === "") return 0;
  const m = PY_OCTAL.exec(text);
  if (!m) return undefined;
  const value = Number.parseInt(m[2]!.replaceAll("_", ""), 8);
  return m[1] === "-" ? -value : value;
}

/** `calc_chksums`: the header's sum with the checksum field as spaces, unsigned and signed. */
export function headerChecksums(block: Uint8Array): [number, number] {
  let unsigned = 256;
  let signed = 256;
  for (let i = 0; i < TAR_BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i] ?? 0;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return [unsigned, signed];
}

/** True when `block` is a tar header whose checksum Python's tarfile accepts. */
export function hasValidChecksum(block: Uint8Array): boolean {
  if (block.length < TAR_BLOCK) return false;
  const stored = parseNumericField(block.subarray(148, 156));
  if (stored === undefined) return false;
  const [unsigned, signed] = headerChecksums(block);
  return stored === unsigned || stored === signed;
}

/** True when `block` carries the ustar magic at offset 257 (POSIX or GNU). */
export function hasUstarMagic(block: Uint8Array): boolean {
  return USTAR_MAGIC.every((b, i) => block[257 + i] === b);
}

function isAllZero(block: Uint8Array): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

/** Type flags Python's tarfile knows; any other is read as a regular file. */
const KINDS: Readonly<Record<string, TarEntryKind>> = {
  "": "file",
  "0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "chardev",
  "4": "blockdev",
  "5": "directory",
  "6": "fifo",
  S: "sparse",
};
const GNU_TYPES = new Set(["L", "K", "S"]);
const PAX_TYPES = new Set(["x", "g", "X"]);

/** The fields of one header block, as `TarInfo.frombuf` reads them. */
interface RawHeader {
  name: string;
  typeFlag: string;
  size: number;
  /** Old GNU sparse: the file's real size (`extractfile` returns this many bytes). */
  realSize?: number;
  linkName: string;
  magic: "ustar" | "gnu" | "v7";
}

function parseHeader(block: Uint8Array): Result<RawHeader, string> {
  const stored = parseNumericField(block.subarray(148, 156));
  if (stored === undefined) return err("the checksum field is not a number");
  const [unsigned, signed] = headerChecksums(block);
  if (stored !== unsigned && stored !== signed) {
    return err(`bad checksum (stored ${stored}, computed ${unsigned})`);
  }
  // frombuf parses every numeric field; any invalid one is an InvalidHeaderError.
  const numeric: [string, number, number][] = [
    ["mode", 100, 108],
    ["uid", 108, 116],
    ["gid", 116, 124],
    ["size", 124, 136],
    ["mtime", 136, 148],
    ["devmajor", 329, 337],
    ["devminor", 337, 345],
  ];
  let size = 0;
  for (const [field, from, to] of numeric) {
    const value = parseNumericField(block.subarray(from, to));
    if (value === undefined) return err(`the ${field} field is not a number`);
    if (field === "size") size = value;
  }
  const flagByte = block[156]!;
  let typeFlag = flagByte === 0 ? "" : String.fromCharCode(flagByte);
  // Old GNU sparse: four (offset, size) pairs from 386 and the real size at 483, all numbers.
  if (typeFlag === "S" && !sparseFieldsValid(block, 386, 4, 483)) {
    return err("a GNU sparse header field is not a number");
  }
  let name = decodeName(block.subarray(0, 100));
  const linkName = decodeName(block.subarray(157, 257));
  const prefix = decodeName(block.subarray(345, 500));
  const magic = !hasUstarMagic(block) ? "v7" : block[262] === 0 ? "ustar" : "gnu";
  // Old V7 tar format represents a directory as a regular file with a trailing slash.
  if (typeFlag === "" && name.endsWith("/")) typeFlag = "5";
  if (typeFlag === "5") name = name.replace(/\/+$/, "");
  if (prefix !== "" && !GNU_TYPES.has(typeFlag)) name = `${prefix}/${name}`;
  const realSize = typeFlag === "S" ? parseNumericField(block.subarray(483, 495)) : undefined;
  return ok({
    name,
    typeFlag,
    size,
    linkName,
    magic,
    ...(realSize === undefined ? {} : { realSize }),
  });
}

/** `count` sparse (offset, size) pairs from `at` (and an optional real size) are all numbers. */
function sparseFieldsValid(
  block: Uint8Array,
  at: number,
  count: number,
  realSizeAt?: number,
): boolean {
  for (let i = 0; i < count; i++) {
    const pos = at + i * 24;
    if (parseNumericField(block.subarray(pos, pos + 12)) === undefined) return false;
    if (parseNumericField(block.subarray(pos + 12, pos + 24)) === undefined) return false;
  }
  return (
    realSizeAt === undefined ||
    parseNumericField(block.subarray(realSizeAt, realSizeAt + 12)) !== undefined
  );
}

// ---------------------------------------------------------------------------------------------
// pax records
// ---------------------------------------------------------------------------------------------

/**
 * Parses pax records `"<length> <keyword>=<value>\n"` into `into`, as CPython's `tarfile` does
 * since the 2024 hardening (also in Debian's 3.11): records run until the data ends or a NUL;
 * each must have a 1–20 digit length of at least 5 that stays inside the data, a non-empty
 * keyword, `=`, and end in a newline. Returns false where Python raises `InvalidHeaderError`.
 */
export function parsePaxRecords(buf: Uint8Array, into: Map<string, string>): boolean {
  const records: [Uint8Array, Uint8Array][] = [];
  let pos = 0;
  while (pos < buf.length && buf[pos] !== 0) {
    let p = pos;
    while (p < buf.length && p - pos < 21 && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
    const digits = p - pos;
    if (digits === 0 || digits > 20 || buf[p] !== 0x20) return false;
    const length = Number(String.fromCharCode(...buf.subarray(pos, p)));
    if (length < 5 || pos + length > buf.length) return false;
    const last = pos + length - 1;
    const body = buf.subarray(p + 1, last);
    const eq = body.indexOf(0x3d);
    if (eq <= 0 || buf[last] !== 0x0a) return false;
    records.push([body.subarray(0, eq), body.subarray(eq + 1)]);
    pos += length;
  }
  for (const [keyword, value] of records) {
    into.set(decodeSurrogateEscape(keyword), decodeSurrogateEscape(value));
  }
  return true;
}

/** Python's `int(value)` for pax number fields: decimal with sign, white space, underscores. */
function parsePaxInt(value: string): number | undefined {
  const m = /^\s*([+-]?)(\d(?:_?\d)*)\s*$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[2]!.replaceAll("_", ""));
  return m[1] === "-" ? -n : n;
}

// ---------------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------------

/** A header `fromtarfile` could not read, with the exception Python would raise. */
interface HeaderFailure {
  kind: "empty" | "truncated" | "zero" | "invalid" | "limit";
  reason: string;
  offset: number;
  /** It was the header after an extended header: Python refuses the whole archive. */
  subsequent?: boolean;
}

interface Parsed {
  entry: TarEntry;
  /** Where the next header starts. */
  next: number;
}

type MemberRead = { ok: true; value: Parsed } | { ok: false; failure: HeaderFailure };

interface ReaderState {
  source: ByteSource;
  maxExtended: number;
  /** Global pax headers (`g`), applied to every following member. */
  globals: Map<string, string>;
  dialects: Set<TarDialect>;
  findings: LocalFinding[];
}

const failed = (failure: HeaderFailure): MemberRead => ({ ok: false, failure });

/** `TarInfo.fromtarfile` + `_proc_member`: one member and the extended headers before it. */
async function readMember(state: ReaderState, offset: number, chain: number): Promise<MemberRead> {
  if (chain > MAX_EXTENSION_CHAIN) {
    return failed({
      kind: "limit",
      reason: `more than ${MAX_EXTENSION_CHAIN} extended headers in a row`,
      offset,
    });
  }
  const block = await state.source.read(offset, TAR_BLOCK);
  if (block.length === 0) return failed({ kind: "empty", reason: "end of file", offset });
  if (block.length < TAR_BLOCK) {
    return failed({ kind: "truncated", reason: "the file ends inside a header", offset });
  }
  if (isAllZero(block)) return failed({ kind: "zero", reason: "end-of-archive marker", offset });
  const parsed = parseHeader(block);
  if (!parsed.ok) return failed({ kind: "invalid", reason: parsed.error, offset });
  const header = parsed.value;
  state.dialects.add(header.magic);
  if (header.typeFlag === "L" || header.typeFlag === "K") {
    state.dialects.add("gnu");
    return readGnuLong(state, offset, header, chain);
  }
  if (PAX_TYPES.has(header.typeFlag)) {
    state.dialects.add("pax");
    return readPax(state, offset, header, chain);
  }
  return readBuiltin(state, offset, header);
}

async function readExtendedData(
  state: ReaderState,
  offset: number,
  header: RawHeader,
): Promise<Result<Uint8Array, HeaderFailure>> {
  if (header.size < 0) {
    return err({ kind: "invalid", reason: `negative extended header size ${header.size}`, offset });
  }
  if (header.size > state.maxExtended) {
    return err({
      kind: "limit",
      reason: `an extended header of ${header.size} bytes (over maxDecodedArgument = ${state.maxExtended})`,
      offset,
    });
  }
  // Python reads whole blocks, padding included, and parses what it got.
  return ok(await state.source.read(offset + TAR_BLOCK, blockSize(header.size)));
}

async function readFollowing(state: ReaderState, at: number, chain: number): Promise<MemberRead> {
  const next = await readMember(state, at, chain + 1);
  if (next.ok || next.failure.kind === "limit") return next;
  return failed({ ...next.failure, subsequent: true });
}

/** GNU `././@LongLink`: the data is the next member's name ('L') or link target ('K'). */
async function readGnuLong(
  state: ReaderState,
  offset: number,
  header: RawHeader,
  chain: number,
): Promise<MemberRead> {
  const data = await readExtendedData(state, offset, header);
  if (!data.ok) return failed(data.error);
  const next = await readFollowing(state, offset + TAR_BLOCK + blockSize(header.size), chain);
  if (!next.ok) return next;
  const value = decodeName(data.value);
  const entry = next.value.entry;
  entry.headerOffset = offset;
  if (header.typeFlag === "L") entry.name = value;
  else entry.linkName = value;
  if (entry.kind === "directory" && entry.name.endsWith("/")) entry.name = entry.name.slice(0, -1);
  return next;
}

/** pax `x`/`X` (next member) and `g` (all following members) extended headers. */
async function readPax(
  state: ReaderState,
  offset: number,
  header: RawHeader,
  chain: number,
): Promise<MemberRead> {
  const data = await readExtendedData(state, offset, header);
  if (!data.ok) return failed(data.error);
  const isGlobal = header.typeFlag === "g";
  const records = isGlobal ? state.globals : new Map(state.globals);
  const before = new Map(state.globals);
  if (!parsePaxRecords(data.value, records)) {
    return failed({ kind: "invalid", reason: "a malformed pax record", offset });
  }
  if (isGlobal) {
    for (const key of ["path", "linkpath", "size"]) {
      if (records.get(key) !== before.get(key) && records.has(key)) {
        state.findings.push(
          finding(
            "differential",
            `A global pax header at offset ${offset} sets "${key}" for every member that follows; readers that ignore global headers see other names and sizes.`,
            offset,
          ),
        );
      }
    }
  }
  const next = await readFollowing(state, offset + TAR_BLOCK + blockSize(header.size), chain);
  if (!next.ok || isGlobal) return next;
  const entry = next.value.entry;
  applyPax(entry, records);
  entry.headerOffset = offset;
  if ([...records.keys()].some((k) => k.startsWith("GNU.sparse."))) entry.kind = "sparse";
  if (records.has("size")) {
    if (entry.readable && entry.size < 0) {
      return failed({
        kind: "invalid",
        reason: `a pax header sets a negative size ${entry.size}`,
        offset,
      });
    }
    next.value.next = entry.dataOffset + (entry.readable ? blockSize(entry.size) : 0);
  }
  return next;
}

/** `_apply_pax_info`: `path`, `linkpath` and `size` (an invalid size counts as 0). */
function applyPax(entry: TarEntry, records: ReadonlyMap<string, string>): void {
  for (const [keyword, value] of records) {
    if (keyword === "path" || keyword === "GNU.sparse.name") {
      entry.name = keyword === "path" ? value.replace(/\/+$/, "") : value;
    } else if (keyword === "linkpath") {
      entry.linkName = value;
    } else if (
      keyword === "size" ||
      keyword === "GNU.sparse.size" ||
      keyword === "GNU.sparse.realsize"
    ) {
      entry.size = parsePaxInt(value) ?? 0;
    }
  }
  if (entry.kind === "directory") entry.name = entry.name.replace(/\/+$/, "");
}

/** `_proc_builtin` (and `_proc_sparse` for old GNU sparse members). */
async function readBuiltin(
  state: ReaderState,
  offset: number,
  header: RawHeader,
): Promise<MemberRead> {
  const known = KINDS[header.typeFlag];
  const kind = known ?? "file";
  let dataOffset = offset + TAR_BLOCK;
  if (kind === "sparse") {
    state.dialects.add("gnu");
    // Old GNU sparse: a flag at 482 says extension blocks of sparse entries follow the header.
    let extended = (await state.source.read(offset + 482, 1))[0] ?? 0;
    for (let blocks = 0; extended !== 0; blocks++) {
      if (blocks >= MAX_SPARSE_BLOCKS) {
        return failed({ kind: "limit", reason: "too many GNU sparse extension blocks", offset });
      }
      const ext = await state.source.read(dataOffset, TAR_BLOCK);
      if (ext.length < TAR_BLOCK) {
        return failed({
          kind: "truncated",
          reason: "the file ends inside a sparse header",
          offset,
        });
      }
      if (!sparseFieldsValid(ext, 0, 21)) {
        return failed({
          kind: "invalid",
          reason: "a GNU sparse extension field is not a number",
          offset,
        });
      }
      extended = ext[504]!;
      dataOffset += TAR_BLOCK;
    }
  }
  // Python skips data only for regular files and unknown types; it reads the next header right
  // after a link's, directory's or device's header whatever its size field says.
  const readable = kind === "file" || kind === "sparse";
  if (readable && header.size < 0) {
    return failed({ kind: "invalid", reason: `negative member size ${header.size}`, offset });
  }
  if (!readable && header.size !== 0) {
    state.findings.push(
      finding(
        "differential",
        `Member "${header.name}" (type '${header.typeFlag}') at offset ${offset} declares ${header.size} data bytes: Python's tarfile ignores them and reads the next header there; readers that skip them see other members.`,
        offset,
      ),
    );
  }
  const next = dataOffset + (readable ? blockSize(header.size) : 0);
  const entry: TarEntry = {
    name: header.name,
    typeFlag: header.typeFlag,
    kind,
    unknownType: known === undefined,
    size: header.realSize ?? header.size,
    linkName: header.linkName,
    headerOffset: offset,
    dataOffset,
    readable,
    available: 0,
  };
  if (state.globals.size > 0) {
    const headerSize = header.size;
    applyPax(entry, state.globals);
    if (entry.size !== headerSize && readable) {
      state.findings.push(
        finding(
          "differential",
          `Member "${entry.name}" at offset ${offset}: a global pax header makes its size ${entry.size} while the next header is found after ${headerSize} bytes; its data overlaps other members.`,
          offset,
        ),
      );
    }
  }
  return { ok: true, value: { entry, next } };
}

// ---------------------------------------------------------------------------------------------
// The archive
// ---------------------------------------------------------------------------------------------

/**
 * Lists the members of a tar archive as Python's `tarfile` would, reading headers only. Fails
 * (as a finding) only when the first header is not a tar header at all; anything later is a
 * finding and reading stops where Python's tarfile stops. Never throws on bad input.
 */
export async function openTar(
  source: ByteSource,
  options: TarReadOptions,
): Promise<Result<TarArchive, LocalFinding>> {
  const { limits } = options;
  const state: ReaderState = {
    source,
    maxExtended: limits.maxDecodedArgument,
    globals: new Map(),
    dialects: new Set(),
    findings: [],
  };
  const entries: TarEntry[] = [];
  let offset = 0;
  let ending: TarEnding;
  for (;;) {
    const read = await readMember(state, offset, 0);
    if (!read.ok) {
      const f = read.failure;
      const emptyArchive = f.kind === "zero" && f.subsequent !== true;
      if (offset === 0 && f.kind !== "limit" && !emptyArchive) {
        return err(
          finding(
            "malformed",
            `Not a readable tar archive: ${f.reason} at offset ${f.offset}.`,
            f.offset,
          ),
        );
      }
      ending = endingOf(f, state.findings, source.size);
      break;
    }
    if (entries.length >= limits.maxArchiveMembers) {
      state.findings.push(
        finding(
          "limitsExceeded",
          `More than ${limits.maxArchiveMembers} members: the rest were not read (maxArchiveMembers).`,
          offset,
        ),
      );
      ending = "limit";
      break;
    }
    const { entry, next } = read.value;
    entry.available = Math.max(0, Math.min(entry.size, source.size - entry.dataOffset));
    entries.push(entry);
    if (entry.readable && entry.available < entry.size) {
      state.findings.push(
        finding(
          "truncated",
          `Member "${entry.name}" declares ${entry.size} bytes but the file ends after ${entry.available}: Python's tarfile fails reading it ("unexpected end of data"); the part present was analysed.`,
          entry.dataOffset,
        ),
      );
      offset = source.size;
      ending = "truncated";
      break;
    }
    if (next > source.size) {
      state.findings.push(
        finding(
          "truncated",
          `The file ends inside the padding after member "${entry.name}": Python's tarfile raises "unexpected end of data" when it looks for the next header.`,
          source.size,
          "medium",
        ),
      );
    }
    offset = next;
    if (offset >= source.size) {
      ending = "eof";
      offset = source.size;
      break;
    }
  }
  const dialects: TarDialect[] = (["v7", "ustar", "gnu", "pax"] as const).filter((d) =>
    state.dialects.has(d),
  );
  return ok({ source, entries, findings: state.findings, end: offset, ending, dialects });
}

function endingOf(f: HeaderFailure, findings: LocalFinding[], size: number): TarEnding {
  const after = f.subsequent
    ? "It follows an extended header, so Python's tarfile refuses the whole archive (torch.load then falls back to its non-tar readers)."
    : "Python's tarfile stops reading here without an error: members after it are hidden from it.";
  switch (f.kind) {
    case "zero":
      if (f.subsequent) {
        findings.push(
          finding(
            "malformed",
            `An extended header at the end of the archive is followed by the end-of-archive marker (offset ${f.offset}). ${after}`,
            f.offset,
          ),
        );
        return "invalid-header";
      }
      return "end-marker";
    case "empty":
      if (f.subsequent) {
        findings.push(
          finding(
            "truncated",
            `The file ends after an extended header (offset ${f.offset}). ${after}`,
            f.offset,
          ),
        );
        return "truncated";
      }
      return "eof";
    case "truncated":
      findings.push(
        finding(
          "truncated",
          `The file ends inside a header at offset ${f.offset} (${size - f.offset} of 512 bytes). ${f.subsequent ? after : ""}`.trim(),
          f.offset,
        ),
      );
      return "truncated";
    case "invalid":
      findings.push(
        finding(
          "malformed",
          `Invalid tar header at offset ${f.offset}: ${f.reason}. ${after}`,
          f.offset,
        ),
      );
      return "invalid-header";
    case "limit":
      findings.push(
        finding(
          "limitsExceeded",
          `Reading stopped at offset ${f.offset}: ${f.reason}. The rest was not read.`,
          f.offset,
        ),
      );
      return "limit";
  }
}
