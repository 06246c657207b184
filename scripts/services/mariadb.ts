/**
 * A throwaway MariaDB server on loopback with its own data dir, for tests and the local stack. Like
 * RDS (parameter require_secure_transport) it refuses every TCP connection without TLS; it presents
 * a certificate from the services' own CA (./tls.ts).
 */
import { ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import mysql from 'mysql2/promise';
import { applyMigrations, Migration } from '../../core/src/db/migrations';
import type { LocalTls } from './tls';
import { findExecutable, freePort, killProcess, spawnService, stopProcess, waitForPort } from './process';

export interface MariaDbOptions {
  dir: string;
  /** The services' CA and server certificate. */
  tls: LocalTls;
  port?: number;
  database?: string;
  username?: string;
  password?: string;
}

export interface DirectConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: { ca: string; rejectUnauthorized: true };
}

export class LocalMariaDb {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly database: string,
    readonly username: string,
    readonly password: string,
    readonly tls: LocalTls,
    private readonly server: string,
  ) {}

  static async create(opts: MariaDbOptions): Promise<LocalMariaDb> {
    const hint = 'install MariaDB with `apt-get install -y mariadb-server`';
    const server = findExecutable(['/usr/sbin/mariadbd', '/usr/sbin/mysqld'], hint);
    const installDb = findExecutable(['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'], hint);
    const dataDir = path.join(opts.dir, 'data');
    const db = new LocalMariaDb(
      opts.dir,
      opts.port ?? (await freePort()),
      opts.database ?? 'grading',
      opts.username ?? 'grader',
      opts.password ?? 'local-only-password',
      opts.tls,
      server,
    );
    const fresh = !fs.existsSync(path.join(dataDir, 'mysql'));
    if (fresh) {
      fs.mkdirSync(dataDir, { recursive: true });
      execFileSync(
        installDb,
        ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=socket', '--skip-test-db', '--user=root'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    }
    await db.start();
    if (fresh) await db.bootstrap();
    return db;
  }

  get socket(): string {
    return path.join(this.dir, 'mysqld.sock');
  }

  get logFile(): string {
    return path.join(this.dir, 'mariadb.log');
  }

  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return;
    this.child = spawnService(
      this.server,
      [
        '--no-defaults',
        `--datadir=${path.join(this.dir, 'data')}`,
        `--socket=${this.socket}`,
        `--pid-file=${path.join(this.dir, 'mysqld.pid')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=16M',
        '--max-connections=200',
        `--ssl-ca=${this.tls.caFile}`,
        `--ssl-cert=${this.tls.certFile}`,
        `--ssl-key=${this.tls.keyFile}`,
        '--require-secure-transport=ON',
      ],
      this.logFile,
    );
    await waitForPort('MariaDB', this.port, this.child, this.logFile);
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child, 30_000);
  }

  async kill(): Promise<void> {
    if (this.child) await killProcess(this.child);
  }

  /** Creates the application database and a password user, over the root socket. */
  private async bootstrap(): Promise<void> {
    const q = (s: string) => s.replace(/'/g, "''");
    const sql = [
      `CREATE DATABASE IF NOT EXISTS \`${this.database}\``,
      `CREATE USER IF NOT EXISTS '${q(this.username)}'@'127.0.0.1' IDENTIFIED BY '${q(this.password)}'`,
      `GRANT ALL PRIVILEGES ON \`${this.database}\`.* TO '${q(this.username)}'@'127.0.0.1'`,
      'FLUSH PRIVILEGES',
    ].join(';\n');
    execFileSync('/usr/bin/mariadb', ['--no-defaults', `--socket=${this.socket}`, '-uroot'], {
      input: sql,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /**
   * `npm run db:migrate`'s schema steps, as this database's own user (it has every privilege on the
   * database, as the RDS master user does): what the deploy runs before any worker or gateway starts.
   */
  async migrate(): Promise<Migration[]> {
    const connection = await mysql.createConnection(this.connectionOptions());
    try {
      return await applyMigrations(connection);
    } finally {
      await connection.end();
    }
  }

  /** mysql2 options for tests that query the database directly: TLS, trusting the services' CA. */
  connectionOptions(): DirectConnectionOptions {
    const ssl = { ca: fs.readFileSync(this.tls.caFile, 'utf8'), rejectUnauthorized: true as const };
    return { host: '127.0.0.1', port: this.port, user: this.username, password: this.password, database: this.database, ssl };
  }

  env(): Record<string, string> {
    return {
      DB_HOST: '127.0.0.1',
      DB_PORT: String(this.port),
      DB_NAME: this.database,
      DB_USERNAME: this.username,
      DB_PASSWORD: this.password,
      DB_TLS_CA: this.tls.caFile,
    };
  }
}
