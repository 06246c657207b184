/**
 * The test tiers in package.json: every directory holding tests belongs to exactly one of test:unit,
 * test:integration and test:faults (so `npm test`, which runs them all, runs nothing the tiers miss),
 * and the unit tier stays free of what needs root or services.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '../..');
const TESTS = path.join(ROOT, 'tests');
const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;

/** The top-level test directories a tier script's mocha glob names: 'tests/{a,b}/**' or 'tests/a/**'. */
function tierDirs(script: string): string[] {
  const dirs: string[] = [];
  for (const match of script.matchAll(/'tests\/(\{[^}]+\}|[^/']+)\/\*\*\/\*\.test\.ts'/g)) {
    const group = match[1];
    dirs.push(...(group.startsWith('{') ? group.slice(1, -1).split(',') : [group]));
  }
  return dirs;
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

const tiers = {
  unit: tierDirs(scripts['test:unit']),
  integration: tierDirs(scripts['test:integration']),
  faults: tierDirs(scripts['test:faults']),
};

describe('test tiers (package.json)', () => {
  it('puts every directory that holds tests in exactly one tier', () => {
    const withTests = fs
      .readdirSync(TESTS, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && filesUnder(path.join(TESTS, entry.name)).some((f) => f.endsWith('.test.ts')))
      .map((entry) => entry.name);
    assert.ok(withTests.length > 5, `found test directories: ${withTests.join(', ')}`);
    const problems: string[] = [];
    for (const dir of withTests) {
      const owners = Object.entries(tiers)
        .filter(([, dirs]) => dirs.includes(dir))
        .map(([tier]) => tier);
      if (owners.length !== 1) problems.push(`tests/${dir} is in ${owners.length ? owners.join(' and ') : 'no tier'}`);
    }
    assert.deepEqual(problems, []);
  });

  it('npm test runs every test file', () => {
    assert.match(scripts.test, /mocha 'tests\/\*\*\/\*\.test\.ts'/);
  });

  it('keeps the unit tier free of services, the sandbox and root-only steps', () => {
    // A broker, database or S3 server (tests/helpers/services), bubblewrap or root belong to the integration tier.
    const forbidden = [/helpers\/services/, /executors\/sandbox['/]/, /getuid\?\.\(\) !== 0/];
    const offenders = tiers.unit
      .flatMap((dir) => filesUnder(path.join(TESTS, dir)))
      .filter((file) => file.endsWith('.ts') && file !== __filename)
      .flatMap((file) => {
        const text = fs.readFileSync(file, 'utf8');
        return forbidden.filter((re) => re.test(text)).map((re) => `${path.relative(ROOT, file)} uses ${re.source}`);
      });
    assert.deepEqual(offenders, []);
  });
});
