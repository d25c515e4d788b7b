/**
 * The scanner's Web Worker: runs the same engine as the CLI over the user's `File`s, read slice by
 * slice in this tab. Nothing here sends file bytes anywhere: the worker fetches only the app's own
 * code (the wasm libraries some formats load on demand) and, when asked to scan a Hugging Face
 * repository, that repository's listing and byte ranges of its files (GETs, no body).
 */
import { writeJson } from "../../src/report/json.js";
import { writeSarif } from "../../src/report/sarif.js";
import { type ScanInput, scan } from "../../src/scan/scan.js";
import { blobSource } from "../../src/sources/blob-source.js";
import { parseHubTarget, planHubScan } from "./hub-scan.js";
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
  let inputs: ScanInput[];
  let fetched = 0;
  let commit: string | undefined;
  if (request.type === "scan") inputs = request.files.map(inputOf);
  else {
    const target = parseHubTarget(request.target);
    if (typeof target === "string") throw new Error(target);
    const plan = await planHubScan(target, {
      endpoint: request.endpoint,
      ...(request.token ? { token: request.token } : {}),
      onBytes: (n) => {
        fetched += n;
      },
    });
    inputs = plan.inputs;
    commit = plan.commit;
    scope.postMessage({ type: "listed", total: inputs.length, commit });
  }
  const report = await scan(inputs, {
    onFile: (result, done, total) => scope.postMessage({ type: "file", result, done, total }),
  });
  scope.postMessage({
    type: "done",
    report,
    json: writeJson(report),
    sarif: writeSarif(report),
    elapsedMs: Math.round(performance.now() - started),
    ...(commit === undefined ? {} : { commit, fetchedBytes: fetched }),
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
