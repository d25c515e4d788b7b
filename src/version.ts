/** The tool's version; a test keeps it equal to package.json's. */
export const VERSION = "0.1.0";

/** Version of the JSON result schema (docs/result-schema.json); bump on incompatible change. */
export const RESULT_SCHEMA_VERSION = 1;
