import type { ByteSource } from "../../core/byte-source.js";

/** Bytes read from the source at a time when walking small values. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * Small bounds-checked reads over a `ByteSource`, served from one cached window so that walking
 * thousands of short metadata values costs a few large reads. Returns `undefined` (never throws)
 * when the source ends before the bytes asked for.
 */
export class ChunkReader {
  private window = new Uint8Array(0);
  private windowStart = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /** `length` bytes at `offset` (a view: copy it to keep it), or undefined past the end. */
  async bytes(offset: number, length: number): Promise<Uint8Array | undefined> {
    if (offset < 0 || length < 0 || offset + length > this.source.size) return undefined;
    const from = offset - this.windowStart;
    if (from >= 0 && from + length <= this.window.length) {
      return this.window.subarray(from, from + length);
    }
    if (length > this.chunkBytes) return (await this.source.read(offset, length)).slice();
    const size = Math.min(this.chunkBytes, this.source.size - offset);
    this.window = (await this.source.read(offset, size)).slice();
    this.windowStart = offset;
    return this.window.length >= length ? this.window.subarray(0, length) : undefined;
  }

  async u32(offset: number, littleEndian: boolean): Promise<number | undefined> {
    const b = await this.bytes(offset, 4);
    return b && new DataView(b.buffer, b.byteOffset, 4).getUint32(0, littleEndian);
  }

  async u64(offset: number, littleEndian: boolean): Promise<bigint | undefined> {
    const b = await this.bytes(offset, 8);
    return b && new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, littleEndian);
  }
}
