/**
 * A local server speaking the part of the SSM API the stack's tools use: GetParameters (AWS Systems
 * Manager API Reference, "GetParameters": JSON 1.1 protocol, POST / with
 * `X-Amz-Target: AmazonSSM.GetParameters`, body {Names, WithDecryption}, answer {Parameters:
 * [{Name, Type, Value, Version, ARN}], InvalidParameters: [names not found]}). SecureString values
 * come back decrypted only with WithDecryption true, as in SSM. Point the SDK at it with
 * AWS_ENDPOINT_URL_SSM.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SsmParameter {
  value: string;
  secure?: boolean;
}

export interface SsmServer {
  url: string;
  /** Names asked for, in order. */
  asked: string[];
  close(): Promise<void>;
}

export async function startSsmServer(parameters: Record<string, SsmParameter>): Promise<SsmServer> {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameters') return send(400, { __type: 'UnknownOperationException' });
      const { Names = [], WithDecryption = false } = JSON.parse(raw || '{}') as { Names?: string[]; WithDecryption?: boolean };
      asked.push(...Names);
      const found = Names.filter((name) => name in parameters);
      send(200, {
        Parameters: found.map((name) => {
          const p = parameters[name];
          return {
            Name: name,
            Type: p.secure ? 'SecureString' : 'String',
            Value: p.secure && !WithDecryption ? 'AQICAH-encrypted' : p.value,
            Version: 1,
            ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`,
          };
        }),
        InvalidParameters: Names.filter((name) => !(name in parameters)),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
