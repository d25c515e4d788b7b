/** Parsing of `7zz l -slt` output and a look at the 7z start header, without running anything. */

export interface SevenZipListedEntry {
  path: string;
  /** Uncompressed size; 0 when 7-Zip prints none. */
  size: number;
  isDirectory: boolean;
  encrypted: boolean;
}

export interface SevenZipListing {
  entries: SevenZipListedEntry[];
  /**
   * Every `Size = N` line among the entries, however the blocks parse: a name with a line break
   * in it cannot hide a size from the limit checks.
   */
  sizes: number[];
  /** Lines in which 7-Zip reports errors or warnings about the archive. */
  problems: string[];
}

const SEPARATOR = "----------";
const PROBLEM = /error|warning|unexpected|can ?not|unsupported|is not/i;

/** Parses the technical listing (`-slt`): `Key = Value` blocks after a `----------` line. */
export function parseSltListing(lines: readonly string[]): SevenZipListing {
  const entries: SevenZipListedEntry[] = [];
  const sizes: number[] = [];
  const problems: string[] = [];
  const start = lines.indexOf(SEPARATOR);
  // Problems are lines that say so, and every line of an `ERRORS:` / `WARNINGS:` section.
  let inSection = false;
  for (const line of start < 0 ? lines : lines.slice(0, start)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.includes(" = ")) inSection = false;
    else if (inSection || PROBLEM.test(trimmed)) problems.push(trimmed);
    if (/^(ERRORS|WARNINGS):$/.test(trimmed)) inSection = true;
  }
  if (start < 0) return { entries, sizes, problems };

  let block = new Map<string, string>();
  const flush = (): void => {
    const path = block.get("Path");
    if (path !== undefined) {
      const attributes = block.get("Attributes") ?? "";
      entries.push({
        path,
        size: toSize(block.get("Size")),
        isDirectory: block.get("Folder") === "+" || /^[A-Z]*D/.test(attributes),
        encrypted: block.get("Encrypted") === "+",
      });
    }
    block = new Map();
  };
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    const eq = line.indexOf(" = ");
    if (eq < 0) {
      if (PROBLEM.test(line)) problems.push(line.trim());
      continue;
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 3);
    if (key === "Size") sizes.push(toSize(value));
    if (key === "Path" && block.has("Path")) flush();
    block.set(key, value);
  }
  flush();
  return { entries, sizes, problems };
}

function toSize(value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value.trim())) return 0;
  return Number(value.trim());
}

/** The 7zAES coder id (06 F1 07 01) as it appears in a header's coder list. */
const AES_CODER = [0x06, 0xf1, 0x07, 0x01];
/** Start header: signature (6), version (2), CRC (4), next header offset (8), size (8), CRC (4). */
const START_HEADER_SIZE = 32;
/** Encoded headers larger than this are not searched. */
const MAX_SNIFFED_HEADER = 1024 * 1024;

/**
 * True when the archive's header is itself encrypted (`7z a -mhe=on`): its encoded header names
 * the 7zAES coder. 7-Zip cannot even list such an archive without the password.
 */
export function hasEncryptedHeader(archive: Uint8Array): boolean {
  if (archive.length < START_HEADER_SIZE) return false;
  const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  const offset = Number(view.getBigUint64(12, true));
  const size = Number(view.getBigUint64(20, true));
  const start = START_HEADER_SIZE + offset;
  if (!(start >= 0 && size > 0 && size <= MAX_SNIFFED_HEADER && start + size <= archive.length)) {
    return false;
  }
  const header = archive.subarray(start, start + size);
  // 0x17: kEncodedHeader — the real header is packed, and its coders are listed here.
  if (header[0] !== 0x17) return false;
  for (let i = 0; i + AES_CODER.length <= header.length; i++) {
    if (AES_CODER.every((b, k) => header[i + k] === b)) return true;
  }
  return false;
}
