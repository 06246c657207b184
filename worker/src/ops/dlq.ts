/**
 * `grading-stack dlq list|show|replay|purge`: on-call's tools for grading-dlq, against the local
 * broker or Amazon MQ (credentials from SSM, named like the worker's).
 *
 * - list/show browse the queue (STOMP `browser: true`, which ActiveMQ answers with every message
 *   and then one `browser: end` frame): nothing is consumed.
 * - replay/purge take exactly the chosen messages: a consumer with a JMSMessageID selector and
 *   client-individual ack per message. Replay sends the body back to where it came from and only
 *   then acks the dead letter (a crash in between gives a duplicate, which the worker's requestId
 *   idempotency absorbs). Purge acks without sending.
 * - Never NACK here: grading-dlq's dead-letter strategy discards, so a NACK would delete.
 *
 * Where a message came from: `x-original-destination` (set by the worker when it dead-letters) or
 * `original-destination` (set by ActiveMQ when the redelivery plugin dead-letters a NACKed
 * request). Why: `x-error-reason`/`x-error-detail` (worker), else the broker's redelivery limit.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline/promises';
import { CONNECTION_PARAMETERS, resolveSsmParameters } from '../../../core/src/config';
import { BrokerSession } from '../../../core/src/queue/session';
import { Headers, InboundMessage, parseEndpoints } from '../../../core/src/queue/stomp';

export const DLQ_USAGE = `usage: grading-stack dlq <command> [options]

  list                         every dead letter: id, age, reason, original queue, request id
  show <message-id>            one dead letter: headers and body
  replay <message-id>... | --all [--reason R]
                               send back to the original queue (after the cause is fixed)
  purge <message-id>... | --all [--reason R] [--yes]
                               delete for good (asks first unless --yes)

options:
  --env <name>     read the broker endpoint and credentials from SSM: /<name>/mq/broker-endpoint,
                   /<name>/mq/username, /<name>/mq/password (else MQ_ENDPOINTS, MQ_USERNAME,
                   MQ_PASSWORD or the MQ_*_PARAM names, as the worker reads them)
  --queue <name>   the dead-letter queue (default grading-dlq, or DLQ_NAME)
  --reason <r>     only dead letters with this reason (x-error-reason, or broker-redelivery-limit)
  --json           machine-readable output (list, show)`;

export class DlqUsageError extends Error {}

export interface DeadLetter {
  messageId: string;
  requestId?: string;
  reason: string;
  detail?: string;
  originalDestination?: string;
  /** When it was dead-lettered (x-failed-at, else the broker timestamp). */
  failedAt?: string;
  headers: Headers;
  body: string;
}

/** What a message's headers say about it. */
export function describeDeadLetter(message: { headers: Headers; body: string }): DeadLetter {
  const h = message.headers;
  const timestamp = Number(h.timestamp);
  let requestId: string | undefined = h['correlation-id'];
  if (!requestId) {
    try {
      requestId = (JSON.parse(message.body) as { requestId?: string }).requestId;
    } catch {
      requestId = undefined;
    }
  }
  return {
    messageId: h['message-id'],
    requestId: typeof requestId === 'string' ? requestId : undefined,
    reason: h['x-error-reason'] ?? (h['original-destination'] ? 'broker-redelivery-limit' : 'unknown'),
    detail: h['x-error-detail'],
    originalDestination: h['x-original-destination'] || h['original-destination'] || undefined,
    failedAt: h['x-failed-at'] ?? (timestamp > 0 ? new Date(timestamp).toISOString() : undefined),
    headers: h,
    body: message.body,
  };
}

/** The operations, on an open broker session. */
export class DeadLetterQueue {
  constructor(
    private readonly session: BrokerSession,
    readonly destination = '/queue/grading-dlq',
    private readonly timeoutMs = 15_000,
  ) {}

