import assert from 'node:assert/strict';
import { limitsFromManifest, titleOf } from '../../web/src/problems';

describe('web problem catalog helpers', () => {
  it('takes the title from the first Markdown heading, else the id', () => {
    assert.equal(titleOf('# A + B\n\nRead...', 'sum'), 'A + B');
    assert.equal(titleOf('Intro line\n\n## Maximum subarray ##\n', 'max'), 'Maximum subarray');
    assert.equal(titleOf('no heading here', 'plain'), 'plain');
    assert.equal(titleOf('', 'empty'), 'empty');
  });

  it('reads limits from a manifest and ignores what is missing or broken', () => {
    assert.deepEqual(limitsFromManifest('{"timeLimit": 1000, "memoryLimit": 64, "checker": {"type": "exact"}}'), {
      timeLimit: 1000,
      memoryLimit: 64,
    });
    assert.deepEqual(limitsFromManifest('{"checker": {"type": "float"}}'), { timeLimit: undefined, memoryLimit: undefined });
    assert.deepEqual(limitsFromManifest('{"timeLimit": -5, "memoryLimit": "64"}'), { timeLimit: undefined, memoryLimit: undefined });
    assert.deepEqual(limitsFromManifest('not json'), {});
    assert.deepEqual(limitsFromManifest(undefined), {});
  });
});
