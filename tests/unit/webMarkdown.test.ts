/** The page's Markdown renderer (browser script, loaded here in a VM context). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

const source = fs.readFileSync(path.join(__dirname, '../../web/public/js/markdown.js'), 'utf8');
const sandbox: { window: { renderMarkdown?: (md: string) => string } } = { window: {} };
vm.runInNewContext(source, sandbox);
const render = sandbox.window.renderMarkdown!;

describe('web page Markdown renderer', () => {
  it('renders headings, paragraphs, lists, code and emphasis', () => {
    assert.equal(
      render('# Title\n\nSome **bold** and *em* text\nwrapped.'),
      '<h1>Title</h1>\n<p>Some <strong>bold</strong> and <em>em</em> text\nwrapped.</p>',
    );
    assert.equal(render('- a\n- b'), '<ul><li>a</li><li>b</li></ul>');
    assert.equal(render('1. a\n2. b'), '<ol><li>a</li><li>b</li></ol>');
    assert.equal(render('```\n5\n1 -2\n```'), '<pre><code>5\n1 -2</code></pre>');
    assert.equal(render('    indented'), '<pre><code>indented</code></pre>');
  });

  it('keeps hard line breaks (two trailing spaces)', () => {
    assert.equal(render('Input: `1 2`  \nOutput: `3`'), '<p>Input: <code>1 2</code><br>\nOutput: <code>3</code></p>');
  });

  it('escapes HTML everywhere, so a statement cannot inject markup', () => {
    const html = render(
      '# <img src=x onerror=alert(1)>\n\n<script>alert(1)</script> `<b>` **<i>x</i>**\n\n- <a href="javascript:x">\n\n```\n</code><script>\n```',
    );
    assert.doesNotMatch(html, /<(img|script|a|i|b)[\s>]/);
    assert.match(html, /&lt;script&gt;/);
    assert.match(html, /&quot;javascript:x&quot;/);
  });

  it('leaves snake_case and arithmetic alone', () => {
    assert.equal(render('max_sub_array 2*3*4'), '<p>max_sub_array 2*3*4</p>');
  });
});
