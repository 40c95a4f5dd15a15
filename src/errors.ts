/**
 * The one error type detbench throws for problems a user can fix (bad suite, bad model, bad path).
 * The CLI prints `message` and exits with code 2; `code` is stable so tests and scripts can match on it.
 */
export class DetbenchError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(
    code: string,
    message: string,
    // A location may be unknown (a YAML node without a range): undefined is a value callers pass.
    options: { cause?: unknown; file?: string | undefined; line?: number | undefined; field?: string | undefined } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DetbenchError';
    this.code = code;
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
  }
}

/** A short message for any thrown value, for `errored` records. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The stable code of a thrown value: a DetbenchError's own, else `RUNTIME_ERROR`. */
export function errorCode(err: unknown): string {
  return err instanceof DetbenchError ? err.code : 'RUNTIME_ERROR';
}
