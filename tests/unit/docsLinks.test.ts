/**
 * Every relative link in README.md and in the Markdown files under docs/ names a file or folder of
 * this repository, and a `#anchor` into a Markdown file names one of its headings (GitHub's heading
 * ids). Links that leave the repository (../shared and the like) fail: it must stand on its own.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '../..');

interface Link {
  line: number;
  target: string;
}

/** Inline links and images `[text](target "title")` and reference definitions `[id]: target`, outside code. */
export function markdownLinks(markdown: string): Link[] {
  const links: Link[] = [];
  let fenced = false;
  markdown.split('\n').forEach((text, index) => {
    if (/^\s*(```|~~~)/.test(text)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const prose = text.replace(/`[^`]*`/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: index + 1, target: match[1] });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose);
    if (definition) links.push({ line: index + 1, target: definition[1] });
  });
  return links;
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats numbered -1, -2... */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const text of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** What is wrong with each relative link of `file` (a path under `root`); empty when every link resolves. */
export function brokenLinks(root: string, file: string): string[] {
  const problems: string[] = [];
  const markdown = fs.readFileSync(path.join(root, file), 'utf8');
  for (const { line, target } of markdownLinks(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
    const [rawPath, anchor] = target.split('#', 2);
    const targetPath = decodeURIComponent(rawPath);
    const resolved = targetPath ? path.resolve(root, path.dirname(file), targetPath) : path.join(root, file);
    const where = `${file}:${line} -> ${target}`;
    if (path.relative(root, resolved).startsWith('..')) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!fs.existsSync(resolved)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor && resolved.endsWith('.md') && !headingAnchors(fs.readFileSync(resolved, 'utf8')).has(anchor)) {
      problems.push(`${where}: no heading with id "${anchor}"`);
    }
  }
  return problems;
}

function markdownFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(relative);
    return entry.name.endsWith('.md') ? [relative] : [];
  });
}

describe('documentation links', () => {
  const files = ['README.md', ...markdownFiles('docs')];

  it('finds the documents to check', () => {
    assert.ok(files.includes(path.join('docs', 'architecture.md')), `docs/architecture.md missing from ${files.join(', ')}`);
    assert.ok(files.includes(path.join('docs', 'contracts', 'README.md')));
  });

  it('every relative link in README.md and docs/ resolves to a file and heading of the repository', () => {
    const problems = files.flatMap((file) => brokenLinks(ROOT, file));
    assert.deepEqual(problems, []);
  });

  it('reads links and headings the way GitHub renders them', () => {
    const markdown = [
      '# Dead letters: `grading-stack dlq`',
      '## Dead letters: `grading-stack dlq`',
      '### `oidc`: tokens (Cognito, Auth0, ...)',
      'See [a](a.md#x "title"), ![img](b.svg) and `[not](a link)`.',
      '```',
      '[inside](code.md)',
      '```',
      '[ref]: <c.md>',
    ].join('\n');
    assert.deepEqual(
      [...headingAnchors(markdown)],
      ['dead-letters-grading-stack-dlq', 'dead-letters-grading-stack-dlq-1', 'oidc-tokens-cognito-auth0-'],
    );
    assert.deepEqual(
      markdownLinks(markdown).map((l) => l.target),
      ['a.md#x', 'b.svg', 'c.md'],
    );
  });

  it('reports a missing file, a missing heading and a link out of the repository, each by file and line', () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'docs-links-'));
    try {
      fs.mkdirSync(path.join(dir, 'docs'));
      fs.writeFileSync(path.join(dir, 'docs', 'a.md'), '# Title\n\n## Part one\n');
      const links = '[ok](a.md#part-one) [self](#title)\n[gone](missing.md)\n[anchor](a.md#part-two)\n[out](../../x.md)\n';
      fs.writeFileSync(path.join(dir, 'docs', 'b.md'), `# Title\n${links}`);
      assert.deepEqual(brokenLinks(dir, path.join('docs', 'b.md')), [
        'docs/b.md:3 -> missing.md: no such file',
        'docs/b.md:4 -> a.md#part-two: no heading with id "part-two"',
        'docs/b.md:5 -> ../../x.md: points outside the repository',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
