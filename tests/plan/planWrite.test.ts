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
    fs.writeFileSync(path.join(root, 'Pulumi.staging.yaml'), production.replace('grading:environmentName: production', 'grading:environmentName: staging'));
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
