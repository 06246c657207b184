/**
 * Closed -> open after `failureThreshold` consecutive failures; open rejects at once for
 * `coolDownMs`; then half-open lets one call through, whose outcome closes or reopens it.
 * A dead Judge0 then costs one quick rejection per request instead of a burned message.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  state: BreakerState = 'closed';

  constructor(
    private readonly failureThreshold = 5,
    private readonly coolDownMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** ms until a call may be tried again; 0 when a call may go now (and claims the half-open trial). */
  acquire(): number {
    if (this.state === 'open') {
      const left = this.openedAt + this.coolDownMs - this.now();
      if (left > 0) return left;
      this.state = 'half-open';
    }
    if (this.state === 'half-open') {
      if (this.trialInFlight) return Math.max(1, this.coolDownMs / 10);
      this.trialInFlight = true;
    }
    return 0;
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    this.state = 'closed';
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.state === 'half-open' || this.failures >= this.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.now();
    }
  }
}
