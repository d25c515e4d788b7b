/**
 * The scanner's Web Worker: runs the same engine as the CLI over the user's `File`s, read slice by
 * slice in this tab. Nothing here opens a network connection with file bytes; the only fetches a
 * worker may make are for the app's own code (the wasm libraries some formats load on demand).
 */
import { writeJson } from "../../src/report/json.js";
import { writeSarif } from "../../src/report/sarif.js";
import { type ScanInput, scan } from "../../src/scan/scan.js";
import { blobSource } from "../../src/sources/blob-source.js";
import type { PickedFile, ScanEvent, ScanRequest } from "./messages.js";

/** Files up to this size get a SHA-256 in the report (hashing reads the whole file). */
const HASH_LIMIT = 256 * 1024 * 1024;

interface WorkerScope {
  onmessage: ((event: MessageEvent<ScanRequest>) => void) | null;
  postMessage(message: ScanEvent): void;
}
const scope = self as unknown as WorkerScope;

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function inputOf({ path, file }: PickedFile): ScanInput {
  return {
    path,
    open: async () => ({
      source: blobSource(file),
      sha256:
        file.size <= HASH_LIMIT
          ? async () => toHex(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()))
          : undefined,
    }),
  };
}

async function run(request: ScanRequest): Promise<void> {
  const started = performance.now();
  const report = await scan(request.files.map(inputOf), {
    onFile: (result, done, total) => scope.postMessage({ type: "file", result, done, total }),
  });
  scope.postMessage({
    type: "done",
    report,
    json: writeJson(report),
    sarif: writeSarif(report),
    elapsedMs: Math.round(performance.now() - started),
  });
}

scope.onmessage = (event) => {
  run(event.data).catch((error: unknown) =>
    scope.postMessage({
      type: "failed",
      message: error instanceof Error ? error.message : String(error),
    }),
  );
};
