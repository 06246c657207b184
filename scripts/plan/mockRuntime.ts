/**
 * Pulumi mocks that stand in for AWS: record every resource with its inputs and its parent, answer
 * the invokes the components make, and return the outputs providers would (ids, ARNs, endpoints).
 * Used by the offline plan (scripts/plan.ts) and the component tests. setMocks is process-global:
 * call `useMocks` before building the program, then read `recorded`.
 */
import * as pulumi from '@pulumi/pulumi';

export const PROJECT = 'grading-stack';
export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface RecordedResource {
  type: string;
  name: string;
  /** Inputs with secret wrappers removed. */
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Dotted paths of inputs that arrived as secrets (encrypted in state). */
  secretPaths: string[];
  id: string;
  /** "type::name" of the parent resource (components), when there is one. */
  parent?: string;
  /** Resource options that change what `pulumi up` does (mocks never see them otherwise). */
  options?: { ignoreChanges?: string[]; protect?: boolean; deleteBeforeReplace?: boolean; dependsOn?: string[] };
}

// Mocks do not see parents, so registration is observed one level up: the SDK calls
// runtime/resource.registerResource(res, parent, type, name, ...) for every resource.
const parents = new Map<string, string>();
const options = new Map<string, NonNullable<RecordedResource['options']>>();
let parentTrackingInstalled = false;
function trackParents(): void {
  if (parentTrackingInstalled) return;
  parentTrackingInstalled = true;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const runtimeResource = require('@pulumi/pulumi/runtime/resource') as any;
  const original = runtimeResource.registerResource;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  runtimeResource.registerResource = function (res: any, parent: any, t: string, name: string, ...rest: unknown[]) {
    if (parent && parent.__pulumiType && parent.__pulumiType !== 'pulumi:pulumi:Stack')
      parents.set(`${t}::${name}`, `${parent.__pulumiType}::${parent.__name}`);
    // rest: custom, remote, newDependency, props, opts, ...
    const opts = (rest[4] ?? {}) as NonNullable<RecordedResource['options']> & { dependsOn?: unknown };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const dependsOn = [opts.dependsOn ?? []].flat().map((d: any) => `${d?.__pulumiType}::${d?.__name}`);
    options.set(`${t}::${name}`, {
      ignoreChanges: opts.ignoreChanges,
      protect: opts.protect,
      deleteBeforeReplace: opts.deleteBeforeReplace,
      dependsOn,
    });
    return original.call(this, res, parent, t, name, ...rest);
  };
}

// How the Pulumi runtime marks a secret value when it hands inputs to mocks.
const SPECIAL_SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** Removes secret wrappers, noting where they were. */
export function unwrapSecrets(value: unknown, path = '', found: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, found));
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj[SPECIAL_SIG_KEY] === SECRET_SIG) {
      found.push(path);
      return unwrapSecrets(obj.value, path, found);
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, found)]));
  }
  return value;
}

export const recorded: RecordedResource[] = [];

