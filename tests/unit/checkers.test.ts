import assert from 'node:assert/strict';
import { checkerFor, exact, float, token, whitespace } from '../../worker/src/grading/checkers';

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
});
