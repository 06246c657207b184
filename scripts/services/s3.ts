/** A local S3-API server (s3rver) in its own process, so fault tests can stop and restart it. */
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, killProcess, spawnService, stopProcess, waitForPort } from './process';

export interface S3Options {
  dir: string;
  port?: number;
  bucket?: string;
}

// s3rver accepts exactly this key pair by default.
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export class LocalS3 {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly bucket: string,
  ) {}

  static async create(opts: S3Options): Promise<LocalS3> {
    fs.mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
    const s3 = new LocalS3(opts.dir, opts.port ?? (await freePort()), opts.bucket ?? 'local-grading-files');
    await s3.start();
    return s3;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return path.join(this.dir, 's3rver.log');
  }

  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return;
    const bin = require.resolve('s3rver/bin/s3rver.js');
    this.child = spawnService(
      process.execPath,
      [
        bin,
        '-d',
        path.join(this.dir, 'data'),
        '-a',
        '127.0.0.1',
        '-p',
        String(this.port),
        '--silent',
        '--no-vhost-buckets',
        '--configure-bucket',
        this.bucket,
      ],
      this.logFile,
    );
    await waitForPort('s3rver', this.port, this.child, this.logFile);
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child);
  }

  async kill(): Promise<void> {
    if (this.child) await killProcess(this.child);
  }

  env(): Record<string, string> {
    return {
      S3_ENDPOINT: this.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      GRADING_BUCKET: this.bucket,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    };
  }
}
