/**
 * `grading-stack problem push DIR --bucket B`: validates every problem under DIR and, only when all
 * are valid, uploads each as a new test-set version: the files go to
 * problems/<id>/testcases/versions/<v>/ (v = content hash; a version is never overwritten), then one PUT
 * of problems/<id>/testcases/current.json switches the worker and the gateway to it. Until that PUT the
 * old version stays live; a broken problem never goes live. description.md goes to problems/<id>/.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LIVE_VERSION_FILE, LIVE_VERSIONS_DIR } from '../../storage/s3Store';
import { readTestSetFiles } from '../localFolder';
import type { ProblemReport } from './validate';

export interface PushedProblem {
  problem: string;
  version: string;
  files: number;
  /** Older versions deleted (`keep`). */
  removed: string[];
}

/** Versions kept per problem by default: the live one and the two before it (a quick roll-back). */
export const DEFAULT_KEEP_VERSIONS = 3;

/** Uploads valid problems (reports from validateProblems, every one without errors). */
export async function pushProblems(
  reports: ProblemReport[],
  client: S3Client,
  bucket: string,
  keep = DEFAULT_KEEP_VERSIONS,
): Promise<PushedProblem[]> {
  const broken = reports.filter((r) => r.errors.length);
  if (broken.length) throw new Error(`not pushed: ${broken.map((r) => r.problem).join(', ')} invalid (nothing was uploaded)`);
  const pushed: PushedProblem[] = [];
  for (const report of reports) {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(report.problem)) {
      throw new Error(`problem folder name "${report.problem}" is not a problem id (lowercase letters, digits, -)`);
    }
    const files = await readTestSetFiles(report.dir);
    const version = versionOf(files);
    const base = `problems/${report.problem}/testcases/`;
    const put = (key: string, body: string | Buffer, contentType = 'text/plain; charset=utf-8') =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    await Promise.all([...files].map(([name, content]) => put(`${base}${LIVE_VERSIONS_DIR}${version}/${name}`, content)));
    const description = await fsp.readFile(path.join(report.dir, 'description.md')).catch(() => undefined);
    if (description) await put(`problems/${report.problem}/description.md`, description, 'text/markdown; charset=utf-8');
    // The switch: the one write that makes the complete version live.
    const history = historyAfter(await readPointer(client, bucket, `${base}${LIVE_VERSION_FILE}`), version);
    const pointer = { version, pushedAt: new Date().toISOString(), history };
    await put(`${base}${LIVE_VERSION_FILE}`, `${JSON.stringify(pointer)}\n`, 'application/json');
    const removed = await pruneVersions(client, bucket, report.problem, keep);
    pushed.push({ problem: report.problem, version, files: files.size, removed });
  }
  return pushed;
}

function versionOf(files: Map<string, string>): string {
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort()) hash.update(name).update('\0').update(files.get(name)!).update('\0');
  return hash.digest('hex').slice(0, 24);
}

/** current.json: the live version and, newest first, the versions live before it. */
interface LivePointer {
  version?: string;
  history?: string[];
}

async function readPointer(client: S3Client, bucket: string, key: string): Promise<LivePointer> {
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await object.Body!.transformToString('utf8')) as LivePointer;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((error as Error).name === 'NoSuchKey' || status === 404) return {};
    throw error;
  }
}

/** The history current.json carries once `version` goes live (bounded; S3 times are too coarse to order pushes). */
function historyAfter(previous: LivePointer, version: string): string[] {
  const before = [previous.version, ...(Array.isArray(previous.history) ? previous.history : [])];
  return [...new Set(before.filter((v): v is string => typeof v === 'string' && v !== version))].slice(0, MAX_HISTORY);
}

const MAX_HISTORY = 50;

/**
 * Deletes a problem's test-set versions other than the live one and the `keep - 1` that were live
 * before it (current.json's history, read again here: another push may have switched meanwhile),
 * including versions no history names (uploads that never went live). Workers read the live version
 * when a grading starts, so an older version only matters to gradings already running.
 */
export async function pruneVersions(client: S3Client, bucket: string, problem: string, keep: number): Promise<string[]> {
  const base = `problems/${problem}/testcases/`;
  const prefix = `${base}${LIVE_VERSIONS_DIR}`;
  const pointer = await readPointer(client, bucket, `${base}${LIVE_VERSION_FILE}`);
  if (!pointer.version) return [];
  const kept = new Set([pointer.version, ...historyAfter(pointer, pointer.version)].slice(0, keep));
  const doomed = new Map<string, string[]>();
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const version = object.Key!.slice(prefix.length).split('/')[0];
      if (!kept.has(version)) doomed.set(version, [...(doomed.get(version) ?? []), object.Key!]);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const keys = [...doomed.values()].flat();
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000).map((Key) => ({ Key }));
    const answer = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk, Quiet: true } }));
    const errors = (answer.Errors ?? []).map((e) => `${e.Key}: ${e.Message}`);
    if (errors.length) throw new Error(`deleting old versions of ${problem}: ${errors.join('; ')}`);
  }
  return [...doomed.keys()];
}
