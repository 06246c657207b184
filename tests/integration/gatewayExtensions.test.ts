/**
 * The GitHub link and staff signal routes through the gateway's HTTP layer, with the stores on
 * MariaDB. Authentication is the gateway's own concern: here a test resolver maps a header to a
 * principal, standing in for it, so these tests exercise what the routes do with a principal.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mysql, { Pool, RowDataPacket } from 'mysql2/promise';
import { MysqlSimilarityStore } from '../../core/src/similarity/store';
import { fingerprintSource } from '../../core/src/similarity/winnow';
import { MysqlSolutionStore } from '../../core/src/solutions/store';
import { createGatewayExtensions } from '../../web/src/extensions/wiring';
import type { ProblemSource, SubmissionService } from '../../web/src/ports';
import { Gateway } from '../../web/src/server';
import { CORPUS, original, reorderedCopy } from '../fixtures/similarityCorpus';
import { bearer, unitGatewayAuthDeps } from '../helpers/gatewayAuth';
import { sharedMariaDb } from '../helpers/services';

const TOKEN = `github_pat_${randomBytes(16).toString('hex')}`;

describe('gateway: GitHub link and staff signal routes', function () {
  this.timeout(120_000);
  let pool: Pool;
  let gateway: Gateway;
  let similarity: MysqlSimilarityStore;
  let solutions: MysqlSolutionStore;
  const submitted: string[] = [];
  const logLines: string[] = [];
  const suffix = randomBytes(3).toString('hex');
  const alice = `alice_${suffix}`;

  before(async () => {
    const db = await sharedMariaDb();
    pool = mysql.createPool({ ...db.connectionOptions(), connectionLimit: 4 });
    const extensions = await createGatewayExtensions(pool, { SOLUTIONS_TOKEN_KEY: randomBytes(32).toString('base64') });
    similarity = await MysqlSimilarityStore.create(pool);
    solutions = await MysqlSolutionStore.create(pool);
    const submissions: SubmissionService = {
      submit: async (input) => {
        submitted.push(input.requestId);
        return { requestId: input.requestId, status: 'submitted' };
      },
      lookup: async () => undefined,
      events: async function* () {},
    };
    const problems: ProblemSource = { list: async () => [], get: async () => undefined, exists: async () => true };
    gateway = new Gateway(
      {
        submissions,
        problems,
        health: async () => ({ ok: true, checks: {} }),
        routes: extensions.routes,
        signals: extensions.signals,
        ...unitGatewayAuthDeps(),
        log: (...args) => void logLines.push(JSON.stringify(args)),
      },
      { maxSourceBytes: 10_000 },
    );
    await gateway.listen(0);
  });
  after(async () => {
    await gateway?.close();
    await pool?.end();
    assert.ok(!logLines.join('\n').includes(TOKEN));
  });

  const call = async (method: string, path: string, opts: { user?: string; body?: unknown } = {}) => {
    const response = await fetch(gateway.url + path, {
      method,
      // "name[,staff]": a bearer token for that user, with the staff role when asked.
      headers: {
        ...(opts.user ? await bearer(opts.user.split(',')[0], opts.user.split(',').slice(1)) : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
  };

  it('needs an authenticated user', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const r = await call(method, '/api/github/link', method === 'POST' ? { body: { repository: 'a/b', token: TOKEN } } : {});
      assert.equal(r.status, 401, method);
    }
  });

  it('links, shows the state and recent commit URLs without the token, and unlinks', async () => {
    const linked = await call('POST', '/api/github/link', { user: alice, body: { repository: 'alice/solutions', token: TOKEN } });
    assert.equal(linked.status, 201, linked.text);
    assert.deepEqual(
      {
        linked: linked.json.linked,
        repository: linked.json.repository,
        pathTemplate: linked.json.pathTemplate,
        status: linked.json.status,
      },
      { linked: true, repository: 'alice/solutions', pathTemplate: '{problemId}/{language}/solution.{ext}', status: 'active' },
    );
    assert.ok(!linked.text.includes(TOKEN));
    const [rows] = await pool.query<RowDataPacket[]>('SELECT token_sealed FROM github_links WHERE user_id = ?', [alice]);
    assert.ok(rows[0].token_sealed.startsWith('v1.v1.') && !rows[0].token_sealed.includes(TOKEN));

    const requestId = `req_${randomBytes(6).toString('hex')}`;
    const claim = await solutions.claim(requestId, alice, 'alice/solutions', 60_000);
    assert.equal(claim.kind, 'claimed');
    if (claim.kind === 'claimed')
      await solutions.recordCommitted(requestId, claim.claimId, {
        path: 'sum/python/solution.py',
        commitSha: 'a'.repeat(40),
        url: 'https://github.com/alice/solutions/commit/' + 'a'.repeat(40),
      });
    const state = await call('GET', '/api/github/link', { user: alice });
    assert.equal(state.status, 200);
    assert.equal(state.json.commits[0].requestId, requestId);
    assert.match(state.json.commits[0].url, /\/commit\/a{40}$/);
    assert.ok(!state.text.includes(TOKEN) && !state.text.includes('token_sealed') && !state.text.includes('v1.v1.'));

    assert.deepEqual(
      (await call('GET', '/api/github/link', { user: `bob_${suffix}` })).json,
      { linked: false },
      "only the caller's own link",
    );
    assert.equal((await call('DELETE', '/api/github/link', { user: alice })).status, 204);
    assert.deepEqual((await call('GET', '/api/github/link', { user: alice })).json, { linked: false });
  });

  it('reports every problem of a bad link request at once, never quoting the token', async () => {
    const secretish = 'not a token but secret-ish';
    const r = await call('POST', '/api/github/link', {
      user: alice,
      body: { repository: 'no-slash', token: secretish, pathTemplate: '../{x}', extra: 1 },
    });
    assert.equal(r.status, 400);
    const fields = r.json.errors.map((e: { field: string }) => e.field);
    for (const field of ['repository', 'token', 'pathTemplate', 'extra']) assert.ok(fields.includes(field), field);
    assert.ok(!r.text.includes(secretish));
  });

  it("stores paste signals sent with a submission, and rejects malformed ones with the submission's other errors", async () => {
    const signals = { pastes: [{ at: 1200, chars: 480, lines: 20 }], typingMs: 35_000, edits: 140 };
    const ok = await call('POST', '/api/submissions', {
      user: alice,
      body: { problemId: 'sum', language: 'python', sourceCode: 'print(1)\n'.repeat(10), signals },
    });
    assert.equal(ok.status, 202, ok.text);
    // Saving is not awaited by the response: poll for the row.
    let stored;
    for (let i = 0; i < 100 && !stored; i++) {
      stored = await similarity.getSignals(ok.json.requestId);
      if (!stored) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(stored?.signals, signals);

    const bad = await call('POST', '/api/submissions', {
      user: alice,
      body: {
        problemId: 'sum',
        language: 'cobol',
        sourceCode: 'x',
        signals: { pastes: [{ at: -1, chars: 'x' }], typingMs: 1, edits: 1, clipboard: 'x' },
      },
    });
    assert.equal(bad.status, 400);
    const fields = bad.json.errors.map((e: { field: string }) => e.field);
    for (const field of ['language', 'signals.pastes[0].at', 'signals.pastes[0].chars', 'signals.pastes[0].lines', 'signals.clipboard'])
      assert.ok(fields.includes(field), `${field} in ${fields}`);
    const tooMany = { pastes: Array.from({ length: 101 }, () => ({ at: 0, chars: 1, lines: 1 })), typingMs: 0, edits: 0 };
    assert.equal(
      (
        await call('POST', '/api/submissions', {
          user: alice,
          body: { problemId: 'sum', language: 'python', sourceCode: 'print(2)', signals: tooMany },
        })
      ).status,
      400,
    );
  });

  describe('staff views', () => {
    const p = CORPUS[4];
    const problemId = `inv_${suffix}`;
    const ids = { first: `req_f${suffix}`, copy: `req_c${suffix}`, honest: `req_h${suffix}` };

    before(async () => {
      const save = (requestId: string, userId: string, source: string, at: string) =>
        similarity.saveFingerprints({
          requestId,
          userId,
          problemId,
          language: p.language,
          fingerprints: fingerprintSource(source, p.language),
          acceptedAt: at,
          sourceChars: source.length,
        });
      await save(ids.first, 'carol', original(p), '2026-01-01T00:00:00.000Z');
      await save(ids.honest, 'dan', p.independent, '2026-01-01T01:00:00.000Z');
      await save(ids.copy, 'erin', reorderedCopy(p), '2026-01-02T00:00:00.000Z');
      await similarity.saveSignals({
        requestId: ids.copy,
        userId: 'erin',
        problemId,
        signals: { pastes: [{ at: 3000, chars: 900, lines: 30 }], typingMs: 4000, edits: 12 },
        sourceChars: 1000,
      });
    });

    it('are for staff only', async () => {
      assert.equal((await call('GET', `/api/staff/submissions/${ids.copy}/signals`)).status, 401);
      assert.equal((await call('GET', `/api/staff/submissions/${ids.copy}/signals`, { user: 'erin' })).status, 403);
      assert.equal((await call('GET', `/api/staff/problems/${problemId}/clusters`, { user: 'erin' })).status, 403);
    });

    it('show the signals and the earlier copies of other users with aligned fragments', async () => {
      const r = await call('GET', `/api/staff/submissions/${ids.copy}/signals`, { user: 'judge,staff' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.signals.summary.pastedChars, 900);
      assert.equal(r.json.signals.summary.pastedShare, 0.9);
      assert.equal(r.json.matches[0].requestId, ids.first);
      assert.ok(r.json.matches[0].similarity >= r.json.threshold);
      assert.ok(r.json.matches[0].fragments.length > 0 && Array.isArray(r.json.matches[0].fragments[0].matchLines));
      const honest = r.json.matches.find((m: { requestId: string }) => m.requestId === ids.honest);
      assert.ok(!honest || honest.similarity < r.json.threshold);
      assert.equal((await call('GET', '/api/staff/submissions/req_nothing_here/signals', { user: 'judge,staff' })).status, 404);
    });

    it('cluster the copies and leave the independent solution out', async () => {
      const r = await call('GET', `/api/staff/problems/${problemId}/clusters`, { user: 'judge,staff' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.compared, 3);
      assert.deepEqual(
        r.json.clusters.map((c: { members: Array<{ requestId: string }> }) => c.members.map((m) => m.requestId).sort()),
        [[ids.copy, ids.first].sort()],
      );
      assert.equal((await call('GET', `/api/staff/problems/${problemId}/clusters?threshold=2`, { user: 'judge,staff' })).status, 400);
    });
  });
});
