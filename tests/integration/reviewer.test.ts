/** The OpenAI-compatible reviewer against a local server speaking the chat-completions API. */
import assert from 'node:assert/strict';
import { OpenAiReviewer } from '../../web/src/review/openAiReviewer';
import { ReviewNotConfiguredError, ReviewServiceError } from '../../web/src/review/port';
import { FakeChatServer, startFakeChatServer } from '../helpers/fakeChatCompletions';

const input = { problemId: 'sum', problemDescription: 'Print a+b.', language: 'c' as const, verdict: 'WA', sourceCode: 'int main(){}' };
const noSleep = async () => undefined;

describe('OpenAiReviewer', () => {
  let server: FakeChatServer;
  beforeEach(async () => {
    server = await startFakeChatServer('sk-test-key');
  });
  afterEach(() => server.close());

  it('sends the prompt with the model and key, and returns the review text', async () => {
    server.reply = 'Look at the loop bounds. Keywords: off-by-one, prefix sums.';
    const reviewer = new OpenAiReviewer({ baseUrl: server.baseUrl, model: 'gpt-test', apiKey: 'sk-test-key', sleep: noSleep });
    const review = await reviewer.review(input);
    assert.equal(review.text, server.reply);
    assert.equal(review.model, 'gpt-test');
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].body.model, 'gpt-test');
    assert.match(server.requests[0].body.messages[1].content, /verdict WA/);
  });

  it('retries 429 and 500, then succeeds', async () => {
    server.failWith = [429, 500];
    const reviewer = new OpenAiReviewer({ baseUrl: server.baseUrl, model: 'm', apiKey: 'sk-test-key', sleep: noSleep });
    const review = await reviewer.review(input);
    assert.equal(review.text, 'Complexity: O(n).');
    assert.equal(server.requests.length, 3);
  });

  it('gives up after maxAttempts with the last status', async () => {
    server.failWith = [500, 500, 500];
    const reviewer = new OpenAiReviewer({ baseUrl: server.baseUrl, model: 'm', apiKey: 'sk-test-key', maxAttempts: 3, sleep: noSleep });
    await assert.rejects(reviewer.review(input), (e: Error) => e instanceof ReviewServiceError && e.status === 500);
    assert.equal(server.requests.length, 3);
  });

  it('does not retry a rejected key, and the error does not contain the key', async () => {
    const reviewer = new OpenAiReviewer({ baseUrl: server.baseUrl, model: 'm', apiKey: 'sk-wrong-key', sleep: noSleep });
    await assert.rejects(
      reviewer.review(input),
      (e: Error) => e instanceof ReviewServiceError && (e as ReviewServiceError).status === 401 && !e.message.includes('sk-wrong-key'),
    );
  });

  it('fails clearly when it is not configured', () => {
    assert.throws(
      () => new OpenAiReviewer({ baseUrl: server.baseUrl }),
      (e: Error) => e instanceof ReviewNotConfiguredError && /missing model, apiKey/.test(e.message),
    );
  });
});
