/**
 * The bounded cache directories (test-case cache, compiled checkers): least recently used entries
 * leave first, by count or by bytes, and a touched entry counts as just used.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pruneLeastRecentlyUsed, touchEntry } from '../../worker/src/storage/lruDir';

describe('least-recently-used cache directory', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lru-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** An entry last used `ageS` seconds ago: a file of `bytes`, or a folder holding one. */
  const entry = (name: string, ageS: number, bytes = 10, folder = false) => {
    const target = folder ? path.join(dir, name, 'checker') : path.join(dir, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, Buffer.alloc(bytes));
    const when = new Date(Date.now() - ageS * 1000);
    fs.utimesSync(path.join(dir, name), when, when);
  };
  const left = () => fs.readdirSync(dir).sort();

  it('keeps the most recently used entries up to a count, and a touched entry is recent again', async () => {
    for (const [name, age] of [
      ['v1', 40],
      ['v2', 30],
      ['v3', 20],
      ['v4', 10],
    ] as const)
      entry(name, age, 10, true);
    await touchEntry(path.join(dir, 'v1'));
    assert.deepEqual((await pruneLeastRecentlyUsed(dir, { maxEntries: 2 })).sort(), ['v2', 'v3']);
    assert.deepEqual(left(), ['v1', 'v4']);
  });

  it('keeps entries within a byte budget, never the newest one, never the ones it is told to keep', async () => {
    entry('big-new', 1, 500);
    entry('old', 50, 100);
    entry('older', 60, 100);
    entry('tmp.partial', 70, 100);
    assert.deepEqual((await pruneLeastRecentlyUsed(dir, { maxBytes: 300, keep: (n) => n.includes('.') })).sort(), ['old', 'older']);
    assert.deepEqual(left(), ['big-new', 'tmp.partial']);
  });

  it('does nothing (and does not throw) for a missing directory', async () => {
    assert.deepEqual(await pruneLeastRecentlyUsed(path.join(dir, 'none'), { maxEntries: 1 }), []);
  });
});
