import type { ByteSource } from "../core/byte-source.js";

/** The part of a DOM `Blob` (or `File`) a byte source needs; Node 20's `Blob` has it too. */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * A browser `File` or `Blob` as a byte source: each read slices the blob and reads only that
 * slice, so a multi-gigabyte checkpoint costs what its pickle costs and nothing is uploaded.
 */
export function blobSource(blob: BlobLike): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      const start = Math.max(0, Math.min(offset, blob.size));
      const end = Math.max(start, Math.min(offset + length, blob.size));
      if (end === start) return new Uint8Array(0);
      return new Uint8Array(await blob.slice(start, end).arrayBuffer());
    },
  };
}
