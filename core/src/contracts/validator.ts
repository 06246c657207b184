/** One ajv instance for every contract, and error messages that name the field and the rule. */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// strictRequired off: if/then blocks name properties defined at the top level.
export const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true });
addFormats(ajv);

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export function validatorFor<T>(schema: object): (data: unknown) => Validation<T> {
  const validate = ajv.compile(schema) as ValidateFunction<T>;
  return (data: unknown) =>
    validate(data) ? { ok: true, value: data as T } : { ok: false, errors: (validate.errors ?? []).map(describe) };
}

function describe(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replace(/\//g, '.') : '(message)';
  switch (error.keyword) {
    case 'required':
      return `${where === '(message)' ? '' : `${where}.`}${(error.params as { missingProperty: string }).missingProperty}: is required`;
    case 'additionalProperties':
      return `${where === '(message)' ? '' : `${where}.`}${(error.params as { additionalProperty: string }).additionalProperty}: is not a known field`;
    case 'enum':
      return `${where}: ${JSON.stringify(error.data)} is not one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    default:
      return `${where}: ${error.message}${error.data !== undefined && typeof error.data !== 'object' ? ` (got ${shown(error.data)})` : ''}`;
  }
}

/** The offending value, cut short: a 64 KB field must not make a 64 KB error (DLQ headers, logs, results). */
function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 60)}... (${text.length} characters)` : text;
}
