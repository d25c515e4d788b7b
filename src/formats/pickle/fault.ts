/** Why reading a pickle stopped where a loader would raise (errors as values, STYLE.md). */
export type FaultCode =
  /** A byte that is not an opcode. */
  | "unknown-opcode"
  /** The stream ends inside an opcode or its argument, or before a STOP. */
  | "truncated"
  /** An argument that no loader accepts (bad number, bad escape, invalid UTF-8, negative length). */
  | "bad-argument"
  /** A length or line beyond what can be read (e.g. a line longer than `maxDecodedArgument`). */
  | "too-large"
  /** The byte source failed to read. */
  | "read-error"
  /** An opcode needs more stack items than the current mark frame holds. */
  | "stack-underflow"
  /** An opcode needs a MARK and there is none. */
  | "missing-mark"
  /** GET/BINGET/LONG_BINGET of an index the memo lacks. */
  | "missing-memo"
  /** An operand of a type the loader rejects (e.g. `STACK_GLOBAL requires str`). */
  | "type-error"
  /** PROTO above the highest protocol, or another value the loader rejects. */
  | "bad-value";

export interface PickleFault {
  /** Absolute offset of the opcode that faulted (or of the end of the data). */
  offset: number;
  code: FaultCode;
  /** In the user's terms, e.g. `unknown opcode byte 0x00`. */
  reason: string;
  /** Name of the opcode involved, when there is one. */
  opcode?: string;
}
