/**
 * A local server speaking the SSM Parameter Store API, for the boot tests: the real AWS SDK reaches it
 * through AWS_ENDPOINT_URL_SSM. It follows the AWS Systems Manager API Reference
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/):
 *   - the AWS JSON 1.1 protocol: POST /, `X-Amz-Target: AmazonSSM.<Operation>`, content type
 *     `application/x-amz-json-1.1`, errors as HTTP 400 `{"__type": "<Error>", "message": ...}`
 *     (API Reference, "Common Errors"; requests signed with SigV4 for the service "ssm");
 *   - GetParameters (API_GetParameters.html): `{"Names": [1..10 names], "WithDecryption"}` ->
 *     `{"Parameters": [...], "InvalidParameters": [...]}`, parameters listed in alphabetical order,
 *     unknown names under InvalidParameters;
 *   - GetParameter (API_GetParameter.html): `{"Name", "WithDecryption"}` -> `{"Parameter": {...}}`, or
 *     `ParameterNotFound`;
 *   - a Parameter: Name, Type (String | StringList | SecureString), Value, Version, LastModifiedDate
 *     (epoch seconds), ARN, DataType ("text"). A SecureString read without WithDecryption returns the
 *     encrypted value, never the plain text.
 * It also stands in for IAM: a caller may read only the parameters its role's policy names
 * (`AccessDeniedException` otherwise, for the whole call, as AWS answers).
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredParameter {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  value: string;
}

export interface SsmServer {
  /** For AWS_ENDPOINT_URL_SSM. */
  url: string;
  /** Names read, in order, as "Operation name". */
  reads: string[];
  close(): Promise<void>;
}

export interface SsmServerOptions {
  region: string;
  account: string;
  parameters: StoredParameter[];
  /** The names the caller's role may read (its IAM policy); undefined: all. */
  readable?: string[];
}

class SsmError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startSsmServer(opts: SsmServerOptions): Promise<SsmServer> {
  const byName = new Map(opts.parameters.map((p) => [p.name, p]));
  const reads: string[] = [];
  const ciphertext = new Map<string, string>();
  const view = (p: StoredParameter, decrypt: boolean) => {
    if (p.type === 'SecureString' && !decrypt && !ciphertext.has(p.name)) ciphertext.set(p.name, randomBytes(48).toString('base64'));
    return {
      Name: p.name,
      Type: p.type,
      Value: p.type === 'SecureString' && !decrypt ? ciphertext.get(p.name) : p.value,
      Version: 1,
      LastModifiedDate: 1_700_000_000,
      ARN: `arn:aws:ssm:${opts.region}:${opts.account}:parameter${p.name}`,
      DataType: 'text',
    };
  };
  const authorize = (names: string[]) => {
    const denied = names.filter((n) => opts.readable && !opts.readable.includes(n));
    if (denied.length) {
      throw new SsmError('AccessDeniedException', `not authorized to perform ssm:GetParameters on parameter${denied[0]}`);
    }
  };
  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    GetParameters(body) {
      const names = body.Names;
      if (!Array.isArray(names) || names.length < 1 || names.length > 10 || !names.every((n) => typeof n === 'string')) {
        throw new SsmError('ValidationException', "Value at 'names' failed to satisfy constraint: length between 1 and 10");
      }
      authorize(names);
      reads.push(...names.map((n) => `GetParameters ${n}`));
      const found = [...new Set(names)].filter((n) => byName.has(n)).sort();
      return {
        Parameters: found.map((n) => view(byName.get(n)!, body.WithDecryption === true)),
        InvalidParameters: names.filter((n) => !byName.has(n)),
      };
    },
    GetParameter(body) {
      const name = body.Name;
      if (typeof name !== 'string' || !name) throw new SsmError('ValidationException', "Value at 'name' failed to satisfy constraint");
      authorize([name]);
      reads.push(`GetParameter ${name}`);
      const p = byName.get(name);
      if (!p) throw new SsmError('ParameterNotFound', '');
      return { Parameter: view(p, body.WithDecryption === true) };
    },
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        const payload = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'content-length': Buffer.byteLength(payload),
          'x-amzn-requestid': randomBytes(8).toString('hex'),
        });
        res.end(payload);
      };
      try {
        if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/ssm\/aws4_request/.test(String(req.headers.authorization))) {
          throw new SsmError('MissingAuthenticationTokenException', 'Missing Authentication Token');
        }
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.startsWith('AmazonSSM.') ? operations[target.slice('AmazonSSM.'.length)] : undefined;
        if (req.method !== 'POST' || !operation) throw new SsmError('UnknownOperationException', `unsupported operation ${target}`);
        if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
          throw new SsmError('SerializationException', 'expected application/x-amz-json-1.1');
        }
        answer(200, operation(JSON.parse(raw || '{}') as Record<string, unknown>));
      } catch (error) {
        if (error instanceof SsmError) answer(400, { __type: error.type, message: error.message });
        else answer(400, { __type: 'SerializationException', message: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reads,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
