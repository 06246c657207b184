// Loaded before every suite (see .mocharc.js). Starts nothing itself: integration tests ask
// tests/helpers/services.ts for the services they need; this root hook stops them at the end.
import { stopAllServices } from './helpers/services';

process.env.GRADING_LOG_LEVEL ??= 'silent';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await stopAllServices();
  },
};
