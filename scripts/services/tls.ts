/**
 * A private certificate authority for the local services, made with openssl: one CA per services
 * root, and one server certificate for 127.0.0.1/localhost that MariaDB and ActiveMQ present. The
 * worker and the gateway trust the CA through MQ_TLS_CA / DB_TLS_CA, the settings that name a CA
 * bundle in production too (there the RDS bundle and the public CAs apply when they are unset).
 * Files are kept, so a restarted local stack keeps the CA its clients were given.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findExecutable } from './process';

export interface LocalTls {
  dir: string;
  /** The CA certificate (PEM): what clients trust. */
  caFile: string;
  /** The server certificate (PEM, SAN IP:127.0.0.1, DNS:localhost) and its key. */
  certFile: string;
  keyFile: string;
  /** The same key and certificate as a PKCS12 keystore, for ActiveMQ's sslContext. */
  keystoreFile: string;
  keystorePassword: string;
}

const DAYS = '825';

/** Creates (or reuses) the CA and the server certificate under `dir`. */
export function ensureLocalTls(dir: string): LocalTls {
  const openssl = findExecutable(['/usr/bin/openssl'], 'install openssl with `apt-get install -y openssl`');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const tls: LocalTls = {
    dir,
    caFile: file('ca.pem'),
    certFile: file('server.pem'),
    keyFile: file('server-key.pem'),
    keystoreFile: file('server.p12'),
    keystorePassword: readOrCreatePassword(file('keystore-password')),
  };
  if ([tls.caFile, tls.certFile, tls.keyFile, tls.keystoreFile].every((f) => fs.existsSync(f))) return tls;

  const run = (args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const subject = `grading-stack local CA ${path.basename(path.dirname(dir))}`.slice(0, 60);
  run([
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca-key.pem'), '-out', tls.caFile, '-days', DAYS],
    ...['-subj', `/CN=${subject}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  ]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', tls.keyFile, '-out', file('server.csr'), '-subj', '/CN=localhost']);
  fs.writeFileSync(
    file('server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  run([
    ...['x509', '-req', '-in', file('server.csr'), '-CA', tls.caFile, '-CAkey', file('ca-key.pem'), '-CAcreateserial'],
    ...['-out', tls.certFile, '-days', DAYS, '-extfile', file('server.ext')],
  ]);
  // Java 17 reads PKCS12 keystores directly (keyStoreType="PKCS12"); no JKS conversion needed.
  const passout = `file:${file('keystore-password')}`;
  run(['pkcs12', '-export', '-in', tls.certFile, '-inkey', tls.keyFile, '-name', 'server', '-out', tls.keystoreFile, '-passout', passout]);
  for (const f of [tls.keyFile, file('ca-key.pem'), tls.keystoreFile]) fs.chmodSync(f, 0o600);
  return tls;
}

function readOrCreatePassword(file: string): string {
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(18).toString('hex'), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}
