/**
 * Where pickle FRAMEs end, for joblib's raw reads. joblib unpickles with `pickle._Unpickler`,
 * whose `_Unframer` reads a whole frame into memory at its FRAME opcode; `read_array` then reads
 * array data from the file itself, i.e. after the frame, while opcodes go on from inside it.
 * joblib.dump ends a frame right after each array wrapper's BUILD (`commit_frame(force=True)`), so
 * the two agree; a BUILD in the middle of a frame means they do not.
 *
 * The pickle engine treats FRAME as a no-op, so the tracker walks the same opcodes again (only
 * between raw reads, only when a wrapper's BUILD asks) and remembers the last frame's end.
 */

import type { ByteSource } from "../../core/byte-source.js";
import { disassemble } from "../pickle/disassemble.js";
import { OP } from "../pickle/opcodes.js";

export class FrameTracker {
  private from: number;
  private frameEnd = -1;

  constructor(
    private readonly source: ByteSource,
    private readonly maxDecodedArgument: number,
    start: number,
  ) {
    this.from = start;
  }

  /**
   * The end of the last FRAME declared in the opcodes up to `offset` (the offset after a BUILD the
   * engine has just run), or -1 when there is none. Walks only the opcodes not walked yet.
   */
  async frameEndAt(offset: number): Promise<number> {
    if (offset > this.from) {
      await disassemble(
        this.source,
        {
          op: (code, arg, _at, end) => {
            if (code === OP.FRAME && typeof arg === "number") this.frameEnd = end + arg;
            return true;
          },
        },
        { start: this.from, end: offset, maxDecodedArgument: this.maxDecodedArgument },
      );
      this.from = offset;
    }
    return this.frameEnd;
  }

  /** Opcodes resume at `offset` (after raw data the engine skipped). */
  resumeAt(offset: number): void {
    this.from = Math.max(this.from, offset);
  }
}
