import { formatBytes } from "../sources/http-range-source.js";

/**
 * The one-line progress display on stderr (`scanning 3/12 files · 1.2 MiB fetched`), redrawn in
 * place at most ten times a second. Only for a terminal: the CLI turns it off when stderr is not
 * a TTY, with --quiet and with --no-progress, so reports on stdout are never touched.
 */
export class Progress {
  #done = 0;
  #total = 0;
  #bytes = 0;
  #remote = false;
  #note = "";
  #last = Number.NEGATIVE_INFINITY;
  #shown = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream | null,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get enabled(): boolean {
    return this.stream !== null;
  }

  /** A phase before scanning, e.g. `listing hf://org/name…`. */
  note(text: string): void {
    this.#note = text;
    this.#render(true);
  }

  files(done: number, total: number): void {
    this.#note = "";
    this.#done = done;
    this.#total = total;
    this.#render(done === total);
  }

  /** Bytes fetched over the network (also turns on the bytes part of the line). */
  bytes(n: number): void {
    this.#remote = true;
    this.#bytes += n;
    this.#render(false);
  }

  get bytesFetched(): number {
    return this.#bytes;
  }

  /** Erases the line (call before anything else is written to the terminal). */
  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#shown) this.stream?.write("\r\u001b[2K");
    this.#shown = false;
  }

  #render(force: boolean): void {
    if (this.stream === null) return;
    const now = this.now();
    if (!force && now - this.#last < 100) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#render(true);
      }, 100);
      this.#timer.unref?.();
      return;
    }
    this.#last = now;
    const parts: string[] = [];
    if (this.#note) parts.push(this.#note);
    else if (this.#total > 0) parts.push(`scanning ${this.#done}/${this.#total} files`);
    if (this.#remote) parts.push(`${formatBytes(this.#bytes)} fetched`);
    if (parts.length === 0) return;
    this.stream.write(`\r\u001b[2K${parts.join(" · ")}…`);
    this.#shown = true;
  }
}
