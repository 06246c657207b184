/**
 * The worker and the gateway boot from what production ships and grade one submission end to end.
 *
 * Each process's environment is built the way production builds it: the image's ENV
 * (worker/Dockerfile), then the ECS task definition (worker) or the `docker run -e` flags of the
 * WebTier user data (gateway), both rendered by the Pulumi program for the production stack under
 * mocks. The SSM parameters the program creates are served by a local SSM API server that only lets
 * each process read what its role's policy names. What cannot exist here is swapped, and only that:
 * the hosts/ports of RDS, Amazon MQ and Judge0 inside the SSM values, the AWS endpoints, the role
 * credentials and the CA bundle (see `overrides`). Credentials, database name and bucket are the
 * program's own: the local services are created with them (the MariaDB master user and the broker's
 * admin and tier users with their groups), and the tier database users are made by the task
 * definition's `migrate` init container, run first exactly as ECS would run it.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import mysql from 'mysql2/promise';
import { BROKER_GROUPS } from '../../components/brokerXml';
import { mintHs256Token } from '../../web/src/auth/authenticator';
import { seedProblems } from '../../scripts/local';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import { freePort, pollUntilOk, sleep } from '../../scripts/services/process';
import type { LocalS3 } from '../../scripts/services/s3';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';
import { privateActiveMq, privateMariaDb, privateS3, servicesTls } from '../helpers/services';
import { createMasterUser } from '../helpers/tierUsers';
import { dockerfileEnv, dockerRun, renderProgram, ROOT, shellWords, ShippedProgram, taskEnvironment } from './shippedArtifacts';
import { SsmServer, startSsmServer, StoredParameter } from './ssmServer';

type Env = Record<string, string>;

interface Booted {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `node dist/<x>.js` in the image is `<x>.ts` in the sources: run it with tsx, with exactly `env`. */
function startEntryPoint(command: string[], env: Env): Booted {
  assert.equal(command[0], 'node', `entry point ${command.join(' ')}`);
  const built = /^dist\/(.+)\.js$/.exec(command[1] ?? '');
  assert.ok(built, `entry point ${command.join(' ')} is not a dist/*.js file`);
  const source = path.join(ROOT, `${built[1]}.ts`);
  assert.ok(fs.existsSync(source), `no source for ${command[1]}`);
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), source, ...command.slice(2)], {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return {
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Polls the readiness endpoint until 200; fails at once, with the process's output, if it exits. */
async function waitReady(name: string, proc: Booted, url: string, deadlineMs = 90_000): Promise<void> {
  const problem = await pollUntilOk(url, proc.child, deadlineMs, 250);
  if (problem) assert.fail(`${name} ${problem}:\n${proc.output()}`);
}

/**
 * `stomp+ssl://b-1.mq...:61614,...` with the host:port of each endpoint replaced (the last given
 * host:port serves every further endpoint), the scheme kept as shipped.
 */
function swapHostPorts(uris: string, ...hostPorts: string[]): string {
  return uris
    .split(',')
    .map((uri, i) => {
      const match = /^([a-z][a-z0-9+.-]*:\/\/)[^/:]+:\d+(\/.*)?$/.exec(uri.trim());
      assert.ok(match, `unexpected endpoint form ${uri}`);
      return `${match[1]}${hostPorts[Math.min(i, hostPorts.length - 1)]}${match[2] ?? ''}`;
    })
    .join(',');
}

describe('boot from the shipped artifacts: worker and gateway grade a submission', function () {
  this.timeout(240_000);
  let program: ShippedProgram;
  let imageEnv: Env;
  let workerEnv: Env;
  let migrateEnv: Env;
  let gatewayRun: ReturnType<typeof dockerRun>;
  let broker: LocalActiveMq;
  let db: LocalMariaDb;
  let s3: LocalS3;
  let judge0: Judge0TestServer;
  /** One SSM API per reader: each role's policy, and a site back end that may read the HMAC key. */
  const ssm: { worker?: SsmServer; gateway?: SsmServer; site?: SsmServer } = {};
  let migrated = false;
  const running: Booted[] = [];
  let gatewayUrl: string;

  const parameter = (name: string | undefined): StoredParameter => {
    const found = program.parameters.find((p) => p.name === name);
    assert.ok(found, `the program creates no SSM parameter ${name}`);
    return found;
  };

  /** The only env a boot adds to the shipped one: endpoints, credentials and CA that cannot be AWS's here. */
  const overrides = (ssmServer: SsmServer): Env => ({
    // The AWS endpoints (ssm.<region>.amazonaws.com, S3): the local SSM API server and s3rver.
    AWS_ENDPOINT_URL_SSM: ssmServer.url,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    // The role credentials the ECS agent / instance metadata hand out in AWS; s3rver accepts only its own pair.
    AWS_ACCESS_KEY_ID: s3.env().AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: s3.env().AWS_SECRET_ACCESS_KEY,
    // Production trusts Amazon MQ's public certificate and mysql2's RDS bundle; the local broker's and
    // database's certificates chain to the test CA instead.
    MQ_TLS_CA: servicesTls().caFile,
    DB_TLS_CA: servicesTls().caFile,
  });

  before(async () => {
    program = await renderProgram('production');
    imageEnv = dockerfileEnv();
    workerEnv = taskEnvironment(program.workerContainer, imageEnv, program.parameters);
    gatewayRun = dockerRun(program.gatewayUserData);
    const value = (envName: string) => parameter(workerEnv[envName]).value;
    // The RDS master user and the Amazon MQ users are the program's own: the migrate container's
    // master credentials, and every user of the broker resource with its groups.
    const master = taskEnvironment(program.migrateContainer, {}, program.parameters);
    const [admin, ...tierUsers] = [...program.brokerUsers].sort(
      (a, b) => Number(b.groups.includes(BROKER_GROUPS.admins)) - Number(a.groups.includes(BROKER_GROUPS.admins)),
    );
    assert.deepEqual(admin.groups, [BROKER_GROUPS.admins]);

    [broker, db, s3, judge0] = await Promise.all([
      privateActiveMq('boot', { username: admin.username, password: admin.password, users: tierUsers }),
      privateMariaDb('boot', { database: program.databaseName, migrate: false }),
      privateS3('boot', { bucket: workerEnv.GRADING_BUCKET }),
      startJudge0TestServer({ authToken: value('JUDGE0_AUTH_TOKEN_PARAM'), uidBase: 62800 }),
    ]);
    createMasterUser(db, program.databaseName, { username: master.DB_MASTER_USERNAME, password: master.DB_MASTER_PASSWORD });
    await seedProblems(s3.env());

    // The SSM values as the program writes them, with only the hosts and ports of what runs here swapped.
    // Active/standby: only one broker instance accepts connections. The first endpoint plays the standby
    // (a port nobody listens on), so both processes must fail over to the second, as in AWS.
    const standby = await freePort();
    const local: Record<string, (shipped: string) => string> = {
      [workerEnv.MQ_ENDPOINT_PARAM]: (shipped) => {
        const endpoints = shipped.split(',').length;
        return swapHostPorts(shipped, ...(endpoints > 1 ? [`127.0.0.1:${standby}`] : []), `127.0.0.1:${broker.stompPort}`);
      },
      [workerEnv.DB_ENDPOINT_PARAM]: (shipped) => swapHostPorts(`tcp://${shipped}`, `127.0.0.1:${db.port}`).slice('tcp://'.length),
      [workerEnv.JUDGE0_ENDPOINT_PARAM]: (shipped) => swapHostPorts(shipped, new URL(judge0.baseUrl).host),
    };
    const parameters = program.parameters.map((p) => (local[p.name] ? { ...p, value: local[p.name](p.value) } : p));
    const region = workerEnv.AWS_REGION;
    ssm.worker = await startSsmServer({ region, account: '123456789012', parameters, readable: program.readableBy.worker });
    ssm.gateway = await startSsmServer({ region, account: '123456789012', parameters, readable: program.readableBy.gateway });
    if (gatewayRun.env.AUTH_HMAC_SECRET_PARAM) {
      ssm.site = await startSsmServer({ region, account: '123456789012', parameters, readable: [gatewayRun.env.AUTH_HMAC_SECRET_PARAM] });
    }
    // ECS resolves the container's secrets (execution role) into its environment before it starts.
    migrateEnv = taskEnvironment(program.migrateContainer, imageEnv, parameters);
  });

  after(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await Promise.all([ssm.worker?.close(), ssm.gateway?.close(), ssm.site?.close(), judge0?.close()]);
  });

  it('runs the migrate init container first, as the task definition describes, as the master user', async () => {
    assert.deepEqual(program.workerDependsOn, [{ containerName: 'migrate', condition: 'SUCCESS' }], 'the worker waits for the migration');
    assert.equal(program.migrateContainer.essential, false);
    const secrets = (program.migrateContainer.secrets ?? []).map((s) => s.valueFrom.replace(/^arn:aws:ssm:[^:]+:[^:]+:parameter/, ''));
    assert.deepEqual(
      secrets.filter((n) => !program.readableBy.execution?.includes(n)),
      [],
      'the execution role reads every secret ECS injects',
    );
    const masterParameters = ['DB_MASTER_USERNAME', 'DB_MASTER_PASSWORD'].map(
      (k) => program.migrateContainer.secrets!.find((s) => s.name === k)!.valueFrom,
    );
    for (const arn of masterParameters) {
      const name = arn.replace(/^arn:aws:ssm:[^:]+:[^:]+:parameter/, '');
      assert.ok(!program.readableBy.worker?.includes(name) && !program.readableBy.gateway?.includes(name), `no tier role reads ${name}`);
    }
    // DB_TLS_CA: the migration trusts the RDS bundle in AWS; the local database's certificate chains to the test CA.
    const migrate = startEntryPoint(program.migrateContainer.command!, { ...migrateEnv, DB_TLS_CA: servicesTls().caFile });
    running.push(migrate);
    const code = await new Promise<number | null>((resolve) => {
      if (migrate.child.exitCode !== null) resolve(migrate.child.exitCode);
      else migrate.child.once('exit', (c) => resolve(c));
    });
    assert.equal(code, 0, `migrate exited ${code}:\n${migrate.output()}`);
    for (const tier of ['GATEWAY', 'WORKER'])
      assert.match(migrate.output(), new RegExp(`migrated: user ${migrateEnv[`${tier}_DB_USERNAME`]}: `));
    migrated = true;
  });

  it('starts the worker from the image ENV and the ECS task definition, as its own database and broker user', async () => {
    assert.ok(migrated, 'the migrate container succeeded first');
    assert.equal(workerEnv.EXECUTOR, 'judge0', 'production grades on Judge0');
    assert.equal(parameter(workerEnv.DB_USERNAME_PARAM).value, migrateEnv.WORKER_DB_USERNAME, 'the worker tier database user');
    assert.notEqual(parameter(workerEnv.DB_USERNAME_PARAM).value, migrateEnv.DB_MASTER_USERNAME);
    const mqUser = program.brokerUsers.find((u) => u.username === parameter(workerEnv.MQ_USERNAME_PARAM).value);
    assert.deepEqual(mqUser?.groups, [BROKER_GROUPS.workers], 'the worker tier broker user');
    const healthPort = await freePort();
    // HEALTH_PORT: the task's 8080 may be taken on a shared test machine.
    const env = { ...workerEnv, ...overrides(ssm.worker!), HEALTH_PORT: String(healthPort) };
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(fs.readFileSync(path.join(ROOT, 'worker/Dockerfile'), 'utf8'));
    assert.ok(cmd, 'worker/Dockerfile has an exec-form CMD');
    const worker = startEntryPoint(program.workerContainer.command ?? (JSON.parse(cmd[1]) as string[]), env);
    running.push(worker);
    await waitReady('worker', worker, `http://127.0.0.1:${healthPort}/health/ready`);
    const connected = new RegExp(`"broker connected".*"stomp\\+ssl://127\\.0\\.0\\.1:${broker.stompPort}"`);
    assert.match(worker.output(), connected, 'over TLS, past the standby');
    const readable = new Set(
      Object.entries(workerEnv)
        .filter(([k]) => k.endsWith('_PARAM'))
        .map(([, v]) => v),
    );
    const read = new Set(ssm.worker!.reads.map((r) => r.split(' ')[1]));
    assert.deepEqual(read, readable, 'the worker reads exactly the parameters its task definition names');
  });

  it("starts the gateway from the image ENV and the user data's docker run flags, as its own users, with token auth", async () => {
    assert.ok(migrated, 'the migrate container succeeded first');
    assert.equal(imageEnv.EXECUTOR, 'judge0', 'the gateway runs in the worker image, EXECUTOR=judge0 included');
    assert.equal(parameter(gatewayRun.env.DB_USERNAME_PARAM).value, migrateEnv.GATEWAY_DB_USERNAME, 'the gateway tier database user');
    const mqUser = program.brokerUsers.find((u) => u.username === parameter(gatewayRun.env.MQ_USERNAME_PARAM).value);
    assert.deepEqual(mqUser?.groups, [BROKER_GROUPS.gateways], 'the gateway tier broker user');
    assert.equal(gatewayRun.env.AUTH_MODE, 'hmac', 'the production stack authenticates with HS256 tokens');
    assert.ok(!('AUTH_HMAC_SECRET' in gatewayRun.env), 'the key by parameter name only');
    const port = await freePort();
    // PORT: the instance's 3000 is also the local stack's default port on this machine.
    const env = { ...imageEnv, ...gatewayRun.env, ...overrides(ssm.gateway!), PORT: String(port) };
    const gateway = startEntryPoint(gatewayRun.command, env);
    running.push(gateway);
    gatewayUrl = `http://127.0.0.1:${port}`;
    await waitReady('gateway', gateway, `${gatewayUrl}/health/ready`);
    assert.ok(!ssm.gateway!.reads.some((r) => r.includes('/judge0/')), 'the gateway reads no Judge0 parameter');
    assert.ok(
      ssm.gateway!.reads.some((r) => r.endsWith(` ${gatewayRun.env.AUTH_HMAC_SECRET_PARAM}`)),
      'the gateway reads the HMAC key from SSM',
    );
    assert.equal((await fetch(`${gatewayUrl}/health/live`)).status, 200);
  });

  it("grades one submission through the gateway's HTTP API: broker, Judge0, database and S3 all reached", async () => {
    assert.ok(gatewayUrl, 'the gateway started');
    const sourceCode = fs.readFileSync(path.join(ROOT, 'examples/solutions/sum/accepted.py'), 'utf8');
    // A site's back end: `aws ssm get-parameter --with-decryption` of the key, then an HS256 token for its user.
    const site = new SSMClient({
      region: workerEnv.AWS_REGION,
      endpoint: ssm.site!.url,
      credentials: { accessKeyId: 'site', secretAccessKey: 'site' },
    });
    const key = await site.send(new GetParameterCommand({ Name: gatewayRun.env.AUTH_HMAC_SECRET_PARAM, WithDecryption: true }));
    site.destroy();
    const token = await mintHs256Token(key.Parameter!.Value!, {
      sub: 'boot_user',
      issuer: gatewayRun.env.AUTH_ISSUER,
      audience: gatewayRun.env.AUTH_AUDIENCE,
      rolesClaim: gatewayRun.env.AUTH_ROLES_CLAIM,
    });
    const submission = JSON.stringify({ problemId: 'sum', language: 'python', sourceCode });
    const anonymous = await fetch(`${gatewayUrl}/api/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: submission,
    });
    assert.equal(anonymous.status, 401, 'no token, no submission');
    const headers = { authorization: `Bearer ${token}` };
    const submitted = await fetch(`${gatewayUrl}/api/submissions`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: submission,
    });
    const body = (await submitted.json()) as { requestId: string; message?: string };
    assert.equal(submitted.status, 202, body.message);

    let view: { status: string; result?: { verdict: string; testResults: unknown[] }; error?: string } = { status: 'pending' };
    const deadline = Date.now() + 120_000;
    while (view.status === 'pending' && Date.now() < deadline) {
      await sleep(250);
      view = await (await fetch(`${gatewayUrl}/api/submissions/${body.requestId}`, { headers })).json();
    }
    assert.equal(view.status, 'completed', `${JSON.stringify(view)}\n${running.map((p) => p.output()).join('\n')}`);
    assert.equal(view.result?.verdict, 'AC');
    const cases = fs.readdirSync(path.join(ROOT, 'examples/problems/sum/testcases')).filter((f) => f.endsWith('.in'));
    assert.equal(view.result?.testResults.length, cases.length);
    assert.ok(
      judge0.requests.some((r) => r.startsWith('POST /submissions')),
      'graded on Judge0 with the token from SSM',
    );

    const conn = await mysql.createConnection(db.connectionOptions());
    try {
      const sql = 'SELECT status, verdict FROM grading_results WHERE request_id = ?';
      const [rows] = await conn.execute<mysql.RowDataPacket[]>(sql, [body.requestId]);
      assert.deepEqual(
        rows.map((r) => [r.status, r.verdict]),
        [['completed', 'AC']],
      );
    } finally {
      await conn.end();
    }
  });

  it('grades a testlib-checker problem and an interactive problem on Judge0 (the worker image has no compiler)', async () => {
    assert.ok(gatewayUrl, 'the gateway started');
    const site = new SSMClient({
      region: workerEnv.AWS_REGION,
      endpoint: ssm.site!.url,
      credentials: { accessKeyId: 'site', secretAccessKey: 'site' },
    });
    const key = await site.send(new GetParameterCommand({ Name: gatewayRun.env.AUTH_HMAC_SECRET_PARAM, WithDecryption: true }));
    site.destroy();
    const claims = {
      issuer: gatewayRun.env.AUTH_ISSUER,
      audience: gatewayRun.env.AUTH_AUDIENCE,
      rolesClaim: gatewayRun.env.AUTH_ROLES_CLAIM,
    };
    const headers = { authorization: `Bearer ${await mintHs256Token(key.Parameter!.Value!, { sub: 'boot_author', ...claims })}` };
    const grade = async (problemId: string, solution: string) => {
      const sourceCode = fs.readFileSync(path.join(ROOT, 'examples/solutions', problemId, solution), 'utf8');
      const submitted = await fetch(`${gatewayUrl}/api/submissions`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ problemId, language: 'python', sourceCode }),
      });
      const { requestId } = (await submitted.json()) as { requestId: string };
      assert.equal(submitted.status, 202);
      let view: { status: string; result?: { verdict: string } } = { status: 'pending' };
      for (const deadline = Date.now() + 120_000; view.status === 'pending' && Date.now() < deadline;) {
        await sleep(250);
        view = await (await fetch(`${gatewayUrl}/api/submissions/${requestId}`, { headers })).json();
      }
      return view;
    };
    const before = judge0.posted.length;
    const checked = await grade('any-pair', 'accepted.py');
    assert.equal(checked.result?.verdict, 'AC', `${JSON.stringify(checked)}\n${running.map((p) => p.output()).join('\n')}`);
    const interactive = await grade('guess-number', 'accepted.py');
    assert.equal(interactive.result?.verdict, 'AC', `${JSON.stringify(interactive)}\n${running.map((p) => p.output()).join('\n')}`);
    // The checker and the interactor ran on Judge0 as multi-file programs, not in a sandbox of the worker's.
    const zips = judge0.posted
      .slice(before)
      .filter((p) => (p.body as { language_id?: number }).language_id === 89)
      .map((p) => Buffer.from(String((p.body as { additional_files: string }).additional_files), 'base64').toString('latin1'));
    assert.ok(
      zips.some((zip) => zip.includes('answer.txt')),
      'the checker ran on Judge0',
    );
    assert.ok(
      zips.some((zip) => zip.includes('mkfifo')),
      'the interaction ran on Judge0',
    );
  });
});

describe('boot artifacts: reading them as the shell and Docker do', () => {
  it('splits shell words with quotes, escapes and continuations, and refuses expansions', () => {
    const words = shellWords(`docker run -e 'A=x y' \\\n  -e B="p\\"q" -e C=a\\ b img`);
    assert.deepEqual(words, ['docker', 'run', '-e', 'A=x y', '-e', 'B=p"q', '-e', 'C=a b', 'img']);
    assert.throws(() => shellWords('-e PASSWORD=ab$cd'), /shell expansion/);
    assert.throws(() => shellWords('-e "X=$(id)"'), /shell expansion/);
  });

  it('reads docker run -e flags, the image and its command', () => {
    const script = [
      '#!/bin/bash',
      'docker run -d --name g --restart always -p 3000:3000 \\',
      '  -e A=1 \\',
      '  --env=B=2 \\',
      '  repo/img@sha256:0 node dist/web/src/main.js',
      '',
    ].join('\n');
    const run = dockerRun(script);
    assert.deepEqual(run, { env: { A: '1', B: '2' }, image: 'repo/img@sha256:0', command: ['node', 'dist/web/src/main.js'] });
    assert.throws(() => dockerRun('docker run -e FROM_HOST img'), /host's environment/);
  });
});
