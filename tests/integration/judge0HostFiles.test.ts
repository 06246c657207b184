/**
 * The Judge0 host's files, checked with real tools (YAML parsing, shellcheck, cloud-init's schema)
 * and under Judge0 1.13.1's own rules: judge0.conf rendered by the shipped render-conf.sh, loaded the
 * way Judge0's scripts/load-config loads it (`set -o allexport; source`) as the image's uid 1000.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { GENERATED_PASSWORD_SPECIALS } from '../../components/common';
import { renderCloudInit } from '../../components/judge0Host';

const DIR = path.join(__dirname, '../../judge0-host');
const read = (f: string) => fs.readFileSync(path.join(DIR, f), 'utf8');

describe('judge0-host files', function () {
  this.timeout(60_000);

  it('docker-compose.yml runs server, privileged workers, postgres and redis, pinned, with health-gated start', () => {
    const compose = parse(read('docker-compose.yml'));
    assert.deepEqual(Object.keys(compose.services).sort(), ['db', 'redis', 'server', 'workers']);
    assert.equal(compose.services.server.image, 'judge0/judge0:1.13.1');
    assert.equal(compose.services.workers.image, 'judge0/judge0:1.13.1');
    assert.equal(compose.services.workers.privileged, true);
    assert.deepEqual(compose.services.server.ports, ['2358:2358']);
    for (const svc of ['server', 'workers']) assert.equal(compose.services[svc].depends_on.db.condition, 'service_healthy');
    assert.ok(compose.services.db.healthcheck && compose.services.redis.healthcheck);
    assert.doesNotMatch(read('docker-compose.yml'), /PASSWORD=\w/, 'no password literal');
  });

  it('judge0.conf template takes every secret from the environment and turns telemetry and wait off', () => {
    const conf = read('judge0.conf.template');
    for (const line of [
      'AUTHN_HEADER=X-Auth-Token',
      "AUTHN_TOKEN='${JUDGE0_AUTH_TOKEN}'",
      "REDIS_PASSWORD='${REDIS_PASSWORD}'",
      "POSTGRES_PASSWORD='${POSTGRES_PASSWORD}'",
      'JUDGE0_TELEMETRY_ENABLE=false',
      'ENABLE_WAIT_RESULT=false',
      'MAX_SUBMISSION_BATCH_SIZE=20',
    ]) {
      assert.ok(conf.split('\n').includes(line), `missing ${line}`);
    }
  });

  it('bootstrap.sh and render-conf.sh pass shellcheck', () => {
    execFileSync('shellcheck', ['--severity=info', path.join(DIR, 'bootstrap.sh'), path.join(DIR, 'render-conf.sh')]);
  });

  it('bootstrap.sh renders judge0.conf with render-conf.sh', () => {
    assert.match(
      read('bootstrap.sh'),
      /\n"\$\{APP_DIR\}\/render-conf\.sh" "\$\{APP_DIR\}\/judge0\.conf\.template" "\$\{APP_DIR\}\/judge0\.conf"\n/,
    );
  });

  it('sets only keys Judge0 1.13.1 knows (its judge0.conf), so no setting is silently ignored', () => {
    const unknown = Object.keys(templateValues()).filter((key) => !JUDGE0_CONF_KEYS.includes(key));
    assert.deepEqual(unknown, []);
  });

  it('bootstrap.sh switches to cgroup v1 and reboots only once', () => {
    const script = read('bootstrap.sh');
    assert.match(script, /grep -q 'systemd\.unified_cgroup_hierarchy=0' \/proc\/cmdline/);
    assert.match(script, /GRUB_CMDLINE_LINUX=.*systemd\.unified_cgroup_hierarchy=0/);
    assert.match(script, /update-grub/);
    assert.match(script, /if \[ -f "\$\{MARKER\}" \]; then[\s\S]*refusing to reboot again[\s\S]*exit 1/);
    assert.ok(script.indexOf('touch "${MARKER}"') < script.indexOf('systemctl reboot'), 'the marker is written before rebooting');
    assert.match(script, /docker compose up -d db redis\ndocker compose up -d server workers/);
  });

  it('the rendered cloud-config is valid for cloud-init and embeds the files', () => {
    const rendered = renderCloudInit('production', 'eu-west-1');
    // EC2 refuses user data over 16 KB (before base64): the embedded files must stay under it.
    assert.ok(Buffer.byteLength(rendered) <= 16384, `user data is ${Buffer.byteLength(rendered)} bytes`);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-init-')), 'user-data.yaml');
    fs.writeFileSync(file, rendered);
    const out = execFileSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    assert.match(out, /Valid cloud-config/);
    const doc = parse(rendered);
    const written = Object.fromEntries(
      doc.write_files.map((f: { path: string; content: string; encoding?: string }) => [
        f.path,
        f.encoding === 'b64' ? Buffer.from(f.content, 'base64').toString() : f.content,
      ]),
    );
    assert.equal(written['/opt/judge0/bootstrap.sh'], read('bootstrap.sh'));
    assert.equal(written['/opt/judge0/docker-compose.yml'], read('docker-compose.yml'));
    assert.equal(written['/opt/judge0/render-conf.sh'], read('render-conf.sh'));
    assert.equal(written['/opt/judge0/judge0.conf.template'], read('judge0.conf.template'));
    assert.match(
      written['/etc/systemd/system/judge0-bootstrap.service'],
      /Environment=ENVIRONMENT=production\nEnvironment=AWS_REGION=eu-west-1/,
    );
    assert.doesNotMatch(rendered, /__[A-Z0-9_]+__|\$\{ENVIRONMENT\}|\$\{AWS_REGION\}/);
  });
});

// Every key of judge0.conf in judge0/judge0 v1.13.1 (the file's KEY= lines).
const JUDGE0_CONF_KEYS = (
  'JUDGE0_TELEMETRY_ENABLE RESTART_MAX_TRIES MAINTENANCE_MODE MAINTENANCE_MESSAGE ENABLE_WAIT_RESULT ENABLE_COMPILER_OPTIONS ' +
  'ALLOWED_LANGUAGES_FOR_COMPILER_OPTIONS ENABLE_COMMAND_LINE_ARGUMENTS ENABLE_SUBMISSION_DELETE ENABLE_BATCHED_SUBMISSIONS ' +
  'MAX_SUBMISSION_BATCH_SIZE ENABLE_CALLBACKS CALLBACKS_MAX_TRIES CALLBACKS_TIMEOUT ENABLE_ADDITIONAL_FILES SUBMISSION_CACHE_DURATION ' +
  'USE_DOCS_AS_HOMEPAGE INTERVAL COUNT MAX_QUEUE_SIZE ALLOW_ORIGIN DISALLOW_ORIGIN ALLOW_IP DISALLOW_IP AUTHN_HEADER AUTHN_TOKEN ' +
  'AUTHZ_HEADER AUTHZ_TOKEN REDIS_HOST REDIS_PORT REDIS_PASSWORD POSTGRES_HOST POSTGRES_PORT POSTGRES_DB POSTGRES_USER POSTGRES_PASSWORD ' +
  'CPU_TIME_LIMIT MAX_CPU_TIME_LIMIT CPU_EXTRA_TIME MAX_CPU_EXTRA_TIME WALL_TIME_LIMIT MAX_WALL_TIME_LIMIT MEMORY_LIMIT MAX_MEMORY_LIMIT ' +
  'STACK_LIMIT MAX_STACK_LIMIT MAX_PROCESSES_AND_OR_THREADS MAX_MAX_PROCESSES_AND_OR_THREADS ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT ' +
  'ALLOW_ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT ALLOW_ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT ' +
  'MAX_FILE_SIZE MAX_MAX_FILE_SIZE NUMBER_OF_RUNS MAX_NUMBER_OF_RUNS REDIRECT_STDERR_TO_STDOUT MAX_EXTRACT_SIZE ALLOW_ENABLE_NETWORK ' +
  'ENABLE_NETWORK RAILS_ENV RAILS_MAX_THREADS RAILS_SERVER_PROCESSES SECRET_KEY_BASE'
).split(' ');

/**
 * What Judge0 1.13.1 validates each submission's limits against (app/models/submission.rb lines 50-71):
 * [default key, maximum key, lower bound, Judge0's default of the maximum (app/helpers/config.rb lines 16-35)].
 * A submission not sent a field gets the default (submission.rb lines 235-250), so each default must sit
 * within [lower bound, maximum].
 */
