import type { FileResult } from "../../src/scan/results.js";
import type { ScanReport } from "../../src/scan/scan.js";

/** One file picked or dropped by the user, with the path shown in the report. */
export interface PickedFile {
  path: string;
  file: File;
}

/** Page → worker: local files, or a Hugging Face repository read by range requests. */
export type ScanRequest =
  | { type: "scan"; files: PickedFile[] }
  | { type: "scan-hub"; target: string; endpoint: string; token?: string };

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
      /** For a repository: bytes fetched by range requests, and the commit scanned. */
      fetchedBytes?: number;
      commit?: string;
    }
  | { type: "listed"; total: number; commit: string }
  | { type: "failed"; message: string };
