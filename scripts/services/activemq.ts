/**
 * A local ActiveMQ broker on loopback, configured by the same broker XML the Messaging component
 * deploys to Amazon MQ (components/brokerXml.ts). Like Amazon MQ it speaks STOMP only over TLS
 * (stomp+ssl), with a certificate from the services' own CA (./tls.ts); OpenWire stays plain on
 * loopback for broker tools. Data survives restarts of the handle, so tests can restart the broker
 * mid-run and find persistent messages again.
 */
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BrokerXmlOptions, LocalBrokerUser, renderLocalActiveMqXml } from '../../components/brokerXml';
import type { StompEndpoint } from '../../core/src/queue/stomp';
import type { LocalTls } from './tls';
import { findExecutable, freePort, spawnService, stopProcess, killProcess, waitForPort } from './process';

const ACTIVEMQ_JAR = '/usr/share/activemq/bin/activemq.jar';

export interface ActiveMqOptions {
  dir: string;
  /** The services' CA and server certificate: the STOMP connector presents it. */
  tls: LocalTls;
  stompPort?: number;
  openwirePort?: number;
  username?: string;
  password?: string;
  broker?: BrokerXmlOptions;
  heapMb?: number;
  /** More broker users besides the admin one (e.g. per-tier users; see BROKER_GROUPS). */
  users?: LocalBrokerUser[];
}

export class LocalActiveMq {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly stompPort: number,
    readonly openwirePort: number,
    readonly username: string,
    readonly password: string,
    readonly tls: LocalTls,
    private readonly heapMb: number,
  ) {}

  static async create(opts: ActiveMqOptions): Promise<LocalActiveMq> {
    findExecutable([ACTIVEMQ_JAR], 'install ActiveMQ with `apt-get install -y activemq`');
    findExecutable(['/usr/bin/java'], 'install a JRE with `apt-get install -y default-jre-headless`');
    fs.mkdirSync(path.join(opts.dir, 'data'), { recursive: true });
    const broker = new LocalActiveMq(
      opts.dir,
      opts.stompPort ?? (await freePort()),
      opts.openwirePort ?? (await freePort()),
      opts.username ?? 'grader',
      opts.password ?? 'local-only-password',
      opts.tls,
      opts.heapMb ?? 256,
    );
    fs.writeFileSync(
      path.join(opts.dir, 'activemq.xml'),
      withStompOverTls(
        renderLocalActiveMqXml({
          ...opts.broker,
          dataDirectory: path.join(opts.dir, 'data'),
          stompPort: broker.stompPort,
          openwirePort: broker.openwirePort,
          username: broker.username,
          password: broker.password,
          users: opts.users,
        }),
        opts.tls,
      ),
      { mode: 0o600 },
    );
    fs.writeFileSync(
      path.join(opts.dir, 'log4j.properties'),
      [
        'log4j.rootLogger=WARN, out',
        'log4j.appender.out=org.apache.log4j.ConsoleAppender',
        'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.out.layout.ConversionPattern=%d %-5p [%c{1}] %m%n',
        'log4j.logger.org.apache.activemq.broker.BrokerService=INFO',
        '',
      ].join('\n'),
    );
    await broker.start();
    return broker;
  }

  get logFile(): string {
    return path.join(this.dir, 'activemq.log');
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const d = this.dir;
    this.child = spawnService(
      '/usr/bin/java',
      [
        `-Xms64m`,
        `-Xmx${this.heapMb}m`,
        '-Djava.awt.headless=true',
        '-Dactivemq.home=/usr/share/activemq',
        `-Dactivemq.base=${d}`,
        `-Dactivemq.conf=${d}`,
        `-Dactivemq.data=${d}/data`,
        `-Djava.io.tmpdir=${d}/data`,
        `-Dlog4j.configuration=file:${d}/log4j.properties`,
        '-jar',
        ACTIVEMQ_JAR,
        'start',
        `xbean:file:${d}/activemq.xml`,
      ],
      this.logFile,
      { cwd: d },
    );
    await waitForPort('ActiveMQ', this.stompPort, this.child, this.logFile);
  }

  /** Graceful stop (SIGTERM): the broker flushes its store. */
  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child);
  }

  /** Crash stop (SIGKILL), for fault tests. */
  async kill(): Promise<void> {
    if (this.child) await killProcess(this.child);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The STOMP endpoint, as the worker's config parses it from MQ_ENDPOINTS. */
  get endpoint(): StompEndpoint {
    return { host: '127.0.0.1', port: this.stompPort, ssl: true };
  }

  /** Options for BrokerSession.open / StompConnection.open in tests: TLS, trusting the services' CA. */
  connectOptions(): { endpoints: StompEndpoint[]; username: string; password: string; ca: string } {
    return { endpoints: [this.endpoint], username: this.username, password: this.password, ca: fs.readFileSync(this.tls.caFile, 'utf8') };
  }

  /** Connection settings in the worker's env-var form. */
  env(): Record<string, string> {
    return {
      MQ_ENDPOINTS: `stomp+ssl://127.0.0.1:${this.stompPort}`,
      MQ_USERNAME: this.username,
      MQ_PASSWORD: this.password,
      MQ_TLS_CA: this.tls.caFile,
    };
  }
}

/**
 * Turns the rendered STOMP connector into stomp+ssl and gives the broker its keystore, as Amazon MQ
 * offers STOMP only over TLS (61614). The broker XML itself stays the Messaging component's.
 */
export function withStompOverTls(xml: string, tls: LocalTls): string {
  const attr = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const sslContext = [
    '  <sslContext>',
    `    <sslContext keyStore="file:${attr(tls.keystoreFile)}" keyStorePassword="${attr(tls.keystorePassword)}" keyStoreType="PKCS12"/>`,
    '  </sslContext>',
    '  <transportConnectors>',
  ].join('\n');
  const tlsXml = xml.replace(/uri="stomp:\/\//, 'uri="stomp+ssl://').replace('  <transportConnectors>', sslContext);
  if (!/uri="stomp\+ssl:\/\//.test(tlsXml) || !tlsXml.includes('<sslContext>')) {
    throw new Error('the local broker XML has no STOMP transport connector to put on TLS (components/brokerXml.ts changed?)');
  }
  return tlsXml;
}