const JUDGE0_LIMITS: Array<[string, string, number, number]> = [
  ['NUMBER_OF_RUNS', 'MAX_NUMBER_OF_RUNS', 1, 20],
  ['CPU_TIME_LIMIT', 'MAX_CPU_TIME_LIMIT', 0, 15],
  ['CPU_EXTRA_TIME', 'MAX_CPU_EXTRA_TIME', 0, 5],
  ['WALL_TIME_LIMIT', 'MAX_WALL_TIME_LIMIT', 1, 20],
  ['MEMORY_LIMIT', 'MAX_MEMORY_LIMIT', 2048, 512000],
  ['STACK_LIMIT', 'MAX_STACK_LIMIT', 0, 128000],
  ['MAX_PROCESSES_AND_OR_THREADS', 'MAX_MAX_PROCESSES_AND_OR_THREADS', 1, 120],
  ['MAX_FILE_SIZE', 'MAX_MAX_FILE_SIZE', 0, 4096],
];

/** KEY=value lines of the template, unrendered. */
function templateValues(): Record<string, string> {
  const lines = read('judge0.conf.template')
    .split('\n')
    .filter((l) => /^[A-Z0-9_]+=/.test(l));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const LETTERS_AND_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const JUDGE0_UID = 1000;

/** Runs the shipped render-conf.sh into a fresh directory; returns the output path or the error. */
function renderConf(secrets: Record<string, string>): { file: string; status: number; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'judge0-conf-'));
  fs.chmodSync(dir, 0o755); // uid 1000 must reach the file, as it does through the bind mount
  const file = path.join(dir, 'judge0.conf');
  const result = spawnSync(path.join(DIR, 'render-conf.sh'), [path.join(DIR, 'judge0.conf.template'), file], {
    env: { PATH: process.env.PATH, JUDGE0_WORKERS: '4', ...secrets },
    encoding: 'utf8',
  });
  return { file, status: result.status ?? -1, stderr: result.stderr };
}

