/**
 * A thin, typed wrapper around the `7z-wasm` package (7-Zip compiled to WebAssembly).
 *
 * Why the bytes go through the WASM file system: 7-Zip is a command-line program; the only way to
 * hand it an archive is a path it can open. We write the archive into Emscripten's MEMFS — an
 * in-memory file system inside the module, plain memory, never the real disk — extract members
 * into another MEMFS folder and read them back as `Uint8Array`s. NODEFS/WORKERFS (the real file
 * system) are never mounted.
 *
 * The module is imported lazily (it is 1.6 MB of WASM) and a fresh instance is made per archive:
 * instances are cheap (~10 ms), and one that threw from C++ is unusable afterwards.
 */

/** The parts of Emscripten's FS we use. */
export interface SevenZipFs {
  mkdir(path: string): unknown;
  writeFile(path: string, data: Uint8Array): void;
  readFile(path: string): Uint8Array;
  readdir(path: string): string[];
  lstat(path: string): { mode: number; size: number };
  isFile(mode: number): boolean;
  isDir(mode: number): boolean;
}

interface SevenZipModule {
  FS: SevenZipFs;
  callMain(args: string[]): number | undefined;
}

/**
 * The factory's options as we pass them. The package's `index.d.ts` types `stdin` as returning a
 * number, but Emscripten reads `null` as end of input, which is what keeps 7-Zip from ever
 * waiting on a password prompt.
 */
interface SevenZipModuleOptions {
  print(line: string): void;
  printErr(line: string): void;
  stdin(): number | null;
}

type SevenZipFactory = (options: SevenZipModuleOptions) => Promise<SevenZipModule>;

export interface SevenZipRun {
  /** 7-Zip's exit code: 0 ok, 1 warning, 2 fatal error, 7 bad command line, 8 out of memory. */
  exitCode: number;
  /** The program threw (a C++ exception escaped, e.g. on encrypted headers); the instance is spent. */
  threw: boolean;
  stdout: string[];
  stderr: string[];
}

export interface SevenZipInstance {
  fs: SevenZipFs;
  /** Runs `7zz` with `args`; output is captured, never printed. Never throws. */
  run(args: string[]): SevenZipRun;
}

let factory: Promise<SevenZipFactory> | undefined;

function isFactory(value: unknown): value is SevenZipFactory {
  return typeof value === "function";
}

/** Imports `7z-wasm` once; its default export is the factory (ESM) or `{ default }` (CJS interop). */
function loadFactory(): Promise<SevenZipFactory> {
  factory ??= import("7z-wasm").then((mod: unknown) => {
    const outer = (mod as { default?: unknown }).default;
    const inner = (outer as { default?: unknown } | undefined)?.default;
    if (isFactory(outer)) return outer;
    if (isFactory(inner)) return inner;
    throw new Error("7z-wasm: no module factory found");
  });
  return factory;
}

/**
 * On Node, Emscripten's exit handler sets `process.exitCode` to 7-Zip's exit code; that must not
 * leak into modelvet's own exit code (only `cli/main.ts` sets it).
 */
function keepingExitCode<T>(fn: () => T): T {
  const proc = (globalThis as { process?: { exitCode?: number | string | null | undefined } })
    .process;
  const saved = proc?.exitCode;
  try {
    return fn();
  } finally {
    if (proc) proc.exitCode = saved;
  }
}

/** A fresh 7-Zip instance with its own in-memory file system. */
export async function createSevenZip(): Promise<SevenZipInstance> {
  const make = await loadFactory();
  let stdout: string[] = [];
  let stderr: string[] = [];
  const module = await make({
    print: (line) => stdout.push(line),
    printErr: (line) => stderr.push(line),
    stdin: () => null,
  });
  return {
    fs: module.FS,
    run(args) {
      stdout = [];
      stderr = [];
      return keepingExitCode(() => {
        try {
          const code = module.callMain([...args]);
          return { exitCode: code ?? 0, threw: false, stdout, stderr };
        } catch {
          return { exitCode: 2, threw: true, stdout, stderr };
        }
      });
    },
  };
}
