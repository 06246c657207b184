import assert from 'node:assert/strict';
import { checkerFor, CheckerSpec, exact, float, streamingCheckerFor, token, whitespace } from '../../worker/src/grading/checkers';

/** Feeds `actual` to a streaming check in pieces of `size` bytes. */
function streamed(spec: CheckerSpec, expected: string, actual: Buffer, size: number) {
  const check = streamingCheckerFor(spec)(expected);
  for (let i = 0; i < actual.length; i += size) check.write(actual.subarray(i, i + size));
  return check.end();
}

describe('checkers', () => {
  it('whitespace (default) ignores trailing spaces, CRLF and trailing blank lines, nothing else', () => {
    assert.equal(whitespace('1 2\n3\n', '1 2   \r\n3\n\n\n').ok, true);
    assert.equal(whitespace('1 2\n', '1 2').ok, true);
    assert.equal(whitespace('1 2\n', ' 1 2\n').ok, false);
    assert.equal(whitespace('1 2\n', '1  2\n').ok, false);
    assert.equal(whitespace('a\n\nb\n', 'a\nb\n').ok, false);
    assert.equal(whitespace('', '\n\n').ok, true);
    assert.equal(checkerFor().name, whitespace.name);
  });

  it('says where the first difference is', () => {
    assert.equal(whitespace('1\n2\n3\n', '1\n5\n3\n').message, 'line 2: expected "2", got "5"');
    assert.equal(whitespace('1\n2\n', '1\n').message, 'line 2: expected "2", output ended');
    assert.equal(whitespace('1\n', '1\n2\n').message, 'line 2: unexpected extra output "2"');
  });

  it('exact demands byte equality', () => {
    assert.equal(exact('1\n', '1\n').ok, true);
    assert.equal(exact('1\n', '1').ok, false);
    assert.equal(exact('1\n', '1 \n').ok, false);
  });

  it('token compares whitespace-separated tokens', () => {
    assert.equal(token('1 2\n3', '1\n2   3\n\n').ok, true);
    assert.equal(token('1 2 3', '1 2').message, 'token 3: expected "3", output ended');
    assert.equal(token('', '').ok, true);
  });

  it('float accepts an absolute or relative error, and compares other tokens exactly', () => {
    const check = float(1e-6, 1e-6);
    assert.equal(check('3.1415926536', '3.14159265').ok, true);
    assert.equal(check('3.1415926536', '3.1416').ok, false);
    // relative: 1e12 with error 1e5 is 1e-7 relative
    assert.equal(check('1000000000000', '1000000100000').ok, true);
    // absolute: tiny numbers
    assert.equal(check('0.0000001', '0.0000009').ok, true);
    assert.equal(check('YES 1.0', 'NO 1.0').ok, false);
    assert.equal(check('1.0', 'nan').ok, false);
    assert.equal(check('1.0', 'inf').ok, false);
    assert.equal(check('1.0', '0x1').ok, false);
    assert.equal(check('1 2', '1').ok, false);
  });

  it('gives the same answer whatever the chunk boundaries (CRLF split, tokens split, lines split)', () => {
    const specs: CheckerSpec[] = [{ type: 'exact' }, { type: 'whitespace' }, { type: 'token' }, { type: 'float' }];
    const pairs: Array<[string, string]> = [
      ['1 2\n3\n', '1 2  \r\n3\r\n\r\n'],
      ['1 2\n3\n', '1 2\n\n3\n'],
      ['a\n\nb\n', 'a\n\nb'],
      ['a\n\nb\n', 'a\n \t\nb\n'],
      ['3.14159 x\n', '3.141592  x'],
      ['12\n', '123\n'],
      ['123\n', '12'],
      ['', '\n\n \n'],
      ['1\n', '1\n2\n'],
      ['1\r2\n', '1\n2\n'],
    ];
    for (const spec of specs) {
      for (const [expected, actual] of pairs) {
        const whole = checkerFor(spec)(expected, actual);
        for (const size of [1, 2, 3, 7]) {
          assert.deepEqual(
            streamed(spec, expected, Buffer.from(actual), size),
            whole,
            `${spec.type} ${JSON.stringify([expected, actual])} in ${size}-byte pieces`,
          );
        }
      }
    }
  });

  it('judges a flood of invalid UTF-8 without holding it, and quotes only its start', () => {
    const flood = Buffer.alloc(8 * 1024 * 1024, 0xff);
    for (const type of ['exact', 'whitespace', 'token', 'float'] as const) {
      const result = streamed({ type }, '7\n', flood, 65536);
      assert.equal(result.ok, false, type);
      assert.ok((result.message ?? '').length < 200, `${type}: ${result.message?.length}`);
      assert.match(result.message ?? '', /\uFFFD|\ufffd|\u00ff|�/);
    }
  });

  it('accepts long trailing whitespace and many trailing blank lines, but not a long interior run', () => {
    assert.equal(whitespace('1\n', '1' + ' '.repeat(100_000) + '\n'.repeat(100_000)).ok, true);
    assert.equal(whitespace('1 2\n', '1' + ' '.repeat(100_000) + '2\n').ok, false);
    assert.equal(whitespace('1\n2\n', '1\n\n2\n').message, 'line 2: expected "2", got ""');
    assert.equal(token('1 2', '1' + ' \n'.repeat(50_000) + '2').ok, true);
  });

  it('reads a number token of up to 4096 bytes, and fails a longer one', () => {
    assert.equal(float()('1', '1.' + '0'.repeat(4000)).ok, true);
    assert.equal(float()('1', '1.' + '0'.repeat(5000)).ok, false);
  });

  it('compares exact output by bytes and says where it differs', () => {
    assert.equal(exact('a\nbc\n', 'a\nbd\n').message, 'line 2: expected "bc", got "bd"');
    assert.equal(exact('a\n', 'a\nz').message, 'line 2: unexpected extra output "z"');
    assert.equal(exact('a\n', 'a').message, 'line 1: output ended before the line break');
    assert.equal(exact('', '').ok, true);
  });
});
