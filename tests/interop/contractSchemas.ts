/** Validators built only from the published schema files in docs/contracts, as a consumer in another language would build them. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

export const CONTRACTS_DIR = path.join(__dirname, '../../docs/contracts');

export function publishedValidators(): Record<'request' | 'result' | 'progress' | 'runRequest' | 'runResult', ValidateFunction> {
  // A fresh instance, not the worker's: nothing but the files decides.
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const load = (file: string) => JSON.parse(fs.readFileSync(path.join(CONTRACTS_DIR, file), 'utf8'));
  ajv.addSchema(load('grading-result.schema.json'));
  ajv.addSchema(load('run-result.schema.json'));
  return {
    request: ajv.compile(load('grading-request.schema.json')),
    result: ajv.getSchema('https://grading-stack/schemas/grading-result.json')!,
    progress: ajv.compile(load('progress-event.schema.json')),
    runRequest: ajv.compile(load('run-request.schema.json')),
    runResult: ajv.getSchema('https://grading-stack/schemas/run-result.json')!,
  };
}

/** Asserts that a result document validates against the published result schema. */
export function assertPublishedResult(result: unknown): void {
  const validate = publishedValidators().result;
  if (!validate(result)) {
    throw new Error(
      `result violates docs/contracts/grading-result.schema.json: ${JSON.stringify(validate.errors)}\n${JSON.stringify(result)}`,
    );
  }
}
