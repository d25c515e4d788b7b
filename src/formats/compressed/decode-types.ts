/** What the stream decoders share: bounds in, bytes and a reason for stopping out. */

export interface DecodeOptions {
  /** Output bytes kept at most; decoding stops beyond. */
  maxOutput: number;
  /** Stop when output exceeds the compressed size × this, once past `ratioGuardMinOutput`. */
  maxRatio: number;
  /** Output size from which the ratio guard applies. */
  ratioGuardMinOutput: number;
}

/**
 * Why decoding stopped: the stream ended cleanly (`end`), a bound was hit (`limit`, `ratio`), the
 * input ended early (`truncated`), the data is bad (`corrupt`), data follows the stream
 * (`trailing`, everything before it was decoded), or the decoder could not run (`unavailable`).
 */
export type DecodeStop =
  | "end"
  | "limit"
  | "ratio"
  | "truncated"
  | "corrupt"
  | "trailing"
  | "unavailable";

export interface DecodeOutcome {
  /** What was decoded (everything before an error too), at most `maxOutput` bytes. */
  bytes: Uint8Array;
  stop: DecodeStop;
  /** The decoder's own words, when it reported a problem. */
  message?: string;
}
