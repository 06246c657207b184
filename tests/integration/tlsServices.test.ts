/**
 * The local broker and database speak TLS only, as Amazon MQ (stomp+ssl) and RDS
 * (require_secure_transport) do, so every other suite crosses those hops through TLS: plain
 * connections are refused, and a client that does not trust the services' CA is refused too.
 */
import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import { StompConnection } from '../../core/src/queue/stomp';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { sharedActiveMq, sharedMariaDb } from '../helpers/services';

describe('local services: TLS on every hop', function () {
  this.timeout(120_000);
  let broker: LocalActiveMq;
  let db: LocalMariaDb;

  before(async () => {
    [broker, db] = await Promise.all([sharedActiveMq(), sharedMariaDb()]);
  });

  describe('ActiveMQ STOMP', () => {
    it("accepts stomp+ssl from a client that trusts the services' CA", async () => {
      const { endpoints, ...options } = broker.connectOptions();
      const connection = await StompConnection.open(endpoints[0], { ...options, heartbeatMs: 0 });
      assert.ok(connection.isOpen);
      await connection.close();
    });

    it('refuses plain STOMP on its port', async () => {
      const { username, password } = broker.connectOptions();
      await assert.rejects(
        StompConnection.open({ ...broker.endpoint, ssl: false }, { username, password, heartbeatMs: 0, connectTimeoutMs: 10_000 }),
        /STOMP connect to stomp:\/\/127\.0\.0\.1:\d+ (failed|timed out)/,
      );
    });

    it('is refused by a client that trusts only the public CAs (the certificate is verified)', async () => {
      const { endpoints, username, password } = broker.connectOptions();
      const untrusted = StompConnection.open(endpoints[0], { username, password, heartbeatMs: 0 });
      await assert.rejects(untrusted, /self[- ]signed certificate|unable to (get|verify)/);
    });
  });

  describe('MariaDB', () => {
    it("accepts a TLS login that verifies the server against the services' CA", async () => {
      const conn = await mysql.createConnection(db.connectionOptions());
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_version'");
        assert.match(String(rows[0]?.Value), /^TLSv1\.[23]$/);
      } finally {
        await conn.end();
      }
    });

    it('refuses the same login without TLS (require_secure_transport)', async () => {
      const { ssl, ...plain } = db.connectionOptions();
      // MariaDB 10.11 answers an insecure login under require_secure_transport with "access denied".
      await assert.rejects(mysql.createConnection(plain), /Access denied|SECURE_TRANSPORT/i);
      const conn = await mysql.createConnection({ ...plain, ssl });
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'");
        assert.equal(rows[0]?.Value, 'ON', 'the same credentials work over TLS: the transport is what was refused');
      } finally {
        await conn.end();
      }
    });

    it("is refused by the worker's store when no CA is named: it then trusts only the Amazon RDS bundle", async () => {
      const { host, port, database, user, password } = db.connectionOptions();
      const untrusted = MysqlResultStore.connect({ host, port, database, user, password });
      await assert.rejects(untrusted, /self[- ]signed certificate|unable to (get|verify)/);
    });
  });
});
