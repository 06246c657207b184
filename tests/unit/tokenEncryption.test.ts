/** Envelope encryption of linked tokens: fresh data key per secret, bound to its owner, tamper-evident. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LocalEnvelopeEncryptor } from '../../core/src/solutions/crypto';

describe('LocalEnvelopeEncryptor', () => {
  const key = randomBytes(32).toString('base64');
  const token = 'github_pat_11AAAA_example_token_value';

  it('round-trips, and never stores the token or the same bytes twice', async () => {
    const encryptor = new LocalEnvelopeEncryptor(key, 'k1');
    const a = await encryptor.encrypt(token, 'alice');
    const b = await encryptor.encrypt(token, 'alice');
    assert.notEqual(a, b, 'fresh data key and iv each time');
    assert.ok(!a.includes(token) && !a.includes(Buffer.from(token).toString('base64')));
    assert.match(a, /^v1\.k1\./);
    assert.equal(await encryptor.decrypt(a, 'alice'), token);
  });

  it('refuses another owner, another key, a tampered value and a malformed one', async () => {
    const encryptor = new LocalEnvelopeEncryptor(key, 'k1');
    const sealed = await encryptor.encrypt(token, 'alice');
    await assert.rejects(encryptor.decrypt(sealed, 'mallory'), /does not open/);
    await assert.rejects(new LocalEnvelopeEncryptor(randomBytes(32).toString('base64'), 'k1').decrypt(sealed, 'alice'), /does not open/);
    await assert.rejects(new LocalEnvelopeEncryptor(key, 'k2').decrypt(sealed, 'alice'), /sealed under key "k1"/);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[body.length - 1] ^= 1;
    await assert.rejects(encryptor.decrypt([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'alice'), /does not open/);
    await assert.rejects(encryptor.decrypt('plain-token', 'alice'), /not a sealed secret/);
  });

  it('needs a 32-byte key', () => {
    assert.throws(() => new LocalEnvelopeEncryptor(randomBytes(16).toString('base64')), /32 bytes/);
    assert.throws(() => new LocalEnvelopeEncryptor(''), /32 bytes/);
  });
});