/**
 * The environment Judge0's scripts/load-config produces from `file` (v1.13.1 lines 8-14:
 * `set -o allexport`, `source $CONFIG_FILE`, `set +o allexport`), loaded as `uid` with nothing
 * inherited; the image runs as uid 1000 (Dockerfile lines 40 and 44: `useradd -u 1000`, `USER judge0`).
 */
function loadAsJudge0(file: string, uid = JUDGE0_UID): { env: Record<string, string>; status: number; stderr: string } {
  const result = spawnSync(
    'setpriv',
    [
      '--reuid',
      String(uid),
      '--regid',
      String(uid),
      '--clear-groups',
      'env',
      '-i',
      'PATH=/usr/bin:/bin',
      'bash',
      '-c',
      'set -o allexport; source $0; set +o allexport; env -0',
      file,
    ],
    { encoding: 'utf8' },
  );
  const env = Object.fromEntries(
    result.stdout
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { env, status: result.status ?? -1, stderr: result.stderr };
}

describe('judge0.conf as Judge0 1.13.1 loads it', function () {
  this.timeout(30_000);
  before(function () {
    // Rendering chowns the file to uid 1000 and loading switches to that uid: both need root.
    if (process.getuid?.() !== 0) this.skip();
  });

  // Secrets drawn from the stack's own generator alphabets: every special character the shared
  // generator can produce (auth token, Redis), and the letters-and-digits word Judge0's secrets use.
  const secrets = {
    JUDGE0_AUTH_TOKEN: `${GENERATED_PASSWORD_SPECIALS}aZ9`,
    REDIS_PASSWORD: `x${[...GENERATED_PASSWORD_SPECIALS].reverse().join('')}$(id)`,
    POSTGRES_PASSWORD: LETTERS_AND_DIGITS,
  };

  it('renders a file only uid 1000 can read, and every secret round-trips through `source`', () => {
    const rendered = renderConf(secrets);
    assert.equal(rendered.status, 0, rendered.stderr);
    const stat = fs.statSync(rendered.file);
    assert.deepEqual([stat.uid, stat.gid, stat.mode & 0o777], [JUDGE0_UID, JUDGE0_UID, 0o400]);

    const loaded = loadAsJudge0(rendered.file);
    assert.equal(loaded.stderr, '', 'sourcing printed errors');
    assert.equal(loaded.status, 0);
    assert.equal(loaded.env.AUTHN_TOKEN, secrets.JUDGE0_AUTH_TOKEN);
    assert.equal(loaded.env.REDIS_PASSWORD, secrets.REDIS_PASSWORD);
    assert.equal(loaded.env.POSTGRES_PASSWORD, secrets.POSTGRES_PASSWORD);
    // Lines after the secrets survive too (an unquoted `(` used to end the file there).
    assert.deepEqual(
      [loaded.env.POSTGRES_HOST, loaded.env.REDIS_HOST, loaded.env.COUNT, loaded.env.JUDGE0_TELEMETRY_ENABLE],
      ['db', 'redis', '4', 'false'],
    );
    // Every other line comes through exactly as written.
    for (const [key, value] of Object.entries(templateValues())) {
      if (!value.includes('${')) assert.equal(loaded.env[key], value, key);
    }

    // Another unprivileged user cannot read it.
    const other = loadAsJudge0(rendered.file, JUDGE0_UID + 1);
    assert.match(other.stderr, /Permission denied/);
  });

  it('sets every limit default within the maximum Judge0 validates it against', () => {
    const rendered = renderConf(secrets);
    const { env } = loadAsJudge0(rendered.file);
    const problems: string[] = [];
    for (const [key, maxKey, lowest, judge0Max] of JUDGE0_LIMITS) {
      const max = env[maxKey] ? Number(env[maxKey]) : judge0Max;
      if (env[key] === undefined) continue; // Judge0's own default, within its own maximum
      const value = Number(env[key]);
      if (!(value >= lowest && value <= max)) problems.push(`${key}=${env[key]} outside ${lowest}..${max} (${maxKey})`);
    }
    assert.deepEqual(problems, []);
    // Judge0 turns these on unless they are exactly "false" (app/helpers/config.rb lines 6, 11).
    assert.deepEqual([env.ENABLE_WAIT_RESULT, env.ENABLE_CALLBACKS], ['false', 'false']);
  });

  it("puts PostgreSQL's password into Judge0's database.yml as the same string", () => {
    // config/database.yml line 8 at v1.13.1: `password: <%= ENV["POSTGRES_PASSWORD"] %>` (ERB, unquoted YAML).
    const { env } = loadAsJudge0(renderConf(secrets).file);
    assert.equal(parse(`password: ${env.POSTGRES_PASSWORD}`).password, secrets.POSTGRES_PASSWORD);
  });

  it('refuses secrets the file cannot hold, naming each', () => {
    const bad = renderConf({ JUDGE0_AUTH_TOKEN: "it's", REDIS_PASSWORD: 'a\\b', POSTGRES_PASSWORD: 'p@ss{1}' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /JUDGE0_AUTH_TOKEN contains a single quote/);
    assert.match(bad.stderr, /REDIS_PASSWORD contains a single quote, a backslash/);
    assert.match(bad.stderr, /POSTGRES_PASSWORD must be letters and digits only/);
    assert.equal(fs.existsSync(bad.file), false, 'nothing written');
  });
});

/**
 * The host's boot as shipped: the files cloud-init writes (decoded from the rendered user data),
 * bootstrap.sh run as root in a bubblewrap root with /opt/judge0, /var/lib/judge0 and a cgroup-v1
 * /proc/cmdline of its own, and stand-ins on PATH for the AWS CLI (SSM values from files), docker
 * and curl that record how they were called.
 */
function bootAsShipped(ssm: Record<string, string>): { status: number; stderr: string; appDir: string; calls: string[] } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'judge0-boot-'));
  fs.chmodSync(root, 0o755);
  const appDir = path.join(root, 'opt-judge0');
  const dirs = {
    appDir,
    state: path.join(root, 'state'),
    stubs: path.join(root, 'stubs'),
    ssm: path.join(root, 'ssm'),
    calls: path.join(root, 'calls'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });

  const doc = parse(renderCloudInit('production', 'us-east-1')) as {
    write_files: Array<{ path: string; content: string; encoding?: string; permissions: string }>;
  };
  for (const file of doc.write_files.filter((f) => f.path.startsWith('/opt/judge0/'))) {
    const target = path.join(appDir, path.basename(file.path));
    fs.writeFileSync(target, file.encoding === 'b64' ? Buffer.from(file.content, 'base64') : file.content);
    fs.chmodSync(target, parseInt(file.permissions, 8));
  }
  for (const [name, value] of Object.entries(ssm)) {
    fs.mkdirSync(path.dirname(path.join(dirs.ssm, name)), { recursive: true });
    fs.writeFileSync(path.join(dirs.ssm, name), value);
  }
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(dirs.stubs, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  // aws ssm get-parameter --with-decryption --name N --query Parameter.Value --output text
  stub(
    'aws',
    'printf "aws %s\\n" "$*" >> /calls/log\nwhile [ $# -gt 0 ]; do [ "$1" = --name ] && name="$2"; shift; done\ncat "/ssm${name:?}" && echo',
  );
  stub('docker', 'printf "docker %s (in %s)\\n" "$*" "$PWD" >> /calls/log');
  stub('curl', 'printf "curl %s\\n" "$*" >> /calls/log');
  fs.writeFileSync(path.join(root, 'cmdline'), 'BOOT_IMAGE=/vmlinuz ro systemd.unified_cgroup_hierarchy=0\n');

  const result = spawnSync(
    'bwrap',
    [
      ...['--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64'],
      ...['--symlink', 'usr/sbin', '/sbin', '--ro-bind', '/etc', '/etc', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'],
      ...['--ro-bind', path.join(root, 'cmdline'), '/proc/cmdline', '--tmpfs', '/opt', '--bind', appDir, '/opt/judge0'],
      ...['--tmpfs', '/var', '--bind', dirs.state, '/var/lib/judge0', '--ro-bind', dirs.stubs, '/stubs', '--ro-bind', dirs.ssm, '/ssm'],
      ...['--bind', dirs.calls, '/calls', '--unshare-pid', '--die-with-parent'],
      ...['env', '-i', 'PATH=/stubs:/usr/bin:/bin', 'ENVIRONMENT=production', 'AWS_REGION=us-east-1', '/opt/judge0/bootstrap.sh'],
    ],
    { encoding: 'utf8' },
  );
  const log = path.join(dirs.calls, 'log');
  return {
    status: result.status ?? -1,
    stderr: result.stderr,
    appDir,
    calls: fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [],
  };
}

describe('Judge0 host boot from the shipped cloud-init files', function () {
  this.timeout(30_000);
  before(function () {
    // bubblewrap without a user namespace, chown to uid 1000 and setpriv need root.
    if (process.getuid?.() !== 0) this.skip();
  });

  it('renders judge0.conf from SSM that Judge0 (uid 1000) loads with every value intact, then starts the containers', () => {
    const ssm = {
      '/production/judge0/auth-token': `tok${GENERATED_PASSWORD_SPECIALS}`,
      '/production/judge0/redis-password': `r3d!s$(reboot)&{x}<y>`,
      '/production/judge0/postgres-password': 'Pg0Password0With0Digits0And0Letters0Only',
    };
    const boot = bootAsShipped(ssm);
    assert.equal(boot.status, 0, boot.stderr);
    const conf = path.join(boot.appDir, 'judge0.conf');
    const stat = fs.statSync(conf);
    assert.deepEqual([stat.uid, stat.mode & 0o777], [JUDGE0_UID, 0o400]);
    const { env, stderr } = loadAsJudge0(conf);
    assert.equal(stderr, '');
    assert.equal(env.AUTHN_TOKEN, ssm['/production/judge0/auth-token']);
    assert.equal(env.REDIS_PASSWORD, ssm['/production/judge0/redis-password']);
    assert.equal(env.POSTGRES_PASSWORD, ssm['/production/judge0/postgres-password']);
    assert.match(env.COUNT, /^[1-9]\d*$/);
    // Database and cache first, then Judge0, from the app directory; the readiness probe sends the token.
    const docker = boot.calls.filter((c) => c.startsWith('docker '));
    assert.deepEqual(docker, ['docker compose up -d db redis (in /opt/judge0)', 'docker compose up -d server workers (in /opt/judge0)']);
    assert.ok(
      boot.calls.includes(`curl -fsS -H X-Auth-Token: ${ssm['/production/judge0/auth-token']} http://127.0.0.1:2358/about`),
      boot.calls.join('\n'),
    );
    assert.ok(!boot.stderr.includes(ssm['/production/judge0/redis-password']), 'no secret in the boot log');
  });

  it('stops before starting anything when an SSM value cannot go into judge0.conf', () => {
    const boot = bootAsShipped({
      '/production/judge0/auth-token': 'token',
      '/production/judge0/redis-password': "it's",
      '/production/judge0/postgres-password': 'not-a-word!',
    });
    assert.notEqual(boot.status, 0);
    assert.match(boot.stderr, /REDIS_PASSWORD contains a single quote/);
    assert.match(boot.stderr, /POSTGRES_PASSWORD must be letters and digits only/);
    assert.deepEqual(
      boot.calls.filter((c) => c.startsWith('docker ')),
      [],
    );
    assert.equal(fs.existsSync(path.join(boot.appDir, 'judge0.conf')), false);
  });
});
