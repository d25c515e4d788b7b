/**
 * Streams a strided tensor view as contiguous little-endian bytes in C order — what
 * `tensor.contiguous()` holds, and what safetensors stores. Contiguous views are read in large
 * chunks straight from the storage; other views (transposes, steps, stride-0 expands) are gathered
 * run by run, where a run is the longest trailing block of dimensions that is contiguous in the
 * storage, through a small window cache so that small runs do not cost one read each. Memory stays
 * bounded by the chunk size and the window, whatever the tensor size.
 */

import type { TensorPlan } from "./types.js";

/** Bytes per chunk handed to the writer. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
/** Storage bytes read at once when gathering a non-contiguous view. */
const WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A fresh copy (a source may hand out views of shared memory — a Node `Buffer`'s `slice` is one —
 * and swapping must never touch the source).
 */
function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** Bytes the tensor occupies once contiguous. */
export function tensorByteLength(t: Pick<TensorPlan, "shape" | "storage">): number {
  return t.shape.reduce((a, b) => a * b, 1) * t.storage.elementSize;
}

/** Reverses the bytes of every element in place (big-endian → little-endian). */
export function swapBytes(bytes: Uint8Array, elementSize: number): void {
  if (elementSize <= 1) return;
  for (let i = 0; i + elementSize <= bytes.length; i += elementSize) {
    for (let a = i, b = i + elementSize - 1; a < b; a++, b--) {
      const x = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = x;
    }
  }
}

/**
 * The number of trailing dimensions that form one contiguous run, and the run's element count.
 * Dimensions of size 1 never break a run.
 */
function trailingRun(
  shape: readonly number[],
  strides: readonly number[],
): { dims: number; elements: number } {
  let expected = 1;
  let dims = 0;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) break;
    expected *= shape[i]!;
    dims++;
  }
  return { dims, elements: expected };
}

/** Yields the view's bytes, contiguous, little-endian, in chunks of at most {@link CHUNK_BYTES}. */
export async function* materialise(
  t: Pick<TensorPlan, "shape" | "strides" | "offset" | "storage">,
  chunkBytes = CHUNK_BYTES,
): AsyncGenerator<Uint8Array> {
  const { source, elementSize, bigEndian } = t.storage;
  const total = tensorByteLength(t);
  if (total === 0) return;
  const chunkElements = Math.max(1, Math.floor(chunkBytes / elementSize));
  const run = trailingRun(t.shape, t.strides);
  const finish = (bytes: Uint8Array): Uint8Array => {
    if (bigEndian) swapBytes(bytes, elementSize);
    return bytes;
  };

  if (run.dims === t.shape.length) {
    // Contiguous: one range of the storage.
    const start = t.offset * elementSize;
    for (let done = 0; done < total; ) {
      const want = Math.min(chunkElements * elementSize, total - done);
      const bytes = await source.read(start + done, want);
      if (bytes.length < want) throw new RangeError(`${t.storage.label} ended early`);
      yield finish(copy(bytes));
      done += want;
    }
    return;
  }

  // Gather run by run: an odometer over the outer dimensions.
  const outer = t.shape.length - run.dims;
  const index = new Array<number>(outer).fill(0);
  const runBytes = run.elements * elementSize;
  let window: Uint8Array = new Uint8Array(0);
  let windowStart = -1;
  const chunkCap = chunkElements * elementSize;
  let out = new Uint8Array(Math.min(total, Math.max(Math.min(runBytes, chunkCap), chunkCap)));
  let filled = 0;
  const read = async (at: number, length: number): Promise<Uint8Array> => {
    if (length > WINDOW_BYTES) {
      const direct = await source.read(at, length);
      if (direct.length < length) throw new RangeError(`${t.storage.label} ended early`);
      return direct;
    }
    if (windowStart < 0 || at < windowStart || at + length > windowStart + window.length) {
      windowStart = at;
      window = copy(await source.read(at, Math.max(WINDOW_BYTES, length)));
      if (window.length < length) throw new RangeError(`${t.storage.label} ended early`);
    }
    return window.subarray(at - windowStart, at - windowStart + length);
  };
  for (let produced = 0; produced < total; produced += runBytes) {
    let element = t.offset;
    for (let d = 0; d < outer; d++) element += index[d]! * t.strides[d]!;
    if (runBytes > chunkCap) {
      // A long run: stream it in chunks of its own.
      if (filled > 0) {
        yield finish(out.subarray(0, filled));
        out = new Uint8Array(out.length);
        filled = 0;
      }
      for (let done = 0; done < runBytes; done += chunkCap) {
        const want = Math.min(chunkCap, runBytes - done);
        const piece = await source.read(element * elementSize + done, want);
        if (piece.length < want) throw new RangeError(`${t.storage.label} ended early`);
        yield finish(copy(piece));
      }
    } else {
      const bytes = await read(element * elementSize, runBytes);
      if (filled + runBytes > out.length) {
        yield finish(out.subarray(0, filled));
        out = new Uint8Array(out.length);
        filled = 0;
      }
      out.set(bytes, filled);
      filled += runBytes;
    }
    for (let d = outer - 1; d >= 0; d--) {
      if (++index[d]! < t.shape[d]!) break;
      index[d] = 0;
    }
  }
  if (filled > 0) yield finish(out.subarray(0, filled));
}
