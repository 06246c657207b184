/**
 * Self-contained API routes the gateway mounts beside its own: each takes the already
 * authenticated principal (from the gateway's authentication, never from the body) and a way to read
 * the JSON body, and answers a status and a JSON body, or `undefined` when the path is not its own.
 */
export interface Principal {
  userId: string;
  /** Staff may read paste signals and similarity. */
  staff: boolean;
}

export interface RouteRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  /** The authenticated caller; undefined when the request carries no valid credentials. */
  principal?: Principal;
  readBody(limitBytes: number): Promise<unknown>;
  /** The client's address as the gateway sees it (X-Forwarded-For behind a trusted proxy), for per-address budgets. */
  clientAddress?: string;
}

export interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiRoutes {
  handle(request: RouteRequest): Promise<RouteResponse | undefined>;
}

/** Asks each route set in turn; the first answer wins (undefined: none of them owns the path). */
export async function dispatchRoutes(routes: ApiRoutes[], request: RouteRequest): Promise<RouteResponse | undefined> {
  for (const set of routes) {
    const answer = await set.handle(request);
    if (answer) return answer;
  }
  return undefined;
}
