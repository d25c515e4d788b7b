import type { ByteSource } from "../../core/byte-source.js";
import type { DecodeOptions, DecodeOutcome } from "./decode-types.js";
import { OutputBuffer } from "./output-buffer.js";

/** Compressed bytes read from the source per step. */
const INPUT_CHUNK = 256 * 1024;

/** The `DecompressionStream` formats used here: zlib (RFC 1950) and gzip (RFC 1952). */
export type StreamFormat = "deflate" | "gzip";

/**
 * Decodes a zlib or gzip stream stored at `[offset, offset + length)` of `source`, in memory,
 * with the web-standard `DecompressionStream` (Node ≥ 18 and browsers), bounded by `maxOutput`
 * and the ratio guard. On truncation the output is exactly what the stream held. Never throws.
 */
export async function inflateStream(
  format: StreamFormat,
  source: ByteSource,
  offset: number,
  length: number,
  options: DecodeOptions,
): Promise<DecodeOutcome> {
  const output = new OutputBuffer(Math.min(options.maxOutput, 64 * 1024), options.maxOutput);
  let consumed = 0;
  let stopFeeding = false;
  let feedError: string | undefined;
  let stream: DecompressionStream;
  try {
    stream = new DecompressionStream(format);
  } catch (e) {
    return { bytes: output.bytes(), stop: "unavailable", message: messageOf(e) };
  }
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
      if (!stopFeeding) feedError = messageOf(e);
      writer.abort().catch(() => undefined);
    }
  })();

  let outcome: DecodeOutcome | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!output.append(value)) {
        outcome = { bytes: output.bytes(), stop: "limit" };
        break;
      }
      if (
        output.length > options.ratioGuardMinOutput &&
        output.length > consumed * options.maxRatio
      ) {
        outcome = { bytes: output.bytes(), stop: "ratio" };
        break;
      }
    }
  } catch (e) {
    const message = messageOf(e);
    outcome = {
      bytes: output.bytes(),
      stop: /unexpected end|end of (file|stream)|incomplete|truncat/i.test(message)
        ? "truncated"
        : "corrupt",
      message,
    };
  }
  if (outcome && outcome.stop !== "truncated" && outcome.stop !== "corrupt") {
    stopFeeding = true;
    await reader.cancel().catch(() => undefined);
  }
  await feeding;
  if (outcome) return outcome;
  if (feedError !== undefined)
    return { bytes: output.bytes(), stop: "corrupt", message: feedError };
  return { bytes: output.bytes(), stop: "end" };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
