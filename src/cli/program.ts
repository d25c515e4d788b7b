import { Command, InvalidArgumentError, Option } from "commander";
import { isSeverity, SEVERITIES, type Severity } from "../core/finding.js";
import { VERSION } from "../version.js";
import { UsageError } from "./errors.js";
import { DEFAULT_MAX_REMOTE_BYTES } from "./remote-inputs.js";

export const OUTPUT_FORMATS = ["text", "json", "sarif", "cyclonedx", "html"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Which policy file to use: a path, none (`--no-policy`), or the one found upward (undefined). */
export type PolicyChoice = string | false | undefined;

/** What `modelvet scan` was asked to do, after parsing and checking argv. */
export interface ScanCommandOptions {
  paths: string[];
  format: OutputFormat;
  output?: string;
  /** Undefined when not given: the policy file's `fail-on`, else `medium`. */
  failOn?: Severity | "none";
  color: boolean;
  verbose: boolean;
  quiet: boolean;
  hash: boolean;
  progress: boolean;
  policy?: PolicyChoice;
  baseline?: string;
  writeBaseline?: string;
  /** Also scan the local Hugging Face cache. */
  hfCache: boolean;
  /** Hub access token (else HF_TOKEN). */
  token?: string;
  /** Download LFS files and check their SHA-256 against the Hub's. */
  verifyHashes: boolean;
  /** Most bytes remote range reads may fetch in one run. */
  maxRemoteBytes: number;
  /** Where docs/rules.md is published, for rule links in SARIF and HTML (none by default). */
  rulesDocUrl?: string;
}

/** What `modelvet convert` was asked to do. */
export interface ConvertCommandOptions {
  /** A checkpoint file, or a Hugging Face model folder. */
  input: string;
  /** The safetensors file to write (files only; default: the input's name with `.safetensors`). */
  output?: string;
  dropNonTensors: boolean;
  force: boolean;
}

/** What `modelvet policy show` was asked to do. */
export interface PolicyShowOptions {
  /** Where to look for `modelvet.yaml` from. @default "." */
  path: string;
  policy?: PolicyChoice;
}

/** `1048576`, `512k`, `100MB`, `1.5GiB`, … → bytes (k/M/G/T are powers of 1024). */
function parseHttpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected an http(s) URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InvalidArgumentError("expected an http(s) URL");
  }
  return value.replace(/#.*$/, "");
}

