/**
 * Every bound the analysers enforce (DESIGN.md principle 7). Exceeding one is a finding
 * (`limits.exceeded`), never a crash. Carried in the scan context.
 */
export interface Limits {
  /** Longest string/bytes argument decoded into memory; longer ones are skipped, not read. @default 1 MiB */
  maxDecodedArgument: number;
  /** Opcodes executed symbolically per pickle stream. @default 50_000_000 */
  maxOpcodes: number;
  /** Symbolic stack depth (also bounds MARK nesting). @default 100_000 */
  maxStackDepth: number;
  /** Memo entries kept. @default 1_000_000 */
  maxMemoEntries: number;
  /** Pickles stacked in one stream. @default 64 */
  maxStackedPickles: number;
  /** Findings kept per artifact; the rest are counted. @default 1_000 */
  maxFindingsPerArtifact: number;
  /** Nesting of archives and embedded artifacts. @default 8 */
  maxNestingDepth: number;
  /** Bytes a single archive member may inflate to in memory. @default 512 MiB */
  maxMemberBytes: number;
  /** Members read from one archive. @default 100_000 */
  maxArchiveMembers: number;
  /** Bytes decompressed across one whole scan of a file, against zip bombs. @default 4 GiB */
  maxTotalInflatedBytes: number;
  /** Length of pseudocode kept per call expression. @default 800 */
  maxPseudocodeLength: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxDecodedArgument: 1024 * 1024,
  maxOpcodes: 50_000_000,
  maxStackDepth: 100_000,
  maxMemoEntries: 1_000_000,
  maxStackedPickles: 64,
  maxFindingsPerArtifact: 1_000,
  maxNestingDepth: 8,
  maxMemberBytes: 512 * 1024 * 1024,
  maxArchiveMembers: 100_000,
  maxTotalInflatedBytes: 4 * 1024 * 1024 * 1024,
  maxPseudocodeLength: 800,
});