  /** Every message, without consuming any. */
  browse(): Promise<DeadLetter[]> {
    return new Promise((resolve, reject) => {
      const found: DeadLetter[] = [];
      const timer = setTimeout(() => {
        subscription.unsubscribe();
        reject(new Error(`browsing ${this.destination} did not finish within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const subscription = this.session.subscribe(
        this.destination,
        (body, headers) => {
          if (headers.browser === 'end') {
            clearTimeout(timer);
            subscription.unsubscribe();
            resolve(found);
          } else found.push(describeDeadLetter({ headers, body }));
        },
        { ack: 'auto', headers: { browser: 'true' } },
      );
    });
  }

  /** Sends the message back to its original queue, then removes it from the DLQ. */
  async replay(messageId: string): Promise<DeadLetter> {
    return this.take(messageId, async (letter) => {
      if (!letter.originalDestination) {
        throw new Error(
          `${messageId} does not say which queue it came from (no x-original-destination or original-destination header); nothing sent`,
        );
      }
      const headers: Headers = {
        persistent: 'true',
        'content-type': letter.headers['content-type'] ?? 'application/json',
        'x-dlq-replay': 'true',
        'x-replayed-from': messageId,
        'x-replayed-at': new Date().toISOString(),
      };
      if (letter.requestId) headers['correlation-id'] = letter.requestId;
      await this.session.send(letter.originalDestination, letter.body, headers, this.timeoutMs);
    });
  }

  /** Removes the message for good. */
  purge(messageId: string): Promise<DeadLetter> {
    return this.take(messageId, async () => undefined);
  }

  /** Receives exactly this message (selector on its id), runs `act`, and acks only if `act` succeeded. */
  private take(messageId: string, act: (letter: DeadLetter) => Promise<void>): Promise<DeadLetter> {
    if (!/^[\w:.\-]+$/.test(messageId)) return Promise.reject(new Error(`"${messageId}" is not a message id (see dlq list)`));
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (error: Error | undefined, letter?: DeadLetter) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        subscription.unsubscribe();
        if (error) reject(error);
        else resolve(letter!);
      };
      const missing = () => finish(new Error(`no message ${messageId} in ${this.destination} (already replayed or purged?)`));
      const timer = setTimeout(missing, this.timeoutMs);
      const subscription = this.session.subscribe(
        this.destination,
        (body, headers, message: InboundMessage) => {
          if (done) return;
          clearTimeout(timer);
          const letter = describeDeadLetter({ headers, body });
          act(letter)
            .then(() => this.session.ack(message))
            .then(
              () => finish(undefined, letter),
              // Not acked: the message goes back to the queue when we unsubscribe.
              (error: Error) => finish(error),
            );
        },
        { ack: 'client-individual', prefetch: 1, selector: `JMSMessageID = '${messageId}'` },
      );
    });
  }
}

interface DlqArgs {
  command: 'list' | 'show' | 'replay' | 'purge';
  ids: string[];
  all: boolean;
  reason?: string;
  env?: string;
  queue?: string;
  json: boolean;
  yes: boolean;
}

export function parseDlqArgs(argv: string[]): DlqArgs {
  const [command, ...rest] = argv;
  if (!['list', 'show', 'replay', 'purge'].includes(command)) {
    throw new DlqUsageError(command ? `unknown dlq command "${command}"` : 'no dlq command given');
  }
  const args: DlqArgs = { command: command as DlqArgs['command'], ids: [], all: false, json: false, yes: false };
  const problems: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      if (i + 1 >= rest.length) problems.push(`${arg} needs a value`);
      return rest[++i];
    };
    if (arg === '--all') args.all = true;
    else if (arg === '--json') args.json = true;
    else if (arg === '--yes' || arg === '-y') args.yes = true;
    else if (arg === '--reason') args.reason = value();
    else if (arg === '--env') args.env = value();
    else if (arg === '--queue') args.queue = value();
    else if (arg.startsWith('-')) problems.push(`unknown option ${arg}`);
    else args.ids.push(arg);
  }
  if (args.command === 'show' && args.ids.length !== 1) problems.push('show takes one message id');
  if ((args.command === 'replay' || args.command === 'purge') && !args.all && args.ids.length === 0 && !args.reason) {
    problems.push(`${args.command} needs message ids, --all or --reason`);
  }
  if (args.all && args.ids.length) problems.push('give message ids or --all, not both');
  if (problems.length) throw new DlqUsageError(problems.join('\n'));
  return args;
}

export interface DlqIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Asks a yes/no question; undefined when there is no one to ask (not a terminal). */
  confirm?: (question: string) => Promise<boolean>;
  env?: Record<string, string | undefined>;
  now?: () => number;
}

/** Runs one dlq command; returns the process exit code. */
export async function runDlqCommand(argv: string[], io: DlqIo = defaultIo()): Promise<number> {
  let args: DlqArgs;
  try {
    args = parseDlqArgs(argv);
  } catch (error) {
    if (!(error instanceof DlqUsageError)) throw error;
    io.err(`${error.message}\n\n${DLQ_USAGE}\n`);
    return 2;
  }
  const env = io.env ?? process.env;
  const session = await connect(args.env, env);
  try {
    const dlq = new DeadLetterQueue(session, `/queue/${args.queue ?? env.DLQ_NAME ?? 'grading-dlq'}`);
    return await execute(dlq, args, io);
  } finally {
    await session.close().catch(() => undefined);
  }
}

async function execute(dlq: DeadLetterQueue, args: DlqArgs, io: DlqIo): Promise<number> {
  const letters = (await dlq.browse()).filter((l) => !args.reason || l.reason === args.reason);
  if (args.command === 'list') {
    const summaries = letters.map(({ headers: _h, body: _b, ...rest }) => rest);
    io.out(args.json ? `${JSON.stringify(summaries, null, 2)}\n` : formatList(letters, dlq.destination, io.now?.() ?? Date.now()));
    return 0;
  }
  if (args.command === 'show') {
    const letter = letters.find((l) => l.messageId === args.ids[0]);
    if (!letter) {
      io.err(`no message ${args.ids[0]} in ${dlq.destination}\n`);
      return 1;
    }
    io.out(args.json ? `${JSON.stringify(letter, null, 2)}\n` : formatOne(letter));
    return 0;
  }
  const chosen = args.ids.length ? args.ids : letters.map((l) => l.messageId);
  const missing = args.ids.filter((id) => !letters.some((l) => l.messageId === id));
  if (missing.length) {
    io.err(`not in ${dlq.destination}${args.reason ? ` with reason ${args.reason}` : ''}: ${missing.join(', ')}; nothing done\n`);
    return 1;
  }
  if (chosen.length === 0) {
    io.out(`${dlq.destination} has nothing to ${args.command}\n`);
    return 0;
  }
  if (args.command === 'purge' && !args.yes) {
    const question = `Delete ${chosen.length} message(s) from ${dlq.destination} for good? [y/N] `;
    if (!io.confirm) {
      io.err('purge deletes messages for good: confirm with --yes when not running in a terminal\n');
      return 2;
    }
    if (!(await io.confirm(question))) {
      io.out('nothing purged\n');
      return 1;
    }
  }
  let failed = 0;
  for (const id of chosen) {
    try {
      const letter = args.command === 'replay' ? await dlq.replay(id) : await dlq.purge(id);
      const what = `${id} (${letter.requestId ?? 'no request id'})`;
      io.out(args.command === 'replay' ? `replayed ${what} to ${letter.originalDestination}\n` : `purged ${what}\n`);
    } catch (error) {
      failed++;
      io.err(`${id}: ${(error as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

async function connect(envName: string | undefined, env: Record<string, string | undefined>): Promise<BrokerSession> {
  const named = envName
    ? {
        MQ_ENDPOINT_PARAM: `/${envName}/mq/broker-endpoint`,
        MQ_USERNAME_PARAM: `/${envName}/mq/username`,
        MQ_PASSWORD_PARAM: `/${envName}/mq/password`,
        MQ_ENDPOINTS: undefined,
        MQ_USERNAME: undefined,
        MQ_PASSWORD: undefined,
      }
    : {};
  const resolved = await resolveSsmParameters({ ...env, ...named }, undefined, CONNECTION_PARAMETERS);
  if (!resolved.MQ_ENDPOINTS) throw new Error('no broker: give --env <name> (SSM) or set MQ_ENDPOINTS (and MQ_USERNAME, MQ_PASSWORD)');
  const endpoints = parseEndpoints(resolved.MQ_ENDPOINTS);
  // MQ_TLS_CA: the CA bundle the broker's certificate chains to, as for the worker (absent: Node's public CAs, Amazon MQ).
  const ca = resolved.MQ_TLS_CA ? fs.readFileSync(resolved.MQ_TLS_CA, 'utf8') : undefined;
  return BrokerSession.open({ endpoints, username: resolved.MQ_USERNAME, password: resolved.MQ_PASSWORD, ca, maxBackoffMs: 2000 }, 20_000);
}

function age(iso: string | undefined, now: number): string {
  if (!iso) return '?';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function formatList(letters: DeadLetter[], destination: string, now: number): string {
  if (letters.length === 0) return `${destination} is empty\n`;
  const rows = letters.map((l) => [
    l.messageId,
    age(l.failedAt, now),
    l.reason,
    l.originalDestination ?? '?',
    l.requestId ?? '-',
    (l.detail ?? '').slice(0, 80),
  ]);
  const header = ['MESSAGE ID', 'AGE', 'REASON', 'FROM', 'REQUEST', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n${letters.length} message(s) in ${destination}\n`;
}

function formatOne(l: DeadLetter): string {
  let body = l.body;
  try {
    body = JSON.stringify(JSON.parse(l.body), null, 2);
  } catch {
    // not JSON: shown as it is
  }
  const headers = Object.entries(l.headers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `  ${k}: ${v}`)
    .join('\n');
  const facts = [
    `message ${l.messageId}`,
    `reason: ${l.reason}`,
    `detail: ${l.detail ?? '-'}`,
    `from: ${l.originalDestination ?? '?'}`,
    `request: ${l.requestId ?? '-'}`,
    `failed at: ${l.failedAt ?? '?'}`,
  ];
  return `${facts.join('\n')}\nheaders:\n${headers}\nbody:\n${body}\n`;
}

function defaultIo(): DlqIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    confirm: process.stdin.isTTY
      ? async (question) => {
          const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
          try {
            return /^y(es)?$/i.test((await rl.question(question)).trim());
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
}
