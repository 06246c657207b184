/**
 * Stack config rules that keep a deploy from breaking on AWS (components/config.ts): each refused
 * with a message naming the key, and the production stack file passes them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseStackConfig, StackConfigError } from '../../components/config';

function productionConfig(): Record<string, unknown> {
  const file = parse(fs.readFileSync(path.join(__dirname, '../../Pulumi.production.yaml'), 'utf8')).config as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(file)
      .filter(([k]) => k.startsWith('grading:'))
      .map(([k, v]) => [k.slice('grading:'.length), v]),
  );
}

function problemsOf(raw: Record<string, unknown>, stack: string): string[] {
  try {
    parseStackConfig(raw, stack);
  } catch (error) {
    assert.ok(error instanceof StackConfigError, String(error));
    return error.problems;
  }
  return [];
}

describe('stack config: deploy breakers', () => {
  it('production file passes', () => {
    assert.deepEqual(problemsOf(productionConfig(), 'production'), []);
  });

  it('requires certificateArn in production only', () => {
    const { certificateArn: _, ...withoutCertificate } = productionConfig();
    assert.deepEqual(problemsOf(withoutCertificate, 'production'), [
      'certificateArn is required in production: the public ALB serves HTTPS only (HTTP redirects to it); set an ACM certificate ARN',
    ]);
    assert.deepEqual(problemsOf({}, 'staging'), []);
    const certificate = problemsOf({ isProduction: 'true' }, 'staging').filter((p) => p.startsWith('certificateArn'));
    assert.equal(certificate.length, 1, 'isProduction counts, not only the name');
  });

  it('refuses mqAutoMinorVersionUpgrade false, which Amazon MQ rejects on 5.18 and later', () => {
    assert.deepEqual(problemsOf({ mqAutoMinorVersionUpgrade: 'false', mqEngineVersion: '5.19' }, 'staging'), [
      'mqAutoMinorVersionUpgrade: Amazon MQ requires true for ActiveMQ 5.19 (5.18 and later upgrade minor versions automatically)',
    ]);
    assert.deepEqual(problemsOf({ mqAutoMinorVersionUpgrade: 'true' }, 'staging'), []);
  });

  it('defaults MySQL to 8.4 and takes a pinned Judge0 AMI', () => {
    const cfg = parseStackConfig({ judge0AmiId: 'ami-0123456789abcdef0' }, 'staging');
    assert.equal(cfg.dbEngineVersion, '8.4');
    assert.equal(cfg.judge0AmiId, 'ami-0123456789abcdef0');
    assert.match(
      problemsOf({ judge0AmiId: 'ubuntu-latest' }, 'staging')[0],
      /^judge0AmiId: "ubuntu-latest" has the wrong form \(an AMI id/,
    );
  });
});
