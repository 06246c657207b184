import assert from 'node:assert/strict';
import { buildReviewPrompt, MAX_SOURCE_CHARS, PROMPT_VERSION } from '../../web/src/review/prompts';

const base = {
  problemId: 'sum',
  problemDescription: '# Sum\nRead two integers, print their sum.',
  language: 'python' as const,
  sourceCode: 'print(sum(map(int, input().split())))',
};

describe('review prompts', () => {
  it('asks an accepted submission for complexity, readability and a better approach, without code', () => {
    const [system, user] = buildReviewPrompt({ ...base, verdict: 'AC' });
    assert.equal(system.role, 'system');
    assert.match(system.content, /Never include code/);
    assert.match(user.content, /ACCEPTED/);
    assert.match(user.content, /complexity/i);
    assert.match(user.content, /Readability/);
    assert.match(user.content, /better approach/);
    assert.doesNotMatch(user.content, /keywords/);
  });

  it('asks a failed submission for the faulty part and keywords, never the fix', () => {
    const [, user] = buildReviewPrompt({ ...base, verdict: 'TLE' });
    assert.match(user.content, /verdict TLE \(time limit exceeded\)/);
    assert.match(user.content, /most likely responsible/);
    assert.match(user.content, /keywords/);
    assert.match(user.content, /Do not give the fix/);
    assert.doesNotMatch(user.content, /ACCEPTED/);
  });

  it('includes the problem statement, language label and source', () => {
    const [, user] = buildReviewPrompt({ ...base, verdict: 'WA' });
    assert.ok(user.content.includes(base.problemDescription));
    assert.ok(user.content.includes(base.sourceCode));
    assert.match(user.content, /Submission in Python 3:/);
  });

  it('fences the source so backticks inside cannot close the block', () => {
    const [, user] = buildReviewPrompt({ ...base, verdict: 'WA', sourceCode: 's = "````"\nprint(s)' });
    assert.match(user.content, /`{5}python\ns = "````"\nprint\(s\)\n`{5}/);
  });

  it('truncates very long sources and says so', () => {
    const [, user] = buildReviewPrompt({ ...base, verdict: 'AC', sourceCode: 'x'.repeat(MAX_SOURCE_CHARS + 10) });
    assert.match(user.content, /\[\.\.\. truncated 10 characters\]/);
    assert.equal(PROMPT_VERSION, 'review-v1');
  });
});
