/** Appends decompressed chunks into one buffer that doubles as needed, never past a limit. */
export class OutputBuffer {
  private buffer: Uint8Array;
  length = 0;

  constructor(
    initial: number,
    private readonly limit: number,
  ) {
    this.buffer = new Uint8Array(Math.max(0, Math.min(initial, limit)));
  }

  /** Appends what fits; false when `chunk` did not fit entirely (the limit is reached). */
  append(chunk: Uint8Array): boolean {
    const take = Math.min(this.limit - this.length, chunk.length);
    if (this.length + take > this.buffer.length) {
      const size = Math.min(this.limit, Math.max(this.length + take, this.buffer.length * 2, 4096));
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(chunk.subarray(0, take), this.length);
    this.length += take;
    return take === chunk.length;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
