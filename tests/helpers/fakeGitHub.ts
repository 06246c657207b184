/**
 * A local server for the two endpoints of GitHub's REST contents API the publisher uses, following
 * GitHub's documentation:
 * - "Get repository content", GET /repos/{owner}/{repo}/contents/{path}
 *   (https://docs.github.com/en/rest/repos/contents#get-repository-content): 200 with a file object
 *   {type: "file", encoding: "base64", content, sha, path, html_url, ...}, 404 {message: "Not Found"}.
 * - "Create or update file contents", PUT /repos/{owner}/{repo}/contents/{path}
 *   (https://docs.github.com/en/rest/repos/contents#create-or-update-file-contents): body
 *   {message, content (base64), sha ("Required if you are updating a file")}; 201 on create and 200 on
 *   update with {content, commit: {sha, html_url, message}}; 409 Conflict when the sha is not the file's
 *   current blob sha; 422 "Validation failed" when required fields are missing, including
 *   `"sha" wasn't supplied` for an existing file; 404 for an unknown repository.
 * - Authentication ("Authenticating to the REST API"): `Authorization: token|Bearer <token>`; a wrong
 *   token answers 401 {message: "Bad credentials"}.
 * - Rate limits ("Rate limits for the REST API"): every response carries x-ratelimit-limit/-remaining/
 *   -used/-reset/-resource; a primary limit answers 403 or 429 with x-ratelimit-remaining 0 and
 *   x-ratelimit-reset (UTC epoch seconds); a secondary limit answers 403 or 429 with a message saying so
 *   and maybe retry-after (seconds).
 * Blob shas are git's: sha1 of "blob <size>\0<content>".
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedFailure {
  status: number;
  message: string;
  headers?: Record<string, string>;
  /** Only for this method (default any). */
  method?: 'GET' | 'PUT';
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: { message?: string; content?: string; sha?: string };
}

export interface FakeGitHub {
  baseUrl: string;
  /** repository "owner/name" -> path -> content (utf8). */
  files: Map<string, Map<string, string>>;
  commits: Array<{ repository: string; path: string; sha: string; message: string }>;
  requests: RecordedRequest[];
  /** Answers for the next requests, in order, before behaving normally. */
  failNext: ScriptedFailure[];
  /** Runs before a PUT is applied: a test changes the file here to play a concurrent writer. */
  beforePut?: (repository: string, path: string) => void;
  /** Tokens that authenticate but may only read (403 "Resource not accessible by personal access token" on PUT). */
  readOnlyTokens: Set<string>;
  addRepository(repository: string): void;
  close(): Promise<void>;
}

export function blobSha(content: string): string {
  const body = Buffer.from(content, 'utf8');
  return createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
}

export async function startFakeGitHub(tokens: string[]): Promise<FakeGitHub> {
  const state = {
    files: new Map<string, Map<string, string>>(),
    commits: [] as FakeGitHub['commits'],
    requests: [] as RecordedRequest[],
    failNext: [] as ScriptedFailure[],
    beforePut: undefined as FakeGitHub['beforePut'],
    readOnlyTokens: new Set<string>(),
  };
  let used = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        used++;
        res.writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': String(Math.max(0, 5000 - used)),
          'x-ratelimit-used': String(used),
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
          'x-ratelimit-resource': 'core',
          ...headers,
        });
        res.end(JSON.stringify(payload));
      };
      const url = new URL(req.url ?? '/', 'http://github.local');
      const match = /^\/repos\/([^/]+)\/([^/]+)\/contents\/(.+)$/.exec(url.pathname);
      const method = req.method ?? 'GET';
      const path = match ? decodeURIComponent(match[3]) : url.pathname;
      let body: RecordedRequest['body'];
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        return send(400, { message: 'Problems parsing JSON' });
      }
      state.requests.push({ method, path, authorization: req.headers.authorization, body });

      const auth = /^(?:token|Bearer) (.+)$/.exec(req.headers.authorization ?? '');
      if (!auth || !tokens.includes(auth[1])) {
        return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
      }
      const scripted = state.failNext[0];
      if (scripted && (!scripted.method || scripted.method === method)) {
        state.failNext.shift();
        return send(scripted.status, { message: scripted.message, documentation_url: 'https://docs.github.com/rest' }, scripted.headers);
      }
      if (!match || (method !== 'GET' && method !== 'PUT')) return send(404, { message: 'Not Found' });
      const repository = `${match[1]}/${match[2]}`;
      const files = state.files.get(repository);
      if (!files) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/contents' });
      const fileObject = (p: string, content: string) => ({
        type: 'file',
        encoding: 'base64',
        size: Buffer.byteLength(content),
        name: p.split('/').pop(),
        path: p,
        content: Buffer.from(content).toString('base64'),
        sha: blobSha(content),
        html_url: `https://github.com/${repository}/blob/main/${p}`,
      });

      if (method === 'GET') {
        const content = files.get(path);
        if (content === undefined)
          return send(404, {
            message: 'Not Found',
            documentation_url: 'https://docs.github.com/rest/repos/contents#get-repository-content',
          });
        return send(200, fileObject(path, content));
      }

      if (state.readOnlyTokens.has(auth[1])) return send(403, { message: 'Resource not accessible by personal access token' });
      const missing = ['message', 'content'].filter((f) => typeof (body as Record<string, unknown> | undefined)?.[f] !== 'string');
      if (missing.length) return send(422, { message: `Invalid request.\n\n${missing.map((f) => `"${f}" wasn't supplied.`).join('\n')}` });
      state.beforePut?.(repository, path);
      const current = files.get(path);
      if (current !== undefined && body!.sha === undefined) return send(422, { message: 'Invalid request.\n\n"sha" wasn\'t supplied.' });
      if (current !== undefined && body!.sha !== blobSha(current)) return send(409, { message: `${path} does not match ${body!.sha}` });
      if (current === undefined && body!.sha !== undefined) return send(409, { message: `${path} does not match ${body!.sha}` });
      const content = Buffer.from(body!.content!, 'base64').toString('utf8');
      files.set(path, content);
      const sha = randomBytes(20).toString('hex');
      state.commits.push({ repository, path, sha, message: body!.message! });
      return send(current === undefined ? 201 : 200, {
        content: fileObject(path, content),
        commit: { sha, html_url: `https://github.com/${repository}/commit/${sha}`, message: body!.message },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}`,
    addRepository: (repository: string) => void state.files.set(repository, new Map()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as FakeGitHub;
}
