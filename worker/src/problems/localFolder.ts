/** Reads a problem's test cases from a local folder (the CLI, tests, seeding the local stack). */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { buildTestSet, isTestSetFile, TestSet } from './testSet';

export async function readTestSetFromFolder(dir: string): Promise<TestSet> {
  return buildTestSet(await readTestSetFiles(dir));
}

/** The folder holding the cases: the problem folder itself or its testcases/ subfolder (the S3 layout). */
export async function testCaseFolder(dir: string): Promise<string> {
  const nested = path.join(dir, 'testcases');
  return (await fsp.stat(nested).catch(() => undefined))?.isDirectory() ? nested : dir;
}

/** The test-set files (name -> content) of a problem folder. */
export async function readTestSetFiles(dir: string): Promise<Map<string, string>> {
  const root = await testCaseFolder(dir);
  const files = new Map<string, string>();
  for (const name of await fsp.readdir(root)) {
    if (isTestSetFile(name)) files.set(name, await fsp.readFile(path.join(root, name), 'utf8'));
  }
  return files;
}
