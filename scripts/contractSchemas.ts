/**
 * The contracts' JSON Schemas as published files (docs/contracts/*.schema.json), generated from the
 * very objects ajv compiles, so a producer or consumer in another language validates exactly what
 * the worker does. `npx tsx scripts/contractSchemas.ts` rewrites them; a unit test fails
 * when they drift.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { progressEventSchema } from '../core/src/contracts/progress';
import { gradingRequestSchema } from '../core/src/contracts/request';
import { gradingResultSchema } from '../core/src/contracts/result';
import { runRequestSchema, runResultSchema } from '../core/src/contracts/run';
import { manifestSchema } from '../worker/src/problems/testSet';

export const CONTRACT_SCHEMAS: Record<string, object> = {
  'grading-request.schema.json': gradingRequestSchema,
  'grading-result.schema.json': gradingResultSchema,
  'progress-event.schema.json': progressEventSchema,
  'run-request.schema.json': runRequestSchema,
  'run-result.schema.json': runResultSchema,
  // Not a message: the problem format's manifest.json, for problem authors' editors and tools.
  'manifest.schema.json': manifestSchema,
};

export function schemaFileText(schema: object): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function writeContractSchemas(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return Object.entries(CONTRACT_SCHEMAS).map(([file, schema]) => {
    fs.writeFileSync(path.join(dir, file), schemaFileText(schema));
    return path.join(dir, file);
  });
}

if (require.main === module) {
  const written = writeContractSchemas(path.join(__dirname, '../docs/contracts'));
  process.stdout.write(`${written.join('\n')}\n`);
}
