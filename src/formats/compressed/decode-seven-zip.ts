/**
 * gzip, bzip2, xz and lzma-alone decoding with 7-Zip compiled to WASM (the `7z-wasm` package,
 * through the sevenzip module's wrapper), in memory and bounded.
 *
 * The compressed bytes are written into the module's in-memory file system (plain memory, never
 * the disk) and 7-Zip decodes them to its standard output (`e -so`). That output never reaches a
 * file or the console: the stdout stream's `write` is replaced by one that appends each chunk to
 * our buffer and makes 7-Zip's write fail (EIO) once a bound is reached, so a decompression bomb
 * stops as soon as it passes the limit. 7-Zip reads multi-member gzip, reports data after the end
 * of the stream, and keeps what it decoded before an error, which is what the analyser needs.
 */

import { createSevenZip, type SevenZipFs } from "../sevenzip/seven-zip-wasm.js";
import type { DecodeOptions, DecodeOutcome, DecodeStop } from "./decode-types.js";
import { OutputBuffer } from "./output-buffer.js";

export type SevenZipStreamType = "gzip" | "bzip2" | "xz" | "lzma";

const INPUT_DIR = "/in";
const INPUT_PATH = `${INPUT_DIR}/input`;
const STDOUT_FD = 1;
/** Emscripten's EIO errno. */
const EIO = 29;

/** The parts of an Emscripten stream and FS used to capture standard output. */
interface EmscriptenStream {
  stream_ops: Record<string, unknown> & {
    write: (...args: unknown[]) => number;
  };
}
interface StreamFs {
  getStream(fd: number): EmscriptenStream | null | undefined;
  ErrnoError: new (errno: number) => Error;
}

function hasStreams(fs: SevenZipFs): fs is SevenZipFs & StreamFs {
  const candidate = fs as Partial<StreamFs>;
  return typeof candidate.getStream === "function" && typeof candidate.ErrnoError === "function";
}

/** Classifies 7-Zip's error lines. */
function stopOf(lines: readonly string[]): { stop: DecodeStop; message: string } | undefined {
  const text = lines.map((l) => l.trim()).filter((l) => l !== "");
  if (text.length === 0) return undefined;
  const message = text.slice(0, 3).join("; ");
  if (/unexpected end/i.test(message)) return { stop: "truncated", message };
  if (/data after the end of the payload/i.test(message)) return { stop: "trailing", message };
  return { stop: "corrupt", message };
}

/**
 * Decodes `input` (a whole compressed file) as `type`. `options.maxRatio` is measured against
 * the whole input's size. Never throws.
 */
export async function decodeWithSevenZip(
  type: SevenZipStreamType,
  input: Uint8Array,
  options: DecodeOptions,
): Promise<DecodeOutcome> {
  const output = new OutputBuffer(Math.min(options.maxOutput, 1024 * 1024), options.maxOutput);
  let sevenZip: Awaited<ReturnType<typeof createSevenZip>>;
  try {
    sevenZip = await createSevenZip();
  } catch (e) {
    return { bytes: output.bytes(), stop: "unavailable", message: String(e) };
  }
  const { fs } = sevenZip;
  const stdout = hasStreams(fs) ? fs.getStream(STDOUT_FD) : undefined;
  if (!hasStreams(fs) || !stdout) {
    return {
      bytes: output.bytes(),
      stop: "unavailable",
      message: "7z-wasm does not expose its standard output stream",
    };
  }
  let bound: "limit" | "ratio" | undefined;
  stdout.stream_ops = {
    ...stdout.stream_ops,
    write: (...args: unknown[]): number => {
      const [, buffer, offset, length] = args as [unknown, Int8Array, number, number];
      const chunk = new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length);
      if (!output.append(chunk)) bound = "limit";
      else if (
        output.length > options.ratioGuardMinOutput &&
        output.length > input.length * options.maxRatio
      ) {
        bound = "ratio";
      }
      if (bound) throw new fs.ErrnoError(EIO);
      return length;
    },
  };
  fs.mkdir(INPUT_DIR);
  fs.writeFile(INPUT_PATH, input);
  const run = sevenZip.run(["e", "-so", `-t${type}`, "-bd", "-y", INPUT_PATH]);
  if (bound) return { bytes: output.bytes(), stop: bound };
  const problem = stopOf(run.stderr);
  if (problem) return { bytes: output.bytes(), ...problem };
  if (run.threw || run.exitCode !== 0) {
    return {
      bytes: output.bytes(),
      stop: "corrupt",
      message: `7-Zip failed (exit code ${run.exitCode}${run.threw ? ", aborted" : ""})`,
    };
  }
  return { bytes: output.bytes(), stop: "end" };
}
