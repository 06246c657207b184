/**
 * `npm run db:migrate` (or `node dist/web/src/db/cli.js migrate` in the image): the deploy-time
 * database step. Settings from env, secrets from SSM SecureStrings where a *_PARAM names one:
 *
 *   DB_HOST (or DB_ENDPOINT_PARAM; host or host:port), DB_PORT (default 3306), DB_NAME (default grading),
 *   DB_TLS_CA (PEM file the server's certificate chains to; default: the Amazon RDS bundle; always TLS)
 *   DB_MASTER_USERNAME / DB_MASTER_PASSWORD          (or *_PARAM)  the RDS master user, used only here
 *   GATEWAY_DB_USERNAME / GATEWAY_DB_PASSWORD        (or *_PARAM)  created with the gateway's grants
 *   WORKER_DB_USERNAME / WORKER_DB_PASSWORD          (or *_PARAM)  created with the worker's grants
 *
 * Prints each step (never a password); exits 1 listing every missing setting at once.
 */
import { readFileSync } from 'node:fs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { resolveSsmParameters, ConfigError } from '../../../core/src/config';
import { migrateDatabase, MigrationOptions } from './migrate';

type Env = Record<string, string | undefined>;

function readCa(file: string, problems: string[]): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`DB_TLS_CA: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
}

const SECRET_SETTINGS: Array<[string, string]> = [
  ['DB_HOST', 'DB_ENDPOINT_PARAM'],
  ['DB_MASTER_USERNAME', 'DB_MASTER_USERNAME_PARAM'],
  ['DB_MASTER_PASSWORD', 'DB_MASTER_PASSWORD_PARAM'],
  ['GATEWAY_DB_USERNAME', 'GATEWAY_DB_USERNAME_PARAM'],
  ['GATEWAY_DB_PASSWORD', 'GATEWAY_DB_PASSWORD_PARAM'],
  ['WORKER_DB_USERNAME', 'WORKER_DB_USERNAME_PARAM'],
  ['WORKER_DB_PASSWORD', 'WORKER_DB_PASSWORD_PARAM'],
];

export function migrationOptionsFromEnv(env: Env): MigrationOptions {
  const problems: string[] = [];
  const required = (name: string) => {
    if (!env[name]) problems.push(`${name} is required (or ${name.replace(/_HOST$/, '_ENDPOINT')}_PARAM naming an SSM parameter)`);
    return env[name] ?? '';
  };
  const [host, portFromHost] = required('DB_HOST').split(':');
  const port = Number(env.DB_PORT || portFromHost || 3306);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`DB_PORT must be a port number (got "${env.DB_PORT}")`);
  const options: MigrationOptions = {
    host,
    port,
    database: env.DB_NAME || 'grading',
    master: { username: required('DB_MASTER_USERNAME'), password: required('DB_MASTER_PASSWORD') },
    gateway: { username: required('GATEWAY_DB_USERNAME'), password: required('GATEWAY_DB_PASSWORD') },
    worker: { username: required('WORKER_DB_USERNAME'), password: required('WORKER_DB_PASSWORD') },
    ca: env.DB_TLS_CA ? readCa(env.DB_TLS_CA, problems) : undefined,
    userHost: env.DB_USER_HOST || undefined,
  };
  if (problems.length) throw new Error(`Invalid database migration settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return options;
}

export async function main(argv: string[], env: Env = process.env, ssm?: SSMClient): Promise<number> {
  if (argv[0] !== 'migrate') {
    process.stderr.write('usage: db migrate   (settings from env; see web/src/db/cli.ts)\n');
    return 2;
  }
  try {
    const resolved = await resolveSsmParameters(env, ssm, SECRET_SETTINGS);
    for (const line of await migrateDatabase(migrationOptionsFromEnv(resolved))) process.stdout.write(`migrated: ${line}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof ConfigError ? error.problems.join('\n') : (error as Error).message;
    process.stderr.write(`database migration failed: ${message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
