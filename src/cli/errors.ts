/** A command-line mistake the user can fix (a bad baseline file, …): exit code 2, no stack trace. */
export class UsageError extends Error {
  readonly code = "MODELVET_USAGE";
}
