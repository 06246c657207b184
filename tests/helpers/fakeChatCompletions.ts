/**
 * A local HTTP server that speaks the OpenAI chat-completions API closely enough for the reviewer:
 * bearer auth, JSON in and out, scripted 429/500 failures, and a record of every request body.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChatServer {
  baseUrl: string;
  requests: Array<{ authorization?: string; body: { model: string; messages: Array<{ role: string; content: string }> } }>;
  /** Statuses to answer with before succeeding, e.g. [429, 500]. */
  failWith: number[];
  reply: string;
  close(): Promise<void>;
}

export async function startFakeChatServer(apiKey: string): Promise<FakeChatServer> {
  const state: Omit<FakeChatServer, 'baseUrl' | 'close'> = { requests: [], failWith: [], reply: 'Complexity: O(n).' };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(404, { error: { message: 'not found' } });
      if (req.headers.authorization !== `Bearer ${apiKey}`) return send(401, { error: { message: 'Incorrect API key provided' } });
      const body = JSON.parse(raw);
      state.requests.push({ authorization: req.headers.authorization, body });
      const status = state.failWith.shift();
      if (status === 429) return send(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '0' });
      if (status) return send(status, { error: { message: 'The server had an error' } });
      send(200, {
        id: `chatcmpl-${state.requests.length}`,
        object: 'chat.completion',
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: state.reply }, finish_reason: 'stop' }],
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
