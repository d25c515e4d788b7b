import type { FileResult } from "../../src/scan/results.js";
import type { ScanReport } from "../../src/scan/scan.js";

/** One file picked or dropped by the user, with the path shown in the report. */
export interface PickedFile {
  path: string;
  file: File;
}

/** Page → worker. */
export type ScanRequest = { type: "scan"; files: PickedFile[] };

/** Worker → page. */
export type ScanEvent =
  | { type: "file"; result: FileResult; done: number; total: number }
  | {
      type: "done";
      report: ScanReport;
      /** The JSON and SARIF reports, written in the worker so the page need not load the writers. */
      json: string;
      sarif: string;
      /** Wall time of the whole scan inside the worker, in milliseconds. */
      elapsedMs: number;
    }
  | { type: "failed"; message: string };
