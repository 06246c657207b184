/**
 * Gateway entry point (`tsx web/src/main.ts`, or `node dist/web/src/main.js`): config from env
 * (and SSM), connect S3 / broker / database, follow the progress topic, serve HTTP. SIGTERM or
 * SIGINT: stop accepting, end open event streams (browsers reconnect to another instance), disconnect.
 */
import { createLogger } from '../../core/src/log';
import { gatewayConfigFromEnv } from './config';
import { startGateway } from './wiring';

async function main(): Promise<void> {
  const config = await gatewayConfigFromEnv();
  const log = createLogger({ service: 'grading-gateway', environment: config.environment });
  const running = await startGateway(config, log);
  log('info', 'gateway listening', { url: running.url, environment: config.environment });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'gateway stopping', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await running.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'gateway failed to start', error: (error as Error).message })}\n`,
  );
  process.exit(1);
});