/** Values the random provider "generates" under mocks, so tests can look for leaks. */
export const generatedSecret = (name: string) => `GENERATED-${name}-s3cr3t!`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  switch (type) {
    case 'awsx:ec2:Vpc':
      return {
        vpcId: 'vpc-0123',
        publicSubnetIds: ['subnet-pub-a', 'subnet-pub-b'],
        privateSubnetIds: ['subnet-priv-a', 'subnet-priv-b'],
      };
    case 'aws:s3/bucket:Bucket': {
      // A prefix gets a unique suffix, as S3 (through the provider) does.
      const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? 'terraform-'}20261123000000000000000001`;
      return { bucket, arn: `arn:aws:s3:::${bucket}` };
    }
    case 'aws:mq/broker:Broker': {
      const count = inputs.deploymentMode === 'ACTIVE_STANDBY_MULTI_AZ' ? 2 : 1;
      return {
        arn: `arn:aws:mq:${REGION}:${ACCOUNT}:broker:${inputs.brokerName}:b-1234`,
        instances: Array.from({ length: count }, (_, i) => ({
          endpoints: [
            `ssl://b-1234-${i + 1}.mq.${REGION}.amazonaws.com:61617`,
            `stomp+ssl://b-1234-${i + 1}.mq.${REGION}.amazonaws.com:61614`,
          ],
        })),
      };
    }
    case 'aws:mq/configuration:Configuration':
      return { latestRevision: 1, arn: `arn:aws:mq:${REGION}:${ACCOUNT}:configuration:c-1` };
    case 'aws:rds/instance:Instance':
      return {
        address: `${inputs.identifier}.abc.${REGION}.rds.amazonaws.com`,
        port: 3306,
        arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${inputs.identifier}`,
      };
    case 'random:index/randomPassword:RandomPassword':
      return { result: generatedSecret(name) };
    case 'docker-build:index:Image': {
      const digest = `sha256:${'0'.repeat(64)}`;
      return {
        ref: `${String(inputs.tags?.[0] ?? 'image')
          .split(':')
          .slice(0, -1)
          .join(':')}@${digest}`,
        digest,
      };
    }
    case 'aws:ecr/repository:Repository':
      return {
        repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${inputs.name}`,
        arn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${inputs.name}`,
        registryId: ACCOUNT,
      };
    case 'aws:lb/loadBalancer:LoadBalancer':
      return {
        dnsName: `${inputs.name}-123.${REGION}.elb.amazonaws.com`,
        arnSuffix: `app/${inputs.name}/123`,
        arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/${inputs.name}/123`,
      };
    case 'aws:lb/targetGroup:TargetGroup':
      return {
        arnSuffix: `targetgroup/${inputs.name}/456`,
        arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${inputs.name}/456`,
      };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      return { latestVersion: 3 };
    case 'aws:ec2/instance:Instance':
      return { privateIp: '10.0.100.10' };
    case 'aws:ssm/parameter:Parameter':
      return { arn: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${inputs.name}` };
    default:
      return { arn: `arn:aws:mock:${REGION}:${ACCOUNT}:${type.split(':').pop()}/${name}` };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function callResult(token: string, args: Record<string, any>): Record<string, any> {
  switch (token) {
    case 'aws:index/getRegion:getRegion':
      return { region: REGION, name: REGION, id: REGION };
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: 'test' };
    case 'aws:index/getPartition:getPartition':
      return { partition: 'aws', dnsSuffix: 'amazonaws.com' };
    case 'aws:ec2/getRouteTables:getRouteTables':
      return { ids: ['rtb-priv-a', 'rtb-priv-b'], vpcId: args.vpcId };
    case 'aws:kms/getAlias:getAlias':
      return {
        arn: `arn:aws:kms:${REGION}:${ACCOUNT}:${args.name}`,
        targetKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/ssm-default`,
        targetKeyId: 'ssm-default',
      };
    case 'aws:ecr/getAuthorizationToken:getAuthorizationToken':
      return { userName: 'AWS', password: 'mock-registry-password', authorizationToken: 'mock' };
    case 'aws:ssm/getParameter:getParameter':
      return { value: 'ami-0al2023', name: args.name };
    case 'aws:elb/getServiceAccount:getServiceAccount':
      return { arn: 'arn:aws:iam::127311923021:root', id: '127311923021' };
    case 'aws:ec2/getAmi:getAmi':
      return { id: 'ami-0123456789abcdef0', imageId: 'ami-0123456789abcdef0' };
    default:
      return {};
  }
}

/**
 * Installs the mocks with the given `grading:` config (keys without namespace; other namespaces
 * with "ns:key"). Clears what earlier tests recorded.
 */
export async function useMocks(config: Record<string, unknown> = {}, opts: { stack?: string; secretKeys?: string[] } = {}): Promise<void> {
  recorded.length = 0;
  parents.clear();
  options.clear();
  trackParents();
  const all: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    all[key.includes(':') ? key : `${PROJECT}:${key}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  // Our code reads the `grading` namespace; keys given without one land in both. A key a stack file
  // puts in the project namespace stays there, as Pulumi would leave it (the config check reports it).
  for (const key of Object.keys(config)) if (!key.includes(':')) all[`grading:${key}`] = all[`${PROJECT}:${key}`];
  pulumi.runtime.setAllConfig(
    all,
    (opts.secretKeys ?? []).map((k) => `grading:${k}`),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = args.type === 'aws:ec2/securityGroup:SecurityGroup' ? `sg-${args.name}` : `${args.name}-id`;
        const secretPaths: string[] = [];
        const inputs = unwrapSecrets(args.inputs, '', secretPaths) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        const key = `${args.type}::${args.name}`;
        recorded.push({
          type: args.type,
          name: args.name,
          inputs,
          secretPaths,
          id,
          parent: parents.get(key),
          options: options.get(key) ?? {},
        });
        return { id, state: { ...args.inputs, ...outputsFor(args.type, args.name, inputs) } };
      },
      call(args) {
        return callResult(args.token, args.inputs);
      },
    },
    PROJECT,
    opts.stack ?? 'test',
    false,
  );
}

export function promiseOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Waits until no new resource has been registered for a few turns of the event loop. */
export async function settled(): Promise<void> {
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await new Promise((r) => setTimeout(r, 20));
    if (recorded.length === last) stable++;
    else {
      stable = 0;
      last = recorded.length;
    }
  }
}

export function ofType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

export function one(type: string, nameIncludes = ''): RecordedResource {
  const found = ofType(type).filter((r) => r.name.includes(nameIncludes));
  if (found.length !== 1)
    throw new Error(
      `expected one ${type}${nameIncludes ? ` named *${nameIncludes}*` : ''}, found ${found.map((r) => r.name).join(', ') || 'none'}`,
    );
  return found[0];
}
