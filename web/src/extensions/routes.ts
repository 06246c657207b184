/** Dispatch over the extension route sets; their interfaces live in ../ports.ts. */
import type { ApiRoutes, RouteRequest, RouteResponse } from '../ports';

/** Asks each route set in turn; the first answer wins (undefined: none of them owns the path). */
export async function dispatchRoutes(routes: ApiRoutes[], request: RouteRequest): Promise<RouteResponse | undefined> {
  for (const set of routes) {
    const answer = await set.handle(request);
    if (answer) return answer;
  }
  return undefined;
}
