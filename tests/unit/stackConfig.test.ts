import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DEFAULTS, parseStackConfig, StackConfigError } from '../../components/config';

function productionConfig(): Record<string, unknown> {
  const file = parse(fs.readFileSync(path.join(__dirname, '../../Pulumi.production.yaml'), 'utf8')).config as Record<string, unknown>;
  return Object.fromEntries(Object.entries(file).filter(([k]) => k.startsWith('grading:')).map(([k, v]) => [k.slice('grading:'.length), v]));
}

function problemsOf(raw: Record<string, unknown>, stack = 'dev'): string[] {
  try {
    parseStackConfig(raw, stack);
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
    const cfg = parseStackConfig({ ecsDesiredCount: '3', ecsMaxCapacity: '5', enableS3Versioning: 'false', alarmEmails: '["a@example.com"]' }, 'dev');
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
    for (const key of ['ecsDesiredCount', 'mqInstanceType', 'mqDeploymentMode', 'alarmEmails[1]', 'mqEngineVersion', 'logRetentionDays', 'ecsTaskCpu', 'ecsMinCapacity', 'unknownKey']) {
      assert.match(text, new RegExp(key.replace(/[[\]]/g, '\\$&')), `no problem reported for ${key}:\n${text}`);
    }
    assert.match(text, /"not-an-email" is not a valid email/);
    assert.match(text, /5\.17 and older are out of support/);
    assert.match(text, /unknownKey: unknown key/);
  });

  it('checks ranges across keys', () => {
    const problems = problemsOf({ ecsMinCapacity: 5, ecsMaxCapacity: 2, ecsDesiredCount: 3, webMinSize: 3, webMaxSize: 1, webDesiredCapacity: 2 });
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
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems.join('\n'), /reviewBaseUrl: "http:\/\/llm.internal\/v1" has the wrong form \(an https URL/);
    assert.match(problems.join('\n'), /reviewModel/);
    assert.match(problemsOf({ enableCodeReview: 'true' })[0], /reviewApiKey is required when enableCodeReview is true/);
  });

  it('asks for a valid environment name when the stack name is not one', () => {
    const [problem] = problemsOf({}, 'My_Stack');
    assert.match(problem, /set grading:environmentName/);
  });
});
