/**
 * Large model files generated at run time as sparse files (the tensor data is holes that take no
 * disk), for tests and benches that measure how little of a big checkpoint a scan reads. Never
 * committed. Self-contained (node: imports only) so bench scripts can transpile and use it too.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";

export interface ZipEntry {
  name: string;
  /** Stored bytes; omit for a sparse member of `size` bytes (its CRC left 0). */
  data?: Uint8Array;
  size?: number;
}

/**
 * Writes a stored (uncompressed) zip as torch.save lays one out: each member's local header, its
 * bytes (holes for sparse members), then the central directory. Returns the file size.
 */
export function writeSparseZip(path: string, entries: readonly ZipEntry[]): number {
  const fd = openSync(path, "w");
  try {
    const central: Uint8Array[] = [];
    let offset = 0;
    for (const entry of entries) {
      const name = new TextEncoder().encode(entry.name);
      const size = entry.data?.length ?? entry.size ?? 0;
      if (size >= 0xffffffff) throw new Error("writeSparseZip: members must be < 4 GiB (no zip64)");
      const crc = entry.data ? crc32(entry.data) : 0;
      const head = new Uint8Array(30 + name.length);
      const h = new DataView(head.buffer);
      h.setUint32(0, 0x04034b50, true);
      h.setUint16(4, 20, true);
      h.setUint32(14, crc, true);
      h.setUint32(18, size, true);
      h.setUint32(22, size, true);
      h.setUint16(26, name.length, true);
      head.set(name, 30);
      writeSync(fd, head, 0, head.length, offset);
      if (entry.data) writeSync(fd, entry.data, 0, entry.data.length, offset + head.length);
      const record = new Uint8Array(46 + name.length);
      const c = new DataView(record.buffer);
      c.setUint32(0, 0x02014b50, true);
      c.setUint16(4, 20, true);
      c.setUint16(6, 20, true);
      c.setUint32(16, crc, true);
      c.setUint32(20, size, true);
      c.setUint32(24, size, true);
      c.setUint16(28, name.length, true);
      c.setUint32(42, offset, true);
      record.set(name, 46);
      central.push(record);
      offset += head.length + size;
    }
    if (offset >= 0xffffffff)
      throw new Error("writeSparseZip: archives must be < 4 GiB (no zip64)");
    const cdStart = offset;
    for (const record of central) {
      writeSync(fd, record, 0, record.length, offset);
      offset += record.length;
    }
    const eocd = new Uint8Array(22);
    const e = new DataView(eocd.buffer);
    e.setUint32(0, 0x06054b50, true);
    e.setUint16(8, central.length, true);
    e.setUint16(10, central.length, true);
    e.setUint32(12, offset - cdStart, true);
    e.setUint32(16, cdStart, true);
    writeSync(fd, eocd, 0, eocd.length, offset);
    return offset + eocd.length;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a safetensors file of `tensors` F32 tensors of `tensorBytes` each (a multiple of 4), the
 * data left as holes. Returns the file size.
 */
export function writeSparseSafetensors(path: string, tensors: number, tensorBytes: number): number {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  for (let i = 0; i < tensors; i++) {
    header[`model.layers.${i}.weight`] = {
      dtype: "F32",
      shape: [tensorBytes / 4 / 1024, 1024],
      data_offsets: [i * tensorBytes, (i + 1) * tensorBytes],
    };
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  const size = 8 + jsonBytes.length + tensors * tensorBytes;
  const fd = openSync(path, "w");
  try {
    writeSync(fd, prefix, 0, 8, 0);
    writeSync(fd, jsonBytes, 0, jsonBytes.length, 8);
    // One byte at the very end sizes the file; the rest of the data stays a hole (zero).
    writeSync(fd, new Uint8Array(1), 0, 1, size - 1);
  } finally {
    closeSync(fd);
  }
  return size;
}
