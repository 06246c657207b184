/** The shared logger: level filter before any work, secrets redacted in base and per-line fields. */
import assert from 'node:assert/strict';
import { createLogger } from '../../core/src/log';

describe('createLogger', () => {
  it('writes nothing and reads no field below its level', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 's' }, 'warn', (l) => lines.push(l));
    const fields = {
      get costly(): string {
        throw new Error('a field was read for a line that is not written');
      },
    };
    log('info', 'skipped', fields);
    log('debug', 'skipped');
    assert.deepEqual(lines, []);
  });

  it('writes one JSON line with base and line fields, secrets redacted in both', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 's', dbPassword: 'hunter2' }, 'info', (l) => lines.push(l));
    log('info', 'hello', { requestId: 'r1', authToken: 'abc', nested: { n: 1 } });
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n'));
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(entry.level, 'info');
    assert.equal(entry.msg, 'hello');
    assert.equal(typeof entry.time, 'string');
    assert.deepEqual(
      {
        service: entry.service,
        dbPassword: entry.dbPassword,
        requestId: entry.requestId,
        authToken: entry.authToken,
        nested: entry.nested,
      },
      { service: 's', dbPassword: '[redacted]', requestId: 'r1', authToken: '[redacted]', nested: { n: 1 } },
    );
    assert.ok(!lines[0].includes('hunter2') && !lines[0].includes('abc'));
  });
});
