/**
 * Webhooks in the gateway: checks a submission's `callbackUrl`, and delivers each final result of a
 * submission made through this gateway to its URL (its own, else the site's WEBHOOK_URL). Every
 * instance hears every final event on the progress topic; the claim in webhook_deliveries makes one
 * of them deliver. A periodic sweep delivers what no instance heard (all were down when the final
 * event passed) and takes over deliveries an instance left unfinished when it stopped.
 */
import type { Pool } from 'mysql2/promise';
import type { GradingResult } from '../../../core/src/contracts';
import { hostAllowed, WebhookConfig } from './config';
import { checkCallbackUrl } from './callbackUrl';
import { MysqlWebhookDeliveryStore, WebhookAttempt, WebhookDispatcher } from './dispatcher';
import { CallbackTargets, MysqlCallbackTargets } from './targets';
import { parseProgressMessage } from '../progressItems';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface WebhookServiceDeps {
  config: WebhookConfig;
  dispatcher: WebhookDispatcher;
  targets: CallbackTargets;
  /** The stored result document (the sweep's source; live deliveries use the event's own copy). */
  readResult: (requestId: string) => Promise<GradingResult | undefined>;
  log?: Log;
  /** Deliveries in progress at once per instance (default 32); a slow receiver cannot take every socket. */
  maxConcurrent?: number;
  /** Live deliveries waiting for a slot before new ones are left to the sweep (default 1000). */
  maxQueued?: number;
}

export class WebhookService {
  private readonly log: Log;
  private readonly inFlight = new Set<Promise<unknown>>();
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly deps: WebhookServiceDeps) {
    this.log = deps.log ?? (() => undefined);
  }

  /** Problems with a submission's callbackUrl (each follows the field name); refused outright when webhooks are off. */
  checkCallbackUrl(value: unknown): string[] {
    const { secret, allowPrivate, allowedHosts } = this.deps.config;
    if (!secret) return ['is not accepted: webhooks are not configured on this gateway (no WEBHOOK_SECRET)'];
    const problems = checkCallbackUrl(value, { allowPrivate });
    if (problems.length === 0 && allowedHosts && !hostAllowed(new URL(value as string).hostname, allowedHosts)) {
      problems.push(`must name one of the hosts this site allows (WEBHOOK_ALLOWED_HOSTS: ${allowedHosts.join(', ')})`);
    }
    return problems;
  }

  /** Deliveries in progress and waiting for a slot (for logs and tests). */
  get backlog(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  /** A message from the progress topic: final results are delivered, anything else is ignored. */
  onProgressMessage(body: string): void {
    if (!this.deps.config.secret || this.closed) return;
    const item = parseProgressMessage(body);
    if (item?.kind !== 'final') return;
    if (this.waiting.length >= (this.deps.maxQueued ?? 1000)) {
      // Nothing is claimed yet, so the sweep delivers it once the backlog has drained.
      this.log('warn', 'webhook backlog full; the sweep will deliver this result', { requestId: item.requestId });
      return;
    }
    this.track(this.deliverFinal(item.requestId, item.result));
  }

  /** Delivers one final result if the request has a target; never throws (a failure is logged and left to the sweep). */
  async deliverFinal(requestId: string, result: GradingResult): Promise<WebhookAttempt[]> {
    const secret = this.deps.config.secret;
    if (!secret) return [];
    // A finishing delivery hands its slot straight to the next waiting one, so `active` never exceeds the cap.
    if (this.active >= (this.deps.maxConcurrent ?? 32)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      const target = await this.deps.targets.lookup(requestId);
      const url = target?.callbackUrl ?? (target ? this.deps.config.siteUrl : undefined);
      if (!url) return [];
      const attempts = await this.deps.dispatcher.deliver(requestId, { url, secret }, result);
      const last = attempts.at(-1);
      if (last) {
        const fields = { requestId, attempts: last.attempt, status: last.status, responseCode: last.responseCode, error: last.error };
        this.log(last.status === 'delivered' ? 'info' : 'warn', `webhook ${last.status}`, fields);
      }
      return attempts;
    } catch (error) {
      this.log('warn', 'webhook delivery not finished; the sweep will retry it', { requestId, error: (error as Error).message });
      return [];
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** One pass of the catch-up sweep; returns the request ids it tried. */
  async sweep(limit = 50): Promise<string[]> {
    if (!this.deps.config.secret || this.closed) return [];
    const ids = await this.deps.targets.missed({
      siteWide: Boolean(this.deps.config.siteUrl),
      leaseMs: this.deps.dispatcher.leaseMs,
      sinceHours: 24,
      limit,
    });
    for (const requestId of ids) {
      if (this.closed) break;
      const result = await this.deps.readResult(requestId);
      if (result) await this.deliverFinal(requestId, result);
    }
    return ids;
  }

  /** Sweeps every `intervalMs` (jittered, so instances spread out) until close(). */
  startSweeping(intervalMs: number): void {
    if (!this.deps.config.secret || this.sweepTimer) return;
    const next = () => {
      this.sweepTimer = setTimeout(
        () => {
          const pass = this.sweep().catch((error: Error) => this.log('warn', 'webhook sweep failed', { error: error.message }));
          this.track(pass.finally(() => !this.closed && next()));
        },
        intervalMs * (0.75 + Math.random() / 2),
      );
      this.sweepTimer.unref();
    };
    next();
  }

  /** Stops sweeping and waiting between retries, then waits for attempts in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.sweepTimer);
    this.deps.dispatcher.close();
    await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

/** The gateway's webhook service on its database pool (the tables of the deploy-time migration). */
export function createWebhookService(
  config: WebhookConfig,
  pool: Pool,
  readResult: WebhookServiceDeps['readResult'],
  log?: Log,
): WebhookService {
  const dispatcher = new WebhookDispatcher({
    store: new MysqlWebhookDeliveryStore(pool),
    allowPrivate: config.allowPrivate,
    maxAttempts: config.maxAttempts,
    baseDelayMs: config.baseDelayMs,
    timeoutMs: config.timeoutMs,
    ca: config.ca,
  });
  return new WebhookService({ config, dispatcher, targets: new MysqlCallbackTargets(pool), readResult, log });
}
