/**
 * Writes a safetensors file from a layout, streaming: the header first (its sizes are known from
 * the plan), then each tensor's bytes chunk by chunk as `materialise` produces them — never the
 * whole file in memory. Each tensor is hashed (SHA-256) as it is written; then the file is read
 * back and every tensor's bytes are hashed again from disk and compared, along with the header.
 * The file is written under a temporary name and renamed into place only once verified.
 */

import { createHash } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { materialise } from "../convert/materialise.js";
import type { SafetensorsLayout } from "../convert/safetensors-header.js";

/** Bytes read per step when verifying. */
const VERIFY_CHUNK = 4 * 1024 * 1024;

export interface WrittenSafetensors {
  /** Bytes of the file. */
  bytes: number;
  /** SHA-256 (hex) of each tensor's bytes, by name, as written and as read back. */
  tensorSha256: Map<string, string>;
}

/** Thrown when the reread file differs from what was written (the file is removed). */
export class VerificationError extends Error {
  readonly code = "MODELVET_VERIFY";
}

/** Writes `layout` to `path` (via `path.partial`), verifies it, then renames it into place. */
export async function writeSafetensors(
  path: string,
  layout: SafetensorsLayout,
): Promise<WrittenSafetensors> {
  const temporary = `${path}.partial`;
  const tensorSha256 = new Map<string, string>();
  try {
    const handle = await open(temporary, "w");
    try {
      let position = 0;
      const write = async (bytes: Uint8Array): Promise<void> => {
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position);
          done += bytesWritten;
          position += bytesWritten;
        }
      };
      await write(layout.header);
      for (const slot of layout.slots) {
        const hash = createHash("sha256");
        let length = 0;
        for await (const chunk of materialise(slot.tensor)) {
          hash.update(chunk);
          length += chunk.length;
          await write(chunk);
        }
        if (length !== slot.end - slot.begin) {
          throw new VerificationError(
            `"${slot.tensor.name}": produced ${length} bytes, expected ${slot.end - slot.begin}`,
          );
        }
        tensorSha256.set(slot.tensor.name, hash.digest("hex"));
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await verify(temporary, layout, tensorSha256);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return { bytes: layout.header.length + layout.dataBytes, tensorSha256 };
}

/** Rereads the file: the header byte for byte, then each tensor's bytes hashed and compared. */
async function verify(
  path: string,
  layout: SafetensorsLayout,
  expected: ReadonlyMap<string, string>,
): Promise<void> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const total = layout.header.length + layout.dataBytes;
    if (size !== total)
      throw new VerificationError(`the file has ${size} bytes, expected ${total}`);
    const header = new Uint8Array(layout.header.length);
    await handle.read(header, 0, header.length, 0);
    if (!header.every((b, i) => b === layout.header[i])) {
      throw new VerificationError("the header read back differs from the header written");
    }
    const buffer = new Uint8Array(VERIFY_CHUNK);
    for (const slot of layout.slots) {
      const hash = createHash("sha256");
      for (let at = slot.begin; at < slot.end; ) {
        const want = Math.min(VERIFY_CHUNK, slot.end - at);
        const { bytesRead } = await handle.read(buffer, 0, want, layout.header.length + at);
        if (bytesRead === 0) throw new VerificationError(`"${slot.tensor.name}" is cut short`);
        hash.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
      const digest = hash.digest("hex");
      if (digest !== expected.get(slot.tensor.name)) {
        throw new VerificationError(
          `"${slot.tensor.name}" read back differs from the source (SHA-256 ${digest})`,
        );
      }
    }
  } finally {
    await handle.close();
  }
}
