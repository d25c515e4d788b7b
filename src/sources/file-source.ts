import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { ByteSource } from "../core/byte-source.js";
import type { OpenedInput } from "../scan/scan.js";

/** Opens a local file as a random-access byte source; reads only the ranges asked for. */
export async function openFile(
  path: string,
  options: { hash?: boolean } = {},
): Promise<OpenedInput> {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  const source: ByteSource = {
    size,
    async read(offset, length) {
      const start = Math.max(0, Math.min(offset, size));
      const want = Math.max(0, Math.min(length, size - start));
      const buffer = new Uint8Array(want);
      let filled = 0;
      while (filled < want) {
        const { bytesRead } = await handle.read(buffer, filled, want - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === want ? buffer : buffer.subarray(0, filled);
    },
  };
  const opened: OpenedInput = { source, close: () => handle.close() };
  if (options.hash !== false) opened.sha256 = () => hashFile(path);
  return opened;
}

/** Streams the file through SHA-256 without holding it in memory. */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path, { highWaterMark: 1024 * 1024 })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}
