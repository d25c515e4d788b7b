import { writeFile } from "node:fs/promises";
import { writeJson } from "../report/json.js";
import { writeText } from "../report/text.js";
import { type ScanInput, scan } from "../scan/scan.js";
import { openFile } from "../sources/file-source.js";
import { expandPaths } from "../sources/walk.js";
import { exitCodeFor } from "./exit-code.js";
import type { ScanCommandOptions } from "./program.js";

export interface Terminal {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** `modelvet scan`: expand paths, scan, write the report; returns the exit code. */
export async function runScan(options: ScanCommandOptions, term: Terminal): Promise<number> {
  const paths = await expandPaths(options.paths);
  const inputs: ScanInput[] = paths.map((path) => ({
    path,
    open: () => openFile(path, { hash: options.hash }),
  }));
  const showProgress = options.progress && term.stderr.isTTY === true && inputs.length > 1;
  const report = await scan(inputs, {
    onFile: showProgress
      ? (_result, done, total) => term.stderr.write(`\r\u001b[2Kscanning ${done}/${total} files…`)
      : undefined,
  });
  if (showProgress) term.stderr.write("\r\u001b[2K");

  const toTerminal = options.output === undefined;
  const color = options.color && toTerminal && term.stdout.isTTY === true && !term.env.NO_COLOR;
  const text =
    options.format === "json"
      ? writeJson(report)
      : writeText(report, { color, verbose: options.verbose });
  if (options.output === undefined) term.stdout.write(text);
  else await writeFile(options.output, text);
  return exitCodeFor(report, options.failOn);
}
