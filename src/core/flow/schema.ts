import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type InputIssue, InputValidationError } from '../shared/errors.js';

/** Runs a Standard Schema and returns its (possibly transformed) output, or throws with field-level issues. */
export async function validateInput(
  flow: string,
  schema: StandardSchemaV1 | undefined,
  value: unknown,
): Promise<unknown> {
  if (!schema) return value;
  const result = await schema['~standard'].validate(value);
  if (result.issues) throw new InputValidationError(flow, result.issues.map(toIssue));
  return result.value;
}

function toIssue(issue: StandardSchemaV1.Issue): InputIssue {
  const path = (issue.path ?? []).map((segment) =>
    typeof segment === 'object' && segment !== null ? (segment.key as string | number) : (segment as string | number),
  );
  return { path, message: issue.message };
}
