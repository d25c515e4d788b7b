/**
 * Random-access bytes, the only way the analysis core reads input. Files, HTTP ranges, browser
 * `File`s and archive members are adapters around this interface (DESIGN.md principle 9).
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads up to `length` bytes at `offset`. Returns fewer only at the end of the source.
   * The returned array may be a view into a shared buffer: copy it if you keep it.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * A source that could not deliver bytes (a network error, a refused request, a byte budget
 * spent). The engine reports it as `scan.unreadable`, not as an analyser bug.
 */
export class ByteSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ByteSourceError";
  }
}

/** A byte source over bytes already in memory. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read(offset, length) {
      const start = Math.max(0, Math.min(offset, bytes.length));
      const end = Math.max(start, Math.min(offset + length, bytes.length));
      return Promise.resolve(bytes.subarray(start, end));
    },
  };
}

/** A window `[start, start + size)` of another source, e.g. a stored archive member. */
export function sliceSource(parent: ByteSource, start: number, size: number): ByteSource {
  const clamped = Math.max(0, Math.min(size, parent.size - start));
  return {
    size: clamped,
    read(offset, length) {
      const from = Math.max(0, Math.min(offset, clamped));
      const len = Math.max(0, Math.min(length, clamped - from));
      return parent.read(start + from, len);
    },
  };
}

/** Reads the whole source; callers must check `source.size` against a limit first. */
export async function readAll(source: ByteSource): Promise<Uint8Array> {
  return source.read(0, source.size);
}
