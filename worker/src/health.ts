/** GET /health for the ECS container health check and the load balancer: 200 when the broker is connected. */
import * as http from 'node:http';

export interface HealthSource {
  brokerConnected(): boolean;
  details(): Record<string, unknown>;
}

export function startHealthServer(port: number, source: HealthSource): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/health') {
      res.writeHead(404).end();
      return;
    }
    const ok = source.brokerConnected();
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: ok ? 'ok' : 'degraded', broker: ok ? 'connected' : 'disconnected', ...source.details() }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
