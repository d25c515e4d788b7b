import { CommanderError } from "commander";
import { writeRulesMarkdown } from "../report/rules-doc.js";
import { allRules } from "../scan/all-rules.js";
import { PolicyFileError } from "../sources/policy-file-loader.js";
import { PathError } from "../sources/walk.js";
import { UsageError } from "./errors.js";
import { EXIT } from "./exit-code.js";
import { addGateCommands } from "./gate-commands.js";
import { createProgram } from "./program.js";
import { runConvert } from "./run-convert.js";
import { runPolicyShow } from "./run-policy-show.js";
import { runScan, type Terminal } from "./run-scan.js";
import { runServe, runTokenCreate, runTokenList, runTokenRevoke } from "./run-serve.js";

/** The one place that turns outcomes into exit codes (0/1/2) and errors into messages. */
export async function main(argv: readonly string[], term: Terminal): Promise<number> {
  let code: number = EXIT.clean;
  const program = createProgram(
    {
      scan: async (options) => {
        code = await runScan(options, term);
      },
      rules: (options) => {
        const rules = allRules();
        term.stdout.write(
          options.markdown
            ? writeRulesMarkdown(rules)
            : rules
                .map(
                  (r) =>
                    `${r.id.padEnd(32)} ${(r.severity ?? "varies").padEnd(8)} ${r.description}\n`,
                )
                .join(""),
        );
      },
      policyShow: (options) => runPolicyShow(options, term),
      convert: async (options) => {
        code = await runConvert(options, term);
      },
    },
    { writeOut: (text) => term.stdout.write(text), writeErr: (text) => term.stderr.write(text) },
  );
  addGateCommands(program, {
    serve: async (options) => {
      code = await runServe(options, term);
    },
    tokenCreate: async (options) => {
      code = await runTokenCreate(options, term);
    },
    tokenList: async (options) => {
      code = await runTokenList(options, term);
    },
    tokenRevoke: async (id, options) => {
      code = await runTokenRevoke(id, options, term);
    },
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT.clean : EXIT.usage;
    }
    if (
      error instanceof PathError ||
      error instanceof PolicyFileError ||
      error instanceof UsageError
    ) {
      term.stderr.write(`modelvet: ${error.message}\n`);
      return EXIT.usage;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    term.stderr.write(`modelvet: internal error, please report it:\n${message}\n`);
    return EXIT.usage;
  }
}
