import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import * as os from 'node:os';
import {
  DEFAULTS,
  loadStackConfig,
  REMOVED_KEYS,
  namespaceProblems,
  parseStackConfig,
  StackConfigError,
  writtenValues,
} from '../../components/config';
import { useMocks } from '../pulumi/harness';

function productionConfig(): Record<string, unknown> {
  const file = parse(fs.readFileSync(path.join(__dirname, '../../Pulumi.production.yaml'), 'utf8')).config as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(file)
      .filter(([k]) => k.startsWith('grading:'))
      .map(([k, v]) => [k.slice('grading:'.length), v]),
  );
}

function problemsOf(raw: Record<string, unknown>, stack = 'dev', opts: Parameters<typeof parseStackConfig>[2] = {}): string[] {
  try {
    parseStackConfig(raw, stack, opts);
  } catch (error) {
    assert.ok(error instanceof StackConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected the config to be rejected');
}

describe('stack config', () => {
  it('fills documented defaults and derives the environment from the stack name', () => {
    const cfg = parseStackConfig({}, 'dev');
    assert.equal(cfg.environmentName, 'dev');
    assert.equal(cfg.isProduction, false);
    assert.equal(cfg.deletionProtection, false);
    assert.equal(cfg.mqEngineVersion, DEFAULTS.mqEngineVersion);
    assert.equal(cfg.ecsTaskCpu, 512);
    assert.equal(cfg.ecsTaskMemory, 1024);
    assert.deepEqual(cfg.alarmEmails, []);
  });

  it('accepts Pulumi.production.yaml and turns on production safeguards', () => {
    const cfg = parseStackConfig(productionConfig(), 'production');
    assert.equal(cfg.isProduction, true);
    assert.equal(cfg.deletionProtection, true);
    assert.equal(cfg.mqDeploymentMode, 'ACTIVE_STANDBY_MULTI_AZ');
    assert.equal(cfg.ecsDesiredCount, 2);
    assert.equal(cfg.ecsMinCapacity, 1);
    assert.equal(cfg.ecsMaxCapacity, 10);
    assert.ok(cfg.alarmEmails.length > 0);
  });

  it('coerces the strings Pulumi stores into numbers, booleans and lists', () => {
    const cfg = parseStackConfig(
      { ecsDesiredCount: '3', ecsMaxCapacity: '5', enableS3Versioning: 'false', alarmEmails: '["a@example.com"]' },
      'dev',
    );
    assert.equal(cfg.ecsDesiredCount, 3);
    assert.equal(cfg.enableS3Versioning, false);
    assert.deepEqual(cfg.alarmEmails, ['a@example.com']);
  });

  it('lists every bad key at once, with why', () => {
    const problems = problemsOf({
      ecsDesiredCount: 'two',
      mqInstanceType: 'm5.large',
      mqDeploymentMode: 'MULTI',
      alarmEmails: ['oncall@example.com', 'not-an-email'],
      mqEngineVersion: '5.17',
      logRetentionDays: 10,
      ecsTaskCpu: 300,
      ecsMinCapacity: -1,
      unknownKey: 1,
    });
    const text = problems.join('\n');
    for (const key of [
      'ecsDesiredCount',
      'mqInstanceType',
      'mqDeploymentMode',
      'alarmEmails[1]',
      'mqEngineVersion',
      'logRetentionDays',
      'ecsTaskCpu',
      'ecsMinCapacity',
      'unknownKey',
    ]) {
      assert.match(text, new RegExp(key.replace(/[[\]]/g, '\\$&')), `no problem reported for ${key}:\n${text}`);
    }
    assert.match(text, /"not-an-email" is not a valid email/);
    assert.match(text, /5\.17 and older are out of support/);
    assert.match(text, /unknownKey: unknown key/);
  });

  it('names each removed key that a stack still sets, with the other problems in the same round', () => {
    const problems = problemsOf({ mqEngineType: 'ActiveMQ', useFargate: 'true', enableEcsAlbAccess: false, ecsDesiredCount: 'two' });
    for (const key of ['mqEngineType', 'useFargate', 'enableEcsAlbAccess']) {
      const problem = problems.find((p) => p.startsWith(`${key}:`));
      assert.ok(problem, `no problem reported for ${key}:\n${problems.join('\n')}`);
      assert.match(problem, /this key was removed \(.+\); delete it from the stack file: pulumi config rm grading:/);
      assert.doesNotMatch(problem, /unknown key/);
    }
    assert.ok(
      problems.some((p) => p.startsWith('ecsDesiredCount:')),
      'the other bad key is reported too',
    );
    assert.deepEqual(Object.keys(REMOVED_KEYS).sort(), ['enableEcsAlbAccess', 'mqEngineType', 'useFargate']);
  });

  it('documents exactly the keys the schema accepts, none of the removed ones (docs/deploy.md)', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/deploy.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Config keys'));
    const documented = new Set(
      [...table.matchAll(/^\| ([A-Za-z0-9 /]+?) \|/gm)].flatMap((m) => m[1].split(' / ')).filter((k) => k !== 'key'),
    );
    for (const key of Object.keys(REMOVED_KEYS)) assert.ok(!documented.has(key), `${key} is removed but still documented`);
    for (const key of [...Object.keys(DEFAULTS), 'mqAdminPassword', 'dbPassword', 'reviewApiKey']) {
      assert.ok(documented.has(key), `${key} is not in the config table of docs/deploy.md`);
    }
  });

  it('checks ranges across keys', () => {
    const problems = problemsOf({
      ecsMinCapacity: 5,
      ecsMaxCapacity: 2,
      ecsDesiredCount: 3,
      webMinSize: 3,
      webMaxSize: 1,
      webDesiredCapacity: 2,
    });
    assert.ok(problems.some((p) => p.startsWith('ecsMinCapacity (5) must be <= ecsMaxCapacity (2)')));
    assert.ok(problems.some((p) => p.startsWith('webMinSize (3) must be <= webMaxSize (1)')));
  });

  it('rejects a task memory that Fargate does not offer for the cpu', () => {
    const [problem] = problemsOf({ ecsTaskCpu: 256, ecsTaskMemory: 4096 });
    assert.match(problem, /ecsTaskMemory \(4096\) is not valid for ecsTaskCpu 256/);
  });

  it('rejects active/standby on an instance type that cannot run it', () => {
    const [problem] = problemsOf({ mqDeploymentMode: 'ACTIVE_STANDBY_MULTI_AZ' });
    assert.match(problem, /mq\.t3\.micro supports SINGLE_INSTANCE only/);
  });

  it('never echoes a secret value in its error', () => {
    const problems = problemsOf({ mqAdminPassword: 'short,pw', dbPassword: 'has@sign-and-long', reviewApiKey: 'sk key with spaces' });
    const text = problems.join('\n');
    assert.match(text, /mqAdminPassword/);
    assert.match(text, /dbPassword/);
    assert.match(text, /reviewApiKey/);
    assert.doesNotMatch(text, /short,pw|has@sign|key with spaces/);
  });

  it('checks the code-review settings and asks for the key when review is on', () => {
    const problems = problemsOf({ enableCodeReview: 'true', reviewBaseUrl: 'http://llm.internal/v1', reviewModel: 'bad model' });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems.join('\n'), /reviewBaseUrl: "http:\/\/llm.internal\/v1" has the wrong form \(an https URL/);
    assert.match(problems.join('\n'), /reviewModel/);
    assert.match(problemsOf({ enableCodeReview: 'true' })[0], /reviewApiKey is required when enableCodeReview is true/);
  });

  it('asks for a valid environment name when the stack name is not one', () => {
    const [problem] = problemsOf({}, 'My_Stack');
    assert.match(problem, /set grading:environmentName/);
  });

  it('checks the gateway authentication settings: hmac by default, none refused in production, oidc complete', () => {
    const dev = parseStackConfig({}, 'dev');
    assert.equal(dev.authMode, 'hmac');
    assert.deepEqual([dev.authIssuer, dev.authAudience], ['grading-site', 'grading-gateway']);
    assert.equal(parseStackConfig({ authMode: 'none' }, 'dev').authMode, 'none');
    const production = productionConfig();
    assert.deepEqual(problemsOf({ ...production, authMode: 'none' }, 'production'), [
      'authMode none is refused in production: anyone could submit and read as anyone; use oidc or hmac',
    ]);
    const oidc = problemsOf({ authMode: 'oidc' }, 'dev');
    assert.equal(oidc.length, 1);
    assert.match(oidc[0], /^authMode oidc requires authIssuer .*, authAudience .*, authJwksUrl/);
    assert.match(
      problemsOf({ authMode: 'oidc', authIssuer: 'https://i/', authAudience: 'a', authJwksUrl: 'http://idp/jwks' }, 'dev').join('\n'),
      /^authJwksUrl: /m,
    );
    assert.match(problemsOf({ authMode: 'sso' }, 'dev').join('\n'), /^authMode: /m);
    const cfg = parseStackConfig(
      {
        authMode: 'oidc',
        authIssuer: 'https://i/',
        authAudience: 'a',
        authJwksUrl: 'https://i/jwks',
        authRolesClaim: 'realm_access.roles',
      },
      'dev',
    );
    assert.deepEqual(
      [cfg.authIssuer, cfg.authAudience, cfg.authJwksUrl, cfg.authRolesClaim],
      ['https://i/', 'a', 'https://i/jwks', 'realm_access.roles'],
    );
  });

  it('reports every problem of a badly written stack file in one round, each naming key, problem and fix', () => {
    const problems = problemsOf(
      {
        environmentName: 'production',
        workerConcurency: 4, // typo
        ecsTaskCpu: 256,
        ecsTaskMemory: 4096, // invalid for 256 cpu (cross-field, runs although the schema fails elsewhere)
        ecsMinCapacity: 5,
        ecsMaxCapacity: 2,
        dbInstanceClass: 'db.t4g.gigantic',
        judge0InstanceType: 't3.nonexistent',
        webInstanceType: 't4g.small', // exists, but arm64
        mqInstanceType: 'mq.t3.large',
        dbEngineVersion: 8, // YAML read an unquoted 8.0
        dbPassword: 'plain-text-password', // not a secret
        mqDeploymentMode: 'ACTIVE_STANDBY',
        logRetentionDays: 10,
        enableS3Versioning: 'yes',
        alarmEmails: [],
        natStrategy: 'single',
      },
      'production',
    );
    const text = problems.join('\n');
    const expectations: RegExp[] = [
      /^workerConcurency: unknown key \(did you mean workerConcurrency\?\)/m,
      /^ecsTaskMemory \(4096\) is not valid for ecsTaskCpu 256 on Fargate; use one of 512\.\.2048/m,
      /^ecsMinCapacity \(5\) must be <= ecsMaxCapacity \(2\)/m,
      /^ecsDesiredCount \(1\) must lie within ecsMinCapacity\.\.ecsMaxCapacity \(5\.\.2\)/m,
      /^dbInstanceClass: "db\.t4g\.gigantic" is not an RDS for MySQL instance class: db\.t4g comes in micro, small, medium, large, xlarge, 2xlarge/m,
      /^judge0InstanceType: "t3\.nonexistent" is not an EC2 instance type: t3 comes in nano, micro, small, medium, large, xlarge, 2xlarge/m,
      /^webInstanceType: t4g\.small is an arm64 \(Graviton\) type .* x86_64 image; pick an x86 type such as t3\.small/m,
      /^mqInstanceType: "mq\.t3\.large" is not an Amazon MQ for ActiveMQ instance type: mq\.t3 comes in micro; use one of mq\.t2\.micro, mq\.t3\.micro, mq\.m4\.large, mq\.m5\.large/m,
      /^dbEngineVersion: 8\.0 is written without quotes, so YAML reads it as the number 8 .*quote it in the stack file: grading:dbEngineVersion: "8\.0"/m,
      /^dbPassword: stored in plain text; it must be a Pulumi secret\. .*pulumi config set --secret grading:dbPassword <value>/m,
      /^mqDeploymentMode: must be one of SINGLE_INSTANCE, ACTIVE_STANDBY_MULTI_AZ \(got "ACTIVE_STANDBY"\)/m,
      /^logRetentionDays: must be one of 1, 3, 5, 7, 14, 30,.* \(got 10\) \(nearest: 7 or 14\)/m,
      /^enableS3Versioning: must be true or false \(got "yes"\)/m,
      /^alarmEmails: production needs at least one alarm recipient.*pulumi config set --path 'grading:alarmEmails\[0\]'/m,
      /^natStrategy: must be one of Single, OnePerAz \(got "single"\) \(did you mean Single\?\)/m,
      /^certificateArn is required in production: the public ALB serves HTTPS only/m,
    ];
    for (const expected of expectations) assert.match(text, expected, `missing ${expected}:\n${text}`);
    assert.equal(problems.length, expectations.length, text);
    assert.doesNotMatch(text, /plain-text-password/);
    assert.doesNotMatch(text, /known keys:/, 'a typo gets a suggestion, not the list of every key');
  });

  it('accepts real instance types of every catalog and asks for a multi-AZ capable broker', () => {
    const cfg = parseStackConfig(
      { dbInstanceClass: 'db.r7g.large', judge0InstanceType: 'c7i.xlarge', webInstanceType: 'm5.large', mqInstanceType: 'mq.m5.4xlarge' },
      'dev',
    );
    assert.equal(cfg.dbInstanceClass, 'db.r7g.large');
    assert.match(
      problemsOf({ mqInstanceType: 'mq.t2.micro', mqDeploymentMode: 'ACTIVE_STANDBY_MULTI_AZ' })[0],
      /mq\.t2\.micro supports SINGLE_INSTANCE only/,
    );
    assert.match(
      problemsOf({ judge0InstanceType: 'zz9.large' })[0],
      /^judge0InstanceType: "zz9\.large" is not an EC2 instance type \(no family "zz9"\)/,
    );
  });

  it('refuses secrets that are not stored as Pulumi secrets, without echoing them', () => {
    const raw = {
      mqAdminPassword: 'Plain-Password-123',
      reviewApiKey: 'sk-plain-0123456789',
      enableCodeReview: true,
      slackWebhookToken: 'xoxb-plain',
    };
    const problems = problemsOf(raw);
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['slackWebhookToken', 'mqAdminPassword', 'reviewApiKey', 'slackWebhookToken'],
      problems.join('\n'),
    );
    assert.doesNotMatch(problems.join('\n'), /Plain-Password|sk-plain|xoxb/);
    const cfg = parseStackConfig(
      { mqAdminPassword: 'Plain-Password-123', reviewApiKey: 'sk-plain-0123456789', enableCodeReview: true },
      'dev',
      { secretKeys: ['mqAdminPassword', 'reviewApiKey'] },
    );
    assert.equal(cfg.enableCodeReview, true);
  });

  it('takes a site-wide webhook URL (https only) and its signing key only as a secret', () => {
    const problems = problemsOf({ webhookUrl: 'http://site.example/hook', webhookSecret: 'plain-webhook-key-0123456789-abcdefgh' });
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['webhookUrl', 'webhookSecret'],
      problems.join('\n'),
    );
    assert.doesNotMatch(problems.join('\n'), /plain-webhook-key/);
    assert.match(problemsOf({ webhookUrl: 'https://user:pw@site.example/hook' })[0], /^webhookUrl: /);
    const cfg = parseStackConfig({ webhookUrl: 'https://site.example/hook', webhookSecret: { secure: 'v1:AAAA' } }, 'dev');
    assert.equal(cfg.webhookUrl, 'https://site.example/hook');
    assert.equal((cfg as unknown as Record<string, unknown>).webhookSecret, undefined, 'the secret never sits in the parsed config');
  });

  it('takes secure: values read straight from a stack file as secrets', () => {
    const cfg = parseStackConfig(
      { dbPassword: { secure: 'v1:AAAABBBB' }, reviewApiKey: { secure: 'v1:CCCC' }, enableCodeReview: true },
      'dev',
    );
    assert.equal(cfg.enableCodeReview, true);
    assert.equal((cfg as unknown as Record<string, unknown>).dbPassword, undefined, 'secrets never land in the typed config');
  });

  it('quotes an unquoted version the way it was written in the stack file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-'));
    const file = path.join(dir, 'Pulumi.staging.yaml');
    fs.writeFileSync(file, 'config:\n  grading:dbEngineVersion: 8.0\n  grading:mqEngineVersion: "5.18"\n  grading:ecsMaxCapacity: 4\n');
    const written = writtenValues(file);
    assert.deepEqual(written, { dbEngineVersion: '8.0', ecsMaxCapacity: '4' });
    // Pulumi hands the program "8" for an unquoted 8.0.
    const [problem] = problemsOf({ dbEngineVersion: '8', mqEngineVersion: '5.18', ecsMaxCapacity: '4' }, 'staging', { written });
    assert.match(
      problem,
      /^dbEngineVersion: 8\.0 is written without quotes, so YAML reads it as the number 8 and the stack gets "8"; quote it/,
    );
    assert.equal(parseStackConfig({ mqEngineVersion: 5.18 }, 'dev').mqEngineVersion, '5.18');
    assert.deepEqual(writtenValues(path.join(dir, 'absent.yaml')), {});
  });

  it('points keys set outside the grading namespace back to it', () => {
    const problems = namespaceProblems([
      'grading-stack:workerConcurrency',
      'gradng:ecsMaxCapacity',
      'aws:region',
      'grading:ecsMinCapacity',
      'grading-stack:ecsMinCapacity',
      'grading-stack:workerConcurency',
    ]);
    assert.deepEqual(problems, [
      'grading-stack:workerConcurrency: this stack reads settings from the "grading" namespace only; rename it to grading:workerConcurrency',
      'gradng:ecsMaxCapacity: this stack reads settings from the "grading" namespace only; rename it to grading:ecsMaxCapacity',
      'grading-stack:workerConcurency: this stack reads settings from the "grading" namespace only; rename it to grading:workerConcurency (did you mean workerConcurrency?)',
    ]);
  });

  it('says a removed key set in the wrong namespace was removed instead of asking to move it', () => {
    assert.deepEqual(namespaceProblems(['grading-stack:useFargate']), [
      'grading-stack:useFargate: this key was removed (the worker always runs on ECS Fargate); ' +
        'delete it from the stack file: pulumi config rm grading-stack:useFargate',
    ]);
  });

  it('reads which keys Pulumi holds as secrets when loading the stack config', async () => {
    await useMocks(
      { dbPassword: 'Secret-Password-1', mqAdminPassword: 'Plain-Password-123' },
      { stack: 'dev', secretKeys: ['dbPassword'] },
    );
    assert.throws(
      () => loadStackConfig(),
      (error: unknown) => {
        assert.ok(error instanceof StackConfigError);
        assert.deepEqual(
          error.problems.map((p) => p.split(':')[0]),
          ['mqAdminPassword'],
        );
        return true;
      },
    );
    await useMocks({ dbPassword: 'Secret-Password-1' }, { stack: 'dev', secretKeys: ['dbPassword'] });
    assert.equal(loadStackConfig().environmentName, 'dev');
  });
});
