/** The Judge0 host's files, checked with real tools: YAML parsing, shellcheck, cloud-init's schema. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
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
    for (const line of ['AUTHN_HEADER=X-Auth-Token', 'AUTHN_TOKEN=${JUDGE0_AUTH_TOKEN}', 'REDIS_PASSWORD=${REDIS_PASSWORD}', 'POSTGRES_PASSWORD=${POSTGRES_PASSWORD}', 'JUDGE0_TELEMETRY_ENABLE=false', 'ENABLE_WAIT_RESULT=false', 'MAX_SUBMISSION_BATCH_SIZE=20']) {
      assert.ok(conf.split('\n').includes(line), `missing ${line}`);
    }
  });

  it('bootstrap.sh passes shellcheck', () => {
    execFileSync('shellcheck', ['--severity=info', path.join(DIR, 'bootstrap.sh')]);
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
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-init-')), 'user-data.yaml');
    fs.writeFileSync(file, rendered);
    const out = execFileSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    assert.match(out, /Valid cloud-config/);
    const doc = parse(rendered);
    const written = Object.fromEntries(doc.write_files.map((f: { path: string; content: string; encoding?: string }) => [f.path, f.encoding === 'b64' ? Buffer.from(f.content, 'base64').toString() : f.content]));
    assert.equal(written['/opt/judge0/bootstrap.sh'], read('bootstrap.sh'));
    assert.equal(written['/opt/judge0/docker-compose.yml'], read('docker-compose.yml'));
    assert.match(written['/etc/systemd/system/judge0-bootstrap.service'], /Environment=ENVIRONMENT=production\nEnvironment=AWS_REGION=eu-west-1/);
    assert.doesNotMatch(rendered, /__[A-Z0-9_]+__|\$\{ENVIRONMENT\}|\$\{AWS_REGION\}/);
  });
});
