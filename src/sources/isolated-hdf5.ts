import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { err, type Result } from "../core/result.js";
import {
  type Hdf5Summary,
  type ReadHdf5,
  type ReadHdf5Options,
  readHdf5,
} from "../formats/hdf5/read-hdf5.js";

/** Time one HDF5 file may take inside libhdf5 before it is given up as hostile. */
export const HDF5_TIMEOUT_MS = 20_000;

// The worker imports the HDF5 reader by URL and answers one request at a time.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const reader = import(workerData.module);
parentPort.on("message", async ({ bytes, options }) => {
  try {
    parentPort.postMessage(await (await reader).readHdf5(bytes, options));
  } catch (error) {
    parentPort.postMessage({ ok: false, error: "the HDF5 reader failed: " + String(error && error.message || error) });
  }
});
`;

/** The built reader: beside this module in dist/, or dist/ of the checkout when run from src/. */
function builtReader(): URL | undefined {
  return [
    new URL("../formats/hdf5/read-hdf5.js", import.meta.url),
    new URL("../../dist/formats/hdf5/read-hdf5.js", import.meta.url),
  ].find((url) => existsSync(url));
}

export interface IsolatedHdf5Options {
  /** @default HDF5_TIMEOUT_MS */
  timeoutMs?: number;
  /** Module exporting `readHdf5` (a test can name another). @default the built reader */
  module?: URL;
}

/**
 * A {@link ReadHdf5} that runs libhdf5 in a worker thread and gives up after a time limit,
 * killing the worker: a crafted HDF5 file can make libhdf5 loop forever, and a loop inside
 * WebAssembly cannot be interrupted from its own thread. One worker is kept for the next file
 * and replaced after a timeout; it never keeps the process alive.
 */
export function isolatedHdf5Reader(options: IsolatedHdf5Options = {}): ReadHdf5 {
  const timeoutMs = options.timeoutMs ?? HDF5_TIMEOUT_MS;
  const url = options.module ?? builtReader();
  // Run from TypeScript sources with no build (a worker cannot load .ts): read in this thread.
  if (url === undefined) return readHdf5;
  const module = url.href;
  let worker: Worker | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const run = (bytes: Uint8Array, readOptions: ReadHdf5Options) =>
    new Promise<Result<Hdf5Summary, string>>((resolve) => {
      worker ??= new Worker(WORKER_SOURCE, { eval: true, workerData: { module } });
      const current = worker;
      current.unref();
      const finish = (result: Result<Hdf5Summary, string>, kill: boolean) => {
        clearTimeout(timer);
        current.off("message", onMessage);
        current.off("error", onError);
        current.off("exit", onExit);
        if (kill) {
          if (worker === current) worker = undefined;
          void current.terminate();
        }
        resolve(result);
      };
      const onMessage = (result: Result<Hdf5Summary, string>) => finish(result, false);
      const onError = (error: Error) =>
        finish(err(`the HDF5 reader failed: ${error.message}`), true);
      const onExit = () => finish(err("the HDF5 reader stopped unexpectedly"), true);
      const timer = setTimeout(
        () =>
          finish(
            err(
              `libhdf5 did not finish within ${timeoutMs / 1000} s and was stopped (a crafted file can make it loop forever)`,
            ),
            true,
          ),
        timeoutMs,
      );
      current.on("message", onMessage);
      current.once("error", onError);
      current.once("exit", onExit);
      current.postMessage({ bytes, options: readOptions });
    });

  return (bytes, readOptions) => {
    const next = queue.then(() => run(bytes, readOptions));
    queue = next;
    return next;
  };
}
