/**
 * Builds the extension routes and the paste-signal recorder from the gateway's database pool:
 * GitHub linking (needs SOLUTIONS_TOKEN_KEY, the same key the accepted-solutions process opens
 * tokens with; without it POST /api/github/link answers 503) and the staff signal views.
 */
import type { Pool } from 'mysql2/promise';
import { MysqlSimilarityStore } from '../../../core/src/similarity/store';
import { LocalEnvelopeEncryptor } from '../../../core/src/solutions/crypto';
import { MysqlSolutionStore } from '../../../core/src/solutions/store';
import { GitHubLinkRoutes } from './githubLink';
import type { ApiRoutes } from '../ports';
import { StaffSignalRoutes } from './staffSignals';

export interface GatewayExtensions {
  routes: ApiRoutes[];
  signals: { save: MysqlSimilarityStore['saveSignals'] };
}

export async function createGatewayExtensions(pool: Pool, env: Record<string, string | undefined>): Promise<GatewayExtensions> {
  // The deploy-time migration made these tables; the gateway checked the schema version before this.
  const [solutions, similarity] = await Promise.all([MysqlSolutionStore.create(pool), MysqlSimilarityStore.create(pool)]);
  const encryptor = env.SOLUTIONS_TOKEN_KEY
    ? new LocalEnvelopeEncryptor(env.SOLUTIONS_TOKEN_KEY, env.SOLUTIONS_TOKEN_KEY_ID ?? 'v1')
    : undefined;
  return {
    routes: [new GitHubLinkRoutes({ store: solutions, encryptor }), new StaffSignalRoutes({ store: similarity })],
    signals: { save: (record) => similarity.saveSignals(record) },
  };
}
