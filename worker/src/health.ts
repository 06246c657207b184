/**
 * The worker's health endpoints.
 *   GET /health/live   200 while the process serves: what the ECS container health check should
 *                      probe, so a broker blip or failover (the session reconnects by itself) does
 *                      not make ECS replace every task at once.
 *   GET /health/ready  200 when the broker is connected, else 503; /health answers the same.
 * Both carry the same details (broker state, in-flight work, counters).
 */
import * as http from 'node:http';

export interface HealthSource {
  brokerConnected(): boolean;
  details(): Record<string, unknown>;
}

export function startHealthServer(port: number, source: HealthSource): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const route = { '/health/live': 'live', '/health/ready': 'ready', '/health': 'ready' }[path];
    if (req.method !== 'GET' || !route) {
      res.writeHead(404).end();
      return;
    }
    const connected = source.brokerConnected();
    const ok = route === 'live' || connected;
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    const broker = connected ? 'connected' : 'disconnected';
    res.end(JSON.stringify({ status: connected ? 'ok' : 'degraded', broker, ...source.details() }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
