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
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LIVE_VERSION_FILE, LIVE_VERSIONS_DIR } from '../../storage/s3Store';
import { readTestSetFiles } from '../localFolder';
import type { ProblemReport } from './validate';

export interface PushedProblem {
  problem: string;
  version: string;
  files: number;
}

/** Uploads valid problems (reports from validateProblems, every one without errors). */
export async function pushProblems(reports: ProblemReport[], client: S3Client, bucket: string): Promise<PushedProblem[]> {
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
    await put(`${base}${LIVE_VERSION_FILE}`, `${JSON.stringify({ version, pushedAt: new Date().toISOString() })}\n`, 'application/json');
    pushed.push({ problem: report.problem, version, files: files.size });
  }
  return pushed;
}

function versionOf(files: Map<string, string>): string {
  const hash = createHash('sha256');
  for (const name of [...files.keys()].sort()) hash.update(name).update('\0').update(files.get(name)!).update('\0');
  return hash.digest('hex').slice(0, 24);
}
