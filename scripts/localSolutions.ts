/**
 * Accepted solutions on the local stack: a local server following GitHub's contents API stands in
 * for GitHub (tests/helpers/fakeGitHub.ts), every sample user is linked to its repository
 * `local/solutions` with a random token, the accepted-solutions process runs as a child, and after
 * the samples the commits it made are listed. Linking through the page needs the gateway's sign-in;
 * the samples are linked directly in the database instead.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openMigratedPool } from '../core/src/db/pool';
import { LocalEnvelopeEncryptor } from '../core/src/solutions/crypto';
import { DEFAULT_PATH_TEMPLATE } from '../core/src/solutions/pathTemplate';
import { MysqlSolutionStore } from '../core/src/solutions/store';
import { FakeGitHub, startFakeGitHub } from '../tests/helpers/fakeGitHub';
import { freePort, sleep } from './services/process';

export const LOCAL_REPOSITORY = 'local/solutions';

export interface LocalSolutions {
  github: FakeGitHub;
  /** What the gateway and the accepted-solutions process need besides the connection settings. */
  env: Record<string, string>;
  linkUsers(connectionEnv: Record<string, string>, userIds: string[]): Promise<void>;
  /** Waits (up to timeoutMs) until each request id has its commit record; returns them. */
  commits(
    connectionEnv: Record<string, string>,
    requestIds: string[],
    timeoutMs?: number,
  ): Promise<Array<{ requestId: string; url?: string; path?: string; status?: string }>>;
  stop(): Promise<void>;
}

export async function prepareLocalSolutions(stateDir: string): Promise<LocalSolutions> {
  // The token key survives restarts with the rest of .local/, so tokens sealed earlier still open.
  const keyFile = path.join(stateDir, 'solutions-token.key');
  if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const key = fs.readFileSync(keyFile, 'utf8').trim();
  const token = `github_pat_local_${randomBytes(12).toString('hex')}`;
  const github = await startFakeGitHub([token]);
  github.addRepository(LOCAL_REPOSITORY);
  const healthPort = await freePort();
  const withStore = async <T>(env: Record<string, string>, work: (store: MysqlSolutionStore) => Promise<T>): Promise<T> => {
    const settings = {
      host: env.DB_HOST,
      port: Number(env.DB_PORT),
      database: env.DB_NAME,
      user: env.DB_USERNAME,
      password: env.DB_PASSWORD,
      ca: fs.readFileSync(env.DB_TLS_CA, 'utf8'),
    };
    const pool = await openMigratedPool(settings, { who: 'the local stack', connectionLimit: 2 });
    try {
      return await work(await MysqlSolutionStore.create(pool));
    } finally {
      await pool.end();
    }
  };
  return {
    github,
    env: {
      SOLUTIONS_TOKEN_KEY: key,
      SOLUTIONS_TOKEN_KEY_ID: 'local',
      GITHUB_API_URL: github.baseUrl,
      SOLUTIONS_HEALTH_PORT: String(healthPort),
    },
    linkUsers: (env, userIds) =>
      withStore(env, async (store) => {
        const encryptor = new LocalEnvelopeEncryptor(key, 'local');
        for (const userId of userIds) {
          await store.saveLink({
            userId,
            repository: LOCAL_REPOSITORY,
            pathTemplate: DEFAULT_PATH_TEMPLATE,
            tokenSealed: await encryptor.encrypt(token, userId),
          });
        }
      }),
    commits: (env, requestIds, timeoutMs = 60_000) =>
      withStore(env, async (store) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const records = await Promise.all(requestIds.map(async (requestId) => ({ requestId, record: await store.getCommit(requestId) })));
          const pending = records.filter((r) => r.record?.status !== 'committed');
          if (pending.length === 0 || Date.now() > deadline) {
            return records.map(({ requestId, record }) => ({
              requestId,
              url: record?.commitUrl,
              path: record?.path,
              status: record?.status,
            }));
          }
          await sleep(250);
        }
      }),
    stop: () => github.close(),
  };
}
