import { PassThrough } from "node:stream";

/**
 * A fake terminal for driving the CLI's `main` in tests: collects stdout and stderr, with the
 * environment given and either stream optionally claiming to be a TTY.
 */
export function terminal(
  env: NodeJS.ProcessEnv = {},
  tty: { stdout?: boolean; stderr?: boolean } = {},
) {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty.stdout ?? false });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty.stderr ?? false });
  let out = "";
  let err = "";
  stdout.on("data", (c) => {
    out += c;
  });
  stderr.on("data", (c) => {
    err += c;
  });
  return { term: { stdout, stderr, env }, out: () => out, err: () => err };
}
