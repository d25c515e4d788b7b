import { Command, InvalidArgumentError, Option } from "commander";
import { isSeverity, SEVERITIES, type Severity } from "../core/finding.js";
import { VERSION } from "../version.js";

export const OUTPUT_FORMATS = ["text", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What `modelvet scan` was asked to do, after parsing and checking argv. */
export interface ScanCommandOptions {
  paths: string[];
  format: OutputFormat;
  output?: string;
  failOn: Severity | "none";
  color: boolean;
  verbose: boolean;
  hash: boolean;
  progress: boolean;
}

function parseFailOn(value: string): Severity | "none" {
  if (value === "none" || isSeverity(value)) return value;
  throw new InvalidArgumentError(`expected one of ${[...SEVERITIES, "none"].join(", ")}`);
}

/**
 * Builds the argv parser. Commands only normalise options and hand them to `run*` callbacks, so
 * parsing is testable without scanning anything.
 */
export function createProgram(
  actions: {
    scan: (options: ScanCommandOptions) => Promise<void>;
    rules: (options: { markdown: boolean }) => void;
  },
  output: { writeOut: (text: string) => void; writeErr: (text: string) => void },
): Command {
  const program = new Command("modelvet")
    .description(
      "Vet machine-learning model files before anyone loads them. modelvet reads pickles, PyTorch\n" +
        "checkpoints and the archives they travel in the way their loaders do, works out what\n" +
        "loading would execute, and never executes anything itself.",
    )
    .version(VERSION)
    .showHelpAfterError()
    // Set before adding commands, which inherit these: errors come back as exceptions that
    // cli/main.ts turns into exit codes, and output goes where main says.
    .exitOverride()
    .configureOutput({ ...output, outputError: (text, write) => write(text) });

  program
    .command("scan")
    .description(
      "Scan files and folders (recursively). Formats are detected from the bytes, whatever the\n" +
        "file name. Verdicts: malicious, suspicious, safe, error (could not be analysed).",
    )
    .argument("<paths...>", "files or folders to scan")
    .addOption(
      new Option("-f, --format <format>", "report format").choices(OUTPUT_FORMATS).default("text"),
    )
    .option("-o, --output <file>", "write the report to a file instead of stdout")
    .addOption(
      new Option(
        "--fail-on <severity>",
        "exit 1 when a finding is at or above this severity (critical, high, medium, low, info, none)",
      )
        .argParser(parseFailOn)
        .default("medium"),
    )
    .option("--no-color", "never colour the output (also: NO_COLOR=1)")
    .option("-v, --verbose", "also list files that are not model formats", false)
    .option("--no-hash", "skip the SHA-256 of each file (saves reading whole files)")
    .option("--no-progress", "no progress line on stderr")
    .addHelpText(
      "after",
      "\nExit codes: 0 nothing at or above --fail-on; 1 findings at or above it (or a file that could\n" +
        "not be analysed); 2 usage error, missing path or internal error.\n\n" +
        "Examples:\n  modelvet scan model.bin\n  modelvet scan ./checkpoints --format json -o report.json\n" +
        "  modelvet scan model.pt --fail-on critical",
    )
    .action(async (paths: string[], raw: Record<string, unknown>) => {
      const options: ScanCommandOptions = {
        paths,
        format: raw.format as OutputFormat,
        failOn: raw.failOn as Severity | "none",
        color: raw.color !== false,
        verbose: raw.verbose === true,
        hash: raw.hash !== false,
        progress: raw.progress !== false,
      };
      if (typeof raw.output === "string") options.output = raw.output;
      await actions.scan(options);
    });
  program
    .command("rules")
    .description("List every rule id modelvet can report, with its usual severity and meaning.")
    .option("--markdown", "print the table of docs/rules.md", false)
    .action((raw: { markdown: boolean }) => actions.rules({ markdown: raw.markdown === true }));
  return program;
}
