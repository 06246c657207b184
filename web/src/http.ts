/** Small node:http helpers: JSON replies, bounded JSON bodies, errors that carry their status. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FieldError } from './validation';

/** An error the API answers with its own status and JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...(this.errors ? { errors: this.errors } : {}) };
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** Reads a JSON request body of at most `limitBytes`, with errors a client can act on. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number, timeoutMs = 30_000): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `send the submission as JSON with content-type application/json (got ${type || 'none'})`,
    );
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  // The server has no request timeout (event streams are long-lived), so bound slow bodies here.
  const timer = setTimeout(() => req.destroy(new Error(`request body not received within ${timeoutMs} ms`)), timeoutMs);
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limitBytes) throw tooLarge(limitBytes);
      chunks.push(chunk as Buffer);
    }
  } finally {
    clearTimeout(timer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

function tooLarge(limitBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the request body exceeds ${limitBytes} bytes`, [
    { field: 'sourceCode', message: `makes the request larger than ${limitBytes} bytes` },
  ]);
}
