/** The tracked diagram shows production: planning another stack leaves it alone unless asked to write. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/plan';

describe('offline plan: docs/architecture.*', function () {
  this.timeout(60_000);
  let root: string;
  const quiet = async (argv: string[]) => {
    const log = console.log;
    console.log = () => undefined;
    try {
      return await main(argv, root);
    } finally {
      console.log = log;
    }
  };

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
    const production = fs.readFileSync(path.join(__dirname, '../../Pulumi.production.yaml'), 'utf8');
    fs.writeFileSync(
      path.join(root, 'Pulumi.staging.yaml'),
      production.replace('grading:environmentName: production', 'grading:environmentName: staging'),
    );
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('does not write the diagram for a non-production stack without --write', async () => {
    assert.equal(await quiet(['--stack', 'staging']), 0);
    assert.equal(fs.existsSync(path.join(root, 'docs')), false);
  });

  it('writes it with --write', async () => {
    await quiet(['--stack', 'staging', '--write']);
    assert.match(fs.readFileSync(path.join(root, 'docs/architecture.mmd'), 'utf8'), /^flowchart LR/);
    assert.match(fs.readFileSync(path.join(root, 'docs/architecture.svg'), 'utf8'), /^<svg /);
  });
});

describe('offline plan: a stack file with many mistakes', function () {
  this.timeout(60_000);

  it('reports every problem of the file in one run, as written', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-bad-'));
    fs.writeFileSync(
      path.join(root, 'Pulumi.qa.yaml'),
      [
        'config:',
        '  aws:region: us-east-1',
        '  grading:dbEngineVersion: 8.0',
        '  grading:dbInstanceClass: db.t4g.gigantic',
        '  grading:mqInstanceType: mq.t3.large',
        '  grading:judge0InstanceType: t3.nonexistent',
        '  grading:workerConcurency: 4',
        '  grading:dbPassword: plain-text-Passw0rd',
        '  grading:ecsMinCapacity: 3',
        '  grading:ecsMaxCapacity: 2',
        '  grading-stack:webMaxSize: 3',
        '',
      ].join('\n'),
    );
    try {
      await assert.rejects(main(['--stack', 'qa'], root), (error: Error) => {
        const text = error.message;
        for (const expected of [
          /dbEngineVersion: 8\.0 is written without quotes/,
          /dbInstanceClass: "db\.t4g\.gigantic" is not an RDS for MySQL instance class/,
          /mqInstanceType: "mq\.t3\.large" is not an Amazon MQ for ActiveMQ instance type/,
          /judge0InstanceType: "t3\.nonexistent" is not an EC2 instance type/,
          /workerConcurency: unknown key \(did you mean workerConcurrency\?\)/,
          /dbPassword: stored in plain text/,
          /ecsMinCapacity \(3\) must be <= ecsMaxCapacity \(2\)/,
          /grading-stack:webMaxSize: this stack reads settings from the "grading" namespace only; rename it to grading:webMaxSize/,
        ]) {
          assert.match(text, expected);
        }
        assert.doesNotMatch(text, /plain-text-Passw0rd/);
        return true;
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    assert.equal(process.env.GRADING_STACK_FILE, undefined);
  });
});