export function parseByteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(value);
  if (!m) throw new InvalidArgumentError("expected a size such as 500M, 2G or 1048576");
  const power = " kmgt".indexOf((m[2] || " ").toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
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
    policyShow: (options: PolicyShowOptions) => Promise<void>;
    convert?: (options: ConvertCommandOptions) => Promise<void>;
  },
  output: { writeOut: (text: string) => void; writeErr: (text: string) => void },
): Command {
  const program = new Command("modelvet")
    .description(
      "Vet machine-learning model files before anyone loads them. modelvet reads pickles, PyTorch " +
        "checkpoints and the archives they travel in the way their loaders do, works out what " +
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
      "Scan files and folders (recursively), Hugging Face repositories (hf://), URLs " +
        "and the Hugging Face cache. Formats are detected from the bytes, whatever the " +
        "file name. Verdicts: malicious, suspicious, safe, error (could not be analysed).",
    )
    .argument(
      "[paths...]",
      "files or folders, hf://org/name[@revision] repositories, or http(s):// URLs to scan",
    )
    .addOption(
      new Option("-f, --format <format>", "report format").choices(OUTPUT_FORMATS).default("text"),
    )
    .option("-o, --output <file>", "write the report to a file instead of stdout")
    .addOption(
      new Option(
        "--fail-on <severity>",
        "exit 1 when a finding is at or above this severity (critical, high, medium, low, info, " +
          "none; default: the policy file's fail-on, else medium)",
      ).argParser(parseFailOn),
    )
    .option("--no-color", "never colour the output (also: NO_COLOR=1)")
    .addOption(
      new Option(
        "-v, --verbose",
        "text: also list files that are not model formats, info findings and set-aside findings",
      ).default(false),
    )
    .addOption(
      new Option(
        "-q, --quiet",
        "text: only files with findings at or above --fail-on, and the summary",
      )
        .default(false)
        .conflicts("verbose"),
    )
    .option("--no-hash", "skip the SHA-256 of each file (saves reading whole files)")
    .option("--no-progress", "no progress line on stderr")
    .addOption(
      new Option(
        "--rules-doc-url <url>",
        "sarif, html: link each rule id to <url>#<rule id> (where you publish docs/rules.md)",
      ).argParser(parseHttpUrl),
    )
    .option(
      "--policy <file>",
      "policy file to apply (default: modelvet.yaml found upward from the first path)",
    )
    .option("--no-policy", "apply no policy file, only the built-in policy")
    .option("--baseline <file>", "report only findings not in this baseline (see --write-baseline)")
    .option("--write-baseline <file>", "write the findings of this run as a baseline file")
    .option(
      "--hf-cache",
      "also scan the local Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub, else " +
        "~/.cache/huggingface/hub), each blob once, reported by repository and revision",
    )
    .option(
      "--token <token>",
      "Hugging Face access token for private and gated repositories (prefer HF_TOKEN: a " +
        "command line is visible to other users)",
    )
    .option(
      "--verify-hashes",
      "download LFS files in full (streamed) and check their SHA-256 against the Hub's; in the " +
        "cache, check blobs against their names",
    )
    .addOption(
      new Option(
        "--max-remote-bytes <size>",
        "most bytes range reads may fetch over the network in this run (e.g. 200M, 2G)",
      )
        .argParser(parseByteSize)
        .default(DEFAULT_MAX_REMOTE_BYTES, "1G"),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 nothing at or above --fail-on; 1 findings at or above it (or a file that could\n" +
        "not be analysed); 2 usage error, missing path, bad policy or baseline file, or internal error.\n" +
        "Findings set aside by the policy file's ignores or a baseline never count.\n\n" +
        "Examples:\n  modelvet scan model.bin\n  modelvet scan ./checkpoints --format json -o report.json\n" +
        "  modelvet scan . --format sarif -o modelvet.sarif\n  modelvet scan . --format html -o report.html\n" +
        "  modelvet scan model.pt --fail-on critical\n" +
        "  modelvet scan models/ --write-baseline .modelvet-baseline.json\n" +
        "  modelvet scan models/ --baseline .modelvet-baseline.json\n\n" +
        "Remote models are read by HTTP ranges, only the bytes their format needs (a safetensors\n" +
        "header, a zip's directory and pickles): a 10 GB checkpoint costs kilobytes to megabytes.\n" +
        "  modelvet scan hf://org/name            the default branch (files reported at its commit)\n" +
        "  modelvet scan hf://org/name@v1.0       a branch, tag or commit\n" +
        "  modelvet scan hf://datasets/org/name   datasets/ and spaces/ too\n" +
        "  modelvet scan https://example.com/model.bin\n" +
        "  modelvet scan --hf-cache               what is already downloaded\n" +
        "Environment: HF_TOKEN (or --token) for private and gated repositories; HF_ENDPOINT for a\n" +
        "mirror or private hub; HF_HUB_CACHE / HF_HOME for the cache.",
    )
    .action(async (paths: string[], raw: Record<string, unknown>) => {
      const options: ScanCommandOptions = {
        paths,
        format: raw.format as OutputFormat,
        color: raw.color !== false,
        verbose: raw.verbose === true,
        quiet: raw.quiet === true,
        hash: raw.hash !== false,
        progress: raw.progress !== false,
        hfCache: raw.hfCache === true,
        verifyHashes: raw.verifyHashes === true,
        maxRemoteBytes: raw.maxRemoteBytes as number,
      };
      if (paths.length === 0 && !options.hfCache) {
        throw new UsageError("name at least one path, hf:// repository or URL (or --hf-cache)");
      }
      if (typeof raw.token === "string") options.token = raw.token;
      if (raw.failOn !== undefined) options.failOn = raw.failOn as Severity | "none";
      if (typeof raw.output === "string") options.output = raw.output;
      if (typeof raw.policy === "string" || raw.policy === false) options.policy = raw.policy;
      if (typeof raw.baseline === "string") options.baseline = raw.baseline;
      if (typeof raw.writeBaseline === "string") options.writeBaseline = raw.writeBaseline;
      if (typeof raw.rulesDocUrl === "string") options.rulesDocUrl = raw.rulesDocUrl;
      await actions.scan(options);
    });
  const policy = program
    .command("policy")
    .description("Inspect the policy file (modelvet.yaml; see docs/policy.md).");
  policy
    .command("show")
    .description(
      "Print the policy in force for PATH as YAML: the policy file found upward from PATH (or " +
        "--policy) merged with the defaults.",
    )
    .argument("[path]", "where the scan would start", ".")
    .option("--policy <file>", "this policy file instead of the one found upward")
    .option("--no-policy", "no policy file: the defaults only")
    .action(async (path: string, raw: Record<string, unknown>) => {
      const options: PolicyShowOptions = { path };
      if (typeof raw.policy === "string" || raw.policy === false) options.policy = raw.policy;
      await actions.policyShow(options);
    });
  program
    .command("convert")
    .description(
      "Convert a pickle checkpoint (PyTorch zip or legacy, .npy/.npz, pickle or joblib of arrays) " +
        "to safetensors without running it: tensors are rebuilt from the storages by modelvet's own " +
        "pickle reader, and anything beyond the tensor constructors is refused. Given a Hugging Face " +
        "model folder, converts every pytorch_model*.bin to model*.safetensors (and the index).",
    )
    .argument("<input>", "checkpoint file, or model folder")
    .option("-o, --output <file>", "safetensors file to write (default: INPUT with .safetensors)")
    .option(
      "--drop-non-tensors",
      "convert the tensors and list the other values instead of refusing",
    )
    .option("--force", "overwrite existing output files")
    .addHelpText(
      "after",
      "\nExit codes: 0 converted and verified; 1 refused (malicious, or not only tensors);\n" +
        "2 usage error (missing input, output exists without --force).\n\n" +
        "Examples:\n  modelvet convert pytorch_model.bin -o model.safetensors\n" +
        "  modelvet convert ./my-model   # pytorch_model*.bin → model*.safetensors",
    )
    .action(async (input: string, raw: Record<string, unknown>) => {
      const options: ConvertCommandOptions = {
        input,
        dropNonTensors: raw.dropNonTensors === true,
        force: raw.force === true,
      };
      if (typeof raw.output === "string") options.output = raw.output;
      await actions.convert?.(options);
    });
  program
    .command("rules")
    .description("List every rule id modelvet can report, with its usual severity and meaning.")
    .option("--markdown", "print the table of docs/rules.md", false)
    .action((raw: { markdown: boolean }) => actions.rules({ markdown: raw.markdown === true }));
  return program;
}
