/** Builds the runs service and its routes from the gateway's pool and broker session, and follows the progress topic. */
import type { Pool } from 'mysql2/promise';
import type { ProblemSource } from '../ports';
import { RunRoutes } from './routes';
import { RunService, RunServiceDeps, RunSettings } from './service';
import { MysqlRunStore } from './store';

export function createRuns(parts: {
  pool: Pool;
  broker: RunServiceDeps['broker'];
  problems: ProblemSource;
  bucket: string;
  destinations: { requests: string; progress: string };
  maxSourceBytes: number;
  settings: RunSettings;
  log?: RunServiceDeps['log'];
}): { service: RunService; routes: RunRoutes } {
  const service = new RunService({
    store: new MysqlRunStore(parts.pool),
    broker: parts.broker,
    problems: parts.problems,
    bucket: parts.bucket,
    destinations: parts.destinations,
    maxSourceBytes: parts.maxSourceBytes,
    settings: parts.settings,
    log: parts.log,
  });
  service.follow();
  return { service, routes: new RunRoutes(service) };
}
