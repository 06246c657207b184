/**
 * Gateway entry point (`tsx web/src/main.ts`, or `node dist/web/src/main.js`): config from env,
 * connect S3 / broker / database, follow the progress topic, serve HTTP. SIGTERM or SIGINT: stop
 * accepting, end open event streams (browsers reconnect to another instance), disconnect.
 */
import { gatewayConfigFromEnv } from './config';
import { createLogger } from '../../worker/src/log';
import { Gateway } from './server';
import { connectGradingClient, gatewayHealth } from './wiring';

async function main(): Promise<void> {
  const config = await gatewayConfigFromEnv();
  const log = createLogger({ service: 'grading-gateway', environment: config.environment });
  const client = await connectGradingClient(config, log);
  client.followProgress();
  const gateway = new Gateway(
    { submissions: client, problems: client.problems, health: gatewayHealth(client), log },
    {
      maxSourceBytes: config.maxSourceBytes,
      userRateLimit: config.userRateLimit,
      debounceWindowMs: config.debounceWindowMs,
      heartbeatMs: config.heartbeatMs,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
    },
  );
  const address = await gateway.listen(config.port, config.host);
  log('info', 'gateway listening', { url: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${address.port}`, environment: config.environment });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', 'gateway stopping', { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await gateway.close().catch(() => undefined);
    await client.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  console.error(`gateway failed to start: ${(error as Error).message}`);
  process.exit(1);
});
