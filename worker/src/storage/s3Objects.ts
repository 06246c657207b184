/**
 * GET and PUT of one object without the SDK's command pipeline: the worker's per-message S3 calls
 * (the source, current.json, result.json, execution.log) cost a fraction of the CPU of a command
 * sent through S3Client, whose middleware stack and schema serialisation were the largest share of
 * the worker's time per message. Requests are still signed by the client's own SigV4 signer (its
 * credentials: the task role) and sent through the client's own HTTP handler (agent, TLS,
 * keep-alive). Anything else (listing, conditional reads) stays on S3Client, and so does everything
 * when the client is set up for FIPS, dual-stack or accelerate endpoints.
 */
import type { S3Client } from '@aws-sdk/client-s3';

/** What S3 answered with an error status: `name` is S3's error code (NoSuchKey, SlowDown, ...), as the SDK names its errors. */
export class S3CallError extends Error {
  readonly $metadata: { httpStatusCode: number };

  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

/** The object is larger than the caller accepts (nothing more of it was read). */
export class ObjectTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectTooLargeError';
  }
}

interface Endpoint {
  protocol: string;
  hostname: string;
  port?: number;
  /** Path prefix before the key ('/' + bucket + '/' for path-style addressing). */
  prefix: string;
}

interface SdkRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string | Buffer;
}

interface SdkResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: AsyncIterable<Buffer | string>;
}

/** The client's config as far as these calls use it (an S3Client's resolved config has all of it). */
interface ClientConfig {
  region: () => Promise<string>;
  endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path?: string }>;
  isCustomEndpoint?: boolean;
  forcePathStyle?: boolean;
  useFipsEndpoint?: () => Promise<boolean>;
  useDualstackEndpoint?: () => Promise<boolean>;
  useAccelerateEndpoint?: boolean;
  signer: () => Promise<{ sign(request: SdkRequest, options: { signingRegion: string; signingService: string }): Promise<SdkRequest> }>;
  requestHandler: { handle(request: SdkRequest): Promise<{ response: SdkResponse }> };
}

/** encodeURIComponent plus !'()*, segment by segment: the S3 key encoding SigV4 signs. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export class S3ObjectCalls {
  private endpoint?: Promise<Endpoint | undefined>;
  /**
   * The client's config.signer() builds a new signer (a copy of the whole config) on every call:
   * one is kept. It asks the client's credential provider on every signature, so rotated task-role
   * credentials are still picked up.
   */
  private signer?: ReturnType<ClientConfig['signer']>;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** Undefined when this client's set-up needs the SDK's endpoint rules (the caller then uses S3Client). */
  available(): Promise<Endpoint | undefined> {
    this.endpoint ??= this.resolveEndpoint();
    return this.endpoint;
  }

  /** The object's body as text; S3CallError on an error status (NoSuchKey for a missing object), ObjectTooLargeError past `maxBytes`. */
  async get(key: string, maxBytes = Infinity): Promise<string> {
    const response = await this.send('GET', key);
    const length = Number(response.headers['content-length'] ?? NaN);
    if (length > maxBytes) {
      destroy(response.body);
      throw new ObjectTooLargeError(`s3://${this.bucket}/${key} is larger than ${maxBytes} bytes`);
    }
    return (await readAll(response.body, maxBytes, `s3://${this.bucket}/${key}`)).toString('utf8');
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    const response = await this.send('PUT', key, Buffer.from(body, 'utf8'), contentType);
    await discard(response.body);
  }

  private async send(method: 'GET' | 'PUT', key: string, body?: Buffer, contentType?: string): Promise<SdkResponse> {
    const endpoint = await this.available();
    if (!endpoint) throw new Error('S3ObjectCalls used with a client that needs the SDK endpoint rules');
    const config = this.client.config as unknown as ClientConfig;
    const headers: Record<string, string> = { host: endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname };
    if (body) {
      headers['content-length'] = String(body.length);
      if (contentType) headers['content-type'] = contentType;
    }
    const request: SdkRequest = {
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port,
      method,
      path: endpoint.prefix + encodeKey(key),
      query: {},
      headers,
      body,
    };
    const region = await config.region();
    // A keep-alive socket the server closed in the meantime fails at once: one immediate second try.
    for (let attempt = 1; ; attempt++) {
      try {
        this.signer ??= config.signer().catch((error: unknown) => {
          this.signer = undefined;
          throw error;
        });
        const signer = await this.signer;
        const signed = await signer.sign({ ...request, headers: { ...headers } }, { signingRegion: region, signingService: 's3' });
        const { response } = await config.requestHandler.handle(signed);
        if (response.statusCode >= 300) {
          const text = (await readAll(response.body, 64 * 1024, 'error body').catch(() => Buffer.alloc(0))).toString('utf8');
          const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? (response.statusCode === 404 ? 'NotFound' : `Http${response.statusCode}`);
          const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
          throw new S3CallError(
            code,
            response.statusCode,
            `S3 ${method} s3://${this.bucket}/${key}: ${response.statusCode} ${code}${message ? `: ${message}` : ''}`,
          );
        }
        return response;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= 2 || !(code === 'ECONNRESET' || code === 'EPIPE')) throw error;
      }
    }
  }

  private async resolveEndpoint(): Promise<Endpoint | undefined> {
    const config = this.client.config as unknown as ClientConfig;
    if (typeof config.signer !== 'function' || typeof config.requestHandler?.handle !== 'function') return undefined;
    if (config.useAccelerateEndpoint || (await config.useFipsEndpoint?.()) || (await config.useDualstackEndpoint?.())) return undefined;
    // Endpoints configured outside the client (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, a profile's endpoint_url) are
    // resolved by the SDK's own rules and are not visible as a custom endpoint here: leave those set-ups to the SDK.
    if (!config.isCustomEndpoint && (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || process.env.AWS_PROFILE)) {
      return undefined;
    }
    // Dots in a bucket name break the virtual-hosted certificate (*.s3.amazonaws.com): path style, as the SDK does.
    const pathStyle = config.forcePathStyle === true || this.bucket.includes('.');
    if (config.isCustomEndpoint && config.endpoint) {
      const custom = await config.endpoint();
      const base = (custom.path ?? '/').replace(/\/+$/, '');
      if (pathStyle) return { protocol: custom.protocol, hostname: custom.hostname, port: custom.port, prefix: `${base}/${this.bucket}/` };
      return { protocol: custom.protocol, hostname: `${this.bucket}.${custom.hostname}`, port: custom.port, prefix: `${base}/` };
    }
    const region = await config.region();
    // Other partitions (China, ISO) have other domains: the SDK's endpoint rules know them.
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region) || region.startsWith('cn-') || region.includes('-iso')) return undefined;
    const host = `s3.${region}.amazonaws.com`;
    if (pathStyle) return { protocol: 'https:', hostname: host, prefix: `/${this.bucket}/` };
    return { protocol: 'https:', hostname: `${this.bucket}.${host}`, prefix: '/' };
  }
}

async function readAll(body: AsyncIterable<Buffer | string>, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > maxBytes) {
      destroy(body);
      throw new ObjectTooLargeError(`${what} is larger than ${maxBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** A body not read to its end: its socket cannot be reused. */
function destroy(body: unknown): void {
  (body as { destroy?: () => void }).destroy?.();
}

async function discard(body: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of body) void _;
}
