/**
 * Fault injection with 100 submissions in flight: the worker SIGKILLed mid-grading, the broker
 * restarted, the S3 API and the database down for 10 s, the executor (Judge0) down for 10 s.
 * Afterwards every request has exactly one stored result or sits in grading-dlq with a reason;
 * lost and duplicated are counted, printed, and must both be 0.
 */
import assert from 'node:assert/strict';
import { seedProblems } from '../../scripts/local';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';
import {
  account,
  Accounting,
  describeAccounting,
  FaultServices,
  OutcomeCollector,
  submitAll,
  untilFinished,
  workload,
} from '../helpers/faultRun';
import { privateActiveMq, privateMariaDb, privateS3 } from '../helpers/services';
import { startWorker, WorkerProcess } from '../helpers/workerHarness';

const IN_FLIGHT = 100;
const OUTAGE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fault injection (100 submissions in flight)', function () {
  this.timeout(300_000);
  let services: FaultServices;
  let collector: OutcomeCollector;
  const workers: WorkerProcess[] = [];
  const figures: string[] = [];

  before(async function () {
    this.timeout(240_000);
    const [broker, db, s3] = await Promise.all([privateActiveMq('faults'), privateMariaDb('faults'), privateS3('faults')]);
    services = { broker, db, s3 };
    await seedProblems(s3.env());
    collector = await OutcomeCollector.open(broker);
  });

  afterEach(async function () {
    this.timeout(60_000);
    await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
  });

  after(async function () {
    this.timeout(60_000);
    await collector?.close();
    if (figures.length) console.log(`\n${figures.map((f) => `      ${f}`).join('\n')}\n`);
  });

  const worker = async (env: Record<string, string> = {}) => {
    const started = await startWorker(services, { WORKER_CONCURRENCY: '4', SANDBOX_CONCURRENCY: '2', SHUTDOWN_GRACE_MS: '5000', ...env });
    workers.push(started);
    return started;
  };

  /** Submits the batch, injects the fault once `after` requests have finished, and accounts for all of them. */
  async function run(
    name: string,
    inject: (ids: string[]) => Promise<void>,
    opts: { after?: number; env?: Record<string, string>; tag?: string } = {},
  ): Promise<Accounting> {
    await worker(opts.env);
    const startedAt = Date.now();
    const ids = await submitAll(services, collector.session, workload(IN_FLIGHT, opts.tag ?? name.replace(/\W+/g, '-')));
    await untilFinished(collector, ids, opts.after ?? 15);
    assert.ok(collector.finished(ids) < IN_FLIGHT - 20, 'the fault must hit while most requests are still in flight');
    await inject(ids);
    const outcome = await account(services, collector, ids, startedAt, { timeoutMs: 180_000 });
    const line = describeAccounting(name, outcome);
    figures.push(line);
    assert.deepEqual(outcome.lost, [], 'lost requests');
    assert.deepEqual(outcome.duplicated, [], 'duplicated requests');
    assert.deepEqual(outcome.withoutReason, [], 'dead-lettered without a reason');
    return outcome;
  }

  it('worker SIGKILLed mid-grading: a new worker finishes the rest', async () => {
    const outcome = await run('worker SIGKILL', async () => {
      await workers[0].stop('SIGKILL');
      await worker();
    });
    assert.equal(outcome.completed, IN_FLIGHT);
  });

  it('broker restarted mid-run: the worker reconnects and persistent requests survive', async () => {
    const outcome = await run('broker restart', async () => {
      await services.broker.restart();
    });
    assert.equal(outcome.completed, IN_FLIGHT);
  });

  it('S3 API down for 10 s: downloads and uploads are retried, nothing is dead-lettered', async () => {
    const outcome = await run('S3 down 10 s', async () => {
      await services.s3.stop();
      await sleep(OUTAGE_MS);
      await services.s3.start();
    });
    assert.equal(outcome.completed, IN_FLIGHT);
  });

  it('database down for 10 s: lookups and stores are retried, nothing is dead-lettered', async () => {
    const outcome = await run('database down 10 s', async () => {
      await services.db.stop();
      await sleep(OUTAGE_MS);
      await services.db.start();
    });
    assert.equal(outcome.completed, IN_FLIGHT);
  });

  describe('with the Judge0 executor', () => {
    let judge0: Judge0TestServer;

    before(async function () {
      this.timeout(60_000);
      judge0 = await startJudge0TestServer({ authToken: 'fault-token', uidBase: 62600, settings: { maxQueueSize: 1000 } });
    });

    after(async () => {
      await judge0?.close();
    });

    it('executor down for 10 s: requests wait for it instead of failing', async () => {
      const outcome = await run(
        'executor (Judge0) down 10 s',
        async () => {
          await judge0.stop();
          await sleep(OUTAGE_MS);
          await judge0.start();
        },
        { env: { EXECUTOR: 'judge0', JUDGE0_ENDPOINT: judge0.baseUrl, JUDGE0_AUTH_TOKEN: 'fault-token' } },
      );
      assert.equal(outcome.completed, IN_FLIGHT);
    });
  });
});
