import type { ByteSource } from "../../core/byte-source.js";

/**
 * Raw-deflate decoding in memory, bounded. Uses the web-standard `DecompressionStream`
 * ("deflate-raw"), available in browsers and Node ≥ 18, so the analysis core imports no Node API.
 */

/**
 * Deflate cannot expand input by more than about 1032:1; a higher ratio means the decoder is not
 * reading ordinary deflate and decoding stops (a zip-bomb guard on top of the size limits).
 */
export const DEFAULT_MAX_INFLATE_RATIO = 1100;
/** The ratio guard only applies once this much has been produced. */
export const RATIO_GUARD_MIN_OUTPUT = 16 * 1024 * 1024;
/** Compressed bytes read from the source per step. */
const INPUT_CHUNK = 1024 * 1024;

export interface InflateOptions {
  /** Output bytes kept at most; decoding stops beyond. */
  maxOutput: number;
  /** Expected output size (e.g. the declared uncompressed size), to size the buffer once. */
  sizeHint?: number;
  /** Stop when output exceeds input × this, once past `ratioGuardMinOutput`. @default 1100 */
  maxRatio?: number;
  /** Output size from which the ratio guard applies. @default 16 MiB */
  ratioGuardMinOutput?: number;
}

/** Why decoding stopped: the stream ended, a bound was hit, or the data is corrupt. */
export type InflateStop = "end" | "limit" | "ratio" | "error";

export interface InflateOutcome {
  /** What was decoded, at most `maxOutput` bytes (everything decoded before an error too). */
  bytes: Uint8Array;
  stop: InflateStop;
  /** The decoder's message when `stop` is `error`. */
  error?: string;
  /** Compressed bytes handed to the decoder. */
  consumed: number;
}

/** Decodes raw deflate stored at `[offset, offset + length)` of `source`. Never throws. */
export async function inflateRaw(
  source: ByteSource,
  offset: number,
  length: number,
  options: InflateOptions,
): Promise<InflateOutcome> {
  const maxOutput = Math.max(0, options.maxOutput);
  const maxRatio = options.maxRatio ?? DEFAULT_MAX_INFLATE_RATIO;
  const ratioFrom = options.ratioGuardMinOutput ?? RATIO_GUARD_MIN_OUTPUT;
  const output = new GrowableBuffer(Math.min(maxOutput, options.sizeHint ?? 64 * 1024), maxOutput);
  let consumed = 0;
  let stopFeeding = false;
  let feedError: string | undefined;

  const stream = new DecompressionStream("deflate-raw");
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();

  const feeding = (async () => {
    try {
      for (let pos = 0; pos < length && !stopFeeding; pos += INPUT_CHUNK) {
        const chunk = await source.read(offset + pos, Math.min(INPUT_CHUNK, length - pos));
        if (chunk.length === 0) break;
        consumed += chunk.length;
        // Copy: a source may hand out views into a buffer it reuses.
        await writer.write(chunk.slice());
      }
      if (!stopFeeding) await writer.close();
    } catch (e) {
      // A decoder error also surfaces on the readable side; a source error only here.
      if (!stopFeeding) feedError = messageOf(e);
      writer.abort().catch(() => undefined);
    }
  })();

  let stop: InflateStop = "end";
  let error: string | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!output.append(value)) {
        stop = "limit";
        break;
      }
      if (output.length > ratioFrom && output.length > consumed * maxRatio) {
        stop = "ratio";
        break;
      }
    }
  } catch (e) {
    stop = "error";
    error = messageOf(e);
  }
  if (stop !== "end") {
    stopFeeding = true;
    await reader.cancel().catch(() => undefined);
  }
  await feeding;
  if (stop === "end" && feedError !== undefined) {
    stop = "error";
    error = feedError;
  }
  return { bytes: output.bytes(), stop, ...(error === undefined ? {} : { error }), consumed };
}

/** Appends chunks into one buffer that doubles as needed, never past `limit` bytes. */
class GrowableBuffer {
  private buffer: Uint8Array;
  length = 0;

  constructor(
    initial: number,
    private readonly limit: number,
  ) {
    this.buffer = new Uint8Array(Math.max(0, initial));
  }

  /** Appends what fits; false when `chunk` did not fit entirely (the limit is reached). */
  append(chunk: Uint8Array): boolean {
    const room = this.limit - this.length;
    const take = Math.min(room, chunk.length);
    if (this.length + take > this.buffer.length) {
      const size = Math.min(this.limit, Math.max(this.length + take, this.buffer.length * 2, 1024));
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

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
