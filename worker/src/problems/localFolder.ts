/** Reads a problem's test cases from a local folder (the CLI, tests, seeding the local stack). */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { buildTestSet, isTestSetFile, TestSet } from './testSet';

export async function readTestSetFromFolder(dir: string): Promise<TestSet> {
  // Accept both the problem folder and its testcases/ subfolder (the S3 layout).
  const nested = path.join(dir, 'testcases');
  const root = (await fsp.stat(nested).catch(() => undefined))?.isDirectory() ? nested : dir;
  const files = new Map<string, string>();
  for (const name of await fsp.readdir(root)) {
    if (isTestSetFile(name)) files.set(name, await fsp.readFile(path.join(root, name), 'utf8'));
  }
  return buildTestSet(files);
}
