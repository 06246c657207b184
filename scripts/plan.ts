/**
 * Offline plan: `npm run plan -- --stack production`.
 *
 * Runs the Pulumi program (index.ts) under mocks with Pulumi.<stack>.yaml (no CLI, no AWS), prints
 * the resource tree with the properties that matter, runs the CrossGuard policies over it, and
 * writes the architecture diagram (Mermaid + SVG) to docs/ only for the production stack or with
 * `--write` (the tracked files describe production). Exits 1 on a mandatory violation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { RESOURCE_POLICIES, STACK_POLICIES } from '../policies/rules';
import { RecordedResource, recorded, settled, useMocks } from './plan/mockRuntime';

const ROOT = path.join(__dirname, '..');

export interface Violation {
  policy: string;
  enforcement: string;
  resource: string;
  message: string;
}

export interface Plan {
  stack: string;
  resources: RecordedResource[];
  violations: Violation[];
  tree: string;
  mermaid: string;
  svg: string;
}

export function readStackConfig(stack: string, root = ROOT): Record<string, unknown> {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${file}`);
  const config = (parse(fs.readFileSync(file, 'utf8'))?.config ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.startsWith('grading:') ? k.slice('grading:'.length) : k, v]));
}

/** Builds the program under mocks with `config` and checks it. */
export async function plan(stack: string, config: Record<string, unknown>): Promise<Plan> {
  // `secure:` values of the stack file are ciphertext: plan with a placeholder held as a secret.
  const secretKeys = Object.keys(config).filter(
    (k) => typeof config[k] === 'object' && config[k] !== null && 'secure' in (config[k] as object),
  );
  const planned = { ...config, ...Object.fromEntries(secretKeys.map((k) => [k, 'plan-placeholder-secret'])) };
  await useMocks(planned, { stack, secretKeys });
  const entry = require.resolve('../index');
  delete require.cache[entry];
  require(entry);
  await settled();
  const resources = [...recorded];
  const environmentName = String(config.environmentName ?? stack);
  const violations = checkPolicies(resources, environmentName);
  const graph = componentGraph(resources);
  return { stack, resources, violations, tree: renderTree(resources), mermaid: renderMermaid(graph), svg: renderSvg(graph) };
}

export function checkPolicies(resources: RecordedResource[], environmentName: string): Violation[] {
  const violations: Violation[] = [];
  const urnOf = (r: RecordedResource) => `urn:pulumi:plan::grading-stack::${r.type}::${r.name}`;
  const getConfig = () => ({ environmentName }) as never;
  for (const policy of RESOURCE_POLICIES as ResourceValidationPolicy[]) {
    const validate = policy.validateResource as (args: unknown, report: (m: string) => void) => void;
    for (const r of resources) {
      validate(
        {
          type: r.type,
          props: { ...r.inputs, id: r.id },
          urn: urnOf(r),
          name: r.name,
          opts: {},
          stackTags: new Map(),
          isType: () => false,
          asType: () => undefined,
          getConfig,
        },
        (message) =>
          violations.push({
            policy: policy.name,
            enforcement: policy.enforcementLevel ?? 'advisory',
            resource: `${r.type} ${r.name}`,
            message,
          }),
      );
    }
  }
  for (const policy of STACK_POLICIES as StackValidationPolicy[]) {
    const stackResources = resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: urnOf(r),
      props: { ...r.inputs, id: r.id },
      opts: {},
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    }));
    policy.validateStack({ resources: stackResources, getConfig } as never, (message: string, urn?: string) =>
      violations.push({
        policy: policy.name,
        enforcement: policy.enforcementLevel ?? 'advisory',
        resource: urn?.split('::').slice(-2).join(' ') ?? '(stack)',
        message,
      }),
    );
  }
  return violations;
}

/** One line per resource, nested under its component, with the properties an operator checks. */
export function renderTree(resources: RecordedResource[]): string {
  const key = (r: RecordedResource) => `${r.type}::${r.name}`;
  const children = new Map<string, RecordedResource[]>();
  for (const r of resources) {
    const p = r.parent ?? '';
    children.set(p, [...(children.get(p) ?? []), r]);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const facts = keyFacts(r);
      lines.push(`${'  '.repeat(depth)}${r.type.startsWith('grading:') ? '■' : '-'} ${r.type} ${r.name}${facts ? `  [${facts}]` : ''}`);
      walk(key(r), depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}

function keyFacts(r: RecordedResource): string {
  const i = r.inputs;
  const facts: Array<[string, unknown]> = [];
  switch (r.type) {
    case 'aws:mq/broker:Broker':
      facts.push(
        ['engine', `${i.engineType} ${i.engineVersion}`],
        ['instance', i.hostInstanceType],
        ['mode', i.deploymentMode],
        ['public', i.publiclyAccessible],
      );
      break;
    case 'aws:rds/instance:Instance':
      facts.push(
        ['class', i.instanceClass],
        ['storage', `${i.allocatedStorage}..${i.maxAllocatedStorage} GiB`],
        ['multiAz', i.multiAz],
        ['backups', `${i.backupRetentionPeriod} d`],
        ['deletionProtection', i.deletionProtection],
      );
      break;
    case 'aws:ecs/taskDefinition:TaskDefinition':
      facts.push(['cpu', i.cpu], ['memory', i.memory]);
      break;
    case 'aws:ecs/service:Service':
      facts.push(['desired', i.desiredCount], ['publicIp', i.networkConfiguration?.assignPublicIp]);
      break;
    case 'aws:appautoscaling/target:Target':
      facts.push(['min', i.minCapacity], ['max', i.maxCapacity]);
      break;
    case 'aws:appautoscaling/policy:Policy': {
      const c = i.targetTrackingScalingPolicyConfiguration;
      facts.push(
        ['target', c?.targetValue],
        [
          'metric',
          c?.predefinedMetricSpecification?.predefinedMetricType ??
            c?.customizedMetricSpecification?.metrics?.find((m: { returnData: boolean }) => m.returnData)?.expression,
        ],
      );
      break;
    }
    case 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule':
    case 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule':
      facts.push(
        ['port', i.fromPort === i.toPort ? i.fromPort : `${i.fromPort}-${i.toPort}`],
        ['peer', i.referencedSecurityGroupId ?? i.cidrIpv4 ?? i.cidrIpv6],
      );
      break;
    case 'aws:ec2/instance:Instance':
      facts.push(['type', i.instanceType], ['imds', i.metadataOptions?.httpTokens], ['encryptedRoot', i.rootBlockDevice?.encrypted]);
      break;
    case 'aws:autoscaling/group:Group':
      facts.push(['min', i.minSize], ['max', i.maxSize], ['desired', i.desiredCapacity]);
      facts.push(['template', i.launchTemplate?.version], ['refresh', i.instanceRefresh?.strategy]);
      break;
    case 'aws:lb/loadBalancer:LoadBalancer':
      facts.push(['type', i.loadBalancerType], ['internal', i.internal]);
      facts.push(['dropInvalidHeaders', i.dropInvalidHeaderFields], ['accessLogs', i.accessLogs?.enabled]);
      break;
    case 'aws:rds/parameterGroup:ParameterGroup':
      facts.push(['family', i.family], ['tls', i.parameters?.find((p: { name: string }) => p.name === 'require_secure_transport')?.value]);
      break;
    case 'aws:ecr/repository:Repository':
      facts.push(['tags', i.imageTagMutability]);
      break;
    case 'aws:cloudwatch/logGroup:LogGroup':
      facts.push(['name', i.name], ['retention', i.retentionInDays]);
      break;
    case 'aws:lb/listener:Listener':
      facts.push(['port', i.port], ['protocol', i.protocol], ['action', i.defaultActions?.[0]?.type]);
      break;
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      facts.push(
        ['metric', `${i.namespace} ${i.metricName}`],
        ['threshold', `${i.comparisonOperator} ${i.threshold}`],
        ['actions', i.alarmActions?.length],
      );
      break;
    case 'aws:ssm/parameter:Parameter':
      facts.push(['name', i.name], ['type', i.type]);
      break;
    case 'aws:s3/bucket:Bucket':
      facts.push(['bucket', i.bucket], ['prefix', i.bucketPrefix]);
      break;
    case 'awsx:ec2:Vpc':
      facts.push(['cidr', i.cidrBlock], ['azs', i.numberOfAvailabilityZones], ['nat', i.natGateways?.strategy]);
      break;
  }
  return facts
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

interface Graph {
  nodes: Array<{ id: string; label: string; detail: string }>;
  edges: Array<{ from: string; to: string; label: string }>;
}

/** The components as boxes and what talks to what (from the security group rules and wiring). */
export function componentGraph(resources: RecordedResource[]): Graph {
  const has = (type: string) => resources.some((r) => r.type === `grading:index:${type}`);
  const count = (type: string) => resources.filter((r) => r.type === type).length;
  const broker = resources.find((r) => r.type === 'aws:mq/broker:Broker')?.inputs;
  const rds = resources.find((r) => r.type === 'aws:rds/instance:Instance')?.inputs;
  const target = resources.find((r) => r.type === 'aws:appautoscaling/target:Target')?.inputs;
  const asg = resources.find((r) => r.type === 'aws:autoscaling/group:Group')?.inputs;
  const nodes = [
    { id: 'users', label: 'Users', detail: 'browser / web app' },
    has('WebTier') && { id: 'web', label: 'WebTier', detail: `ALB + gateway ASG ${asg?.minSize ?? '?'}..${asg?.maxSize ?? '?'}` },
    has('Messaging') && {
      id: 'mq',
      label: 'Messaging',
      detail: `Amazon MQ ${broker?.engineVersion ?? ''} ${broker?.deploymentMode ?? ''}`,
    },
    has('EcsGrading') && {
      id: 'ecs',
      label: 'EcsGrading',
      detail: `Fargate workers ${target?.minCapacity ?? '?'}..${target?.maxCapacity ?? '?'}`,
    },
    has('Judge0Host') && {
      id: 'judge0',
      label: 'Judge0Host',
      detail: `${count('aws:ec2/instance:Instance')} EC2 host(s) behind an NLB, Judge0 CE`,
    },
    has('Storage') && { id: 's3', label: 'Storage', detail: 'S3 grading files' },
    has('Database') && { id: 'db', label: 'Database', detail: `RDS MySQL ${rds?.engineVersion ?? ''}` },
    has('Alarms') && { id: 'alarms', label: 'Alarms', detail: `${count('aws:cloudwatch/metricAlarm:MetricAlarm')} alarms -> SNS` },
    { id: 'ssm', label: 'SSM', detail: `${count('aws:ssm/parameter:Parameter')} parameters` },
  ].filter(Boolean) as Graph['nodes'];
  const ids = new Set(nodes.map((n) => n.id));
  const edges = [
    { from: 'users', to: 'web', label: 'HTTPS / SSE' },
    { from: 'web', to: 's3', label: 'submissions' },
    { from: 'web', to: 'mq', label: 'STOMP+SSL requests' },
    { from: 'mq', to: 'ecs', label: 'grading-requests' },
    { from: 'ecs', to: 'judge0', label: 'HTTP 2358' },
    { from: 'ecs', to: 's3', label: 'test cases, results' },
    { from: 'ecs', to: 'db', label: 'results' },
    { from: 'ecs', to: 'mq', label: 'results, progress' },
    { from: 'web', to: 'db', label: 'status' },
    { from: 'ecs', to: 'ssm', label: 'credentials' },
    { from: 'alarms', to: 'mq', label: 'watches' },
  ].filter((e) => ids.has(e.from) && ids.has(e.to));
  return { nodes, edges };
}

export function renderMermaid(graph: Graph): string {
  const lines = ['flowchart LR'];
  for (const n of graph.nodes) lines.push(`  ${n.id}["${n.label}<br/>${n.detail}"]`);
  for (const e of graph.edges) lines.push(`  ${e.from} -->|${e.label}| ${e.to}`);
  return `${lines.join('\n')}\n`;
}

/** A plain SVG (no browser needed): components on a fixed grid, arrows between them. */
export function renderSvg(graph: Graph): string {
  const layout: Record<string, [number, number]> = {
    users: [0, 1],
    web: [1, 1],
    mq: [2, 0],
    s3: [2, 2],
    ecs: [3, 1],
    judge0: [4, 0],
    db: [4, 2],
    ssm: [4, 1],
    alarms: [1, 0],
  };
  const W = 210;
  const H = 64;
  const pos = (id: string) => {
    const [c, r] = layout[id] ?? [0, 3];
    return { x: 20 + c * 230, y: 30 + r * 130 };
  };
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts: string[] = [];
  // Ends an edge where it meets the box border, so the arrowhead shows.
  const border = (cx: number, cy: number, dx: number, dy: number) => {
    const scale = Math.min(W / 2 / Math.max(Math.abs(dx), 1e-9), H / 2 / Math.max(Math.abs(dy), 1e-9));
    return { x: cx + dx * scale, y: cy + dy * scale };
  };
  for (const e of graph.edges) {
    const a = pos(e.from);
    const b = pos(e.to);
    const reverse = graph.edges.some((o) => o.from === e.to && o.to === e.from);
    // Two-way pairs are drawn side by side.
    const shift = reverse ? (e.from < e.to ? -8 : 8) : 0;
    const ca = { x: a.x + W / 2, y: a.y + H / 2 + shift };
    const cb = { x: b.x + W / 2, y: b.y + H / 2 + shift };
    const start = border(ca.x, ca.y, cb.x - ca.x, cb.y - ca.y);
    const end = border(cb.x, cb.y, ca.x - cb.x, ca.y - cb.y);
    parts.push(
      `<line x1="${start.x.toFixed(1)}" y1="${start.y.toFixed(1)}" x2="${end.x.toFixed(1)}" y2="${end.y.toFixed(1)}" stroke="#64748b" stroke-width="1.5" marker-end="url(#arrow)"/>`,
    );
    parts.push(
      `<text x="${((start.x + end.x) / 2).toFixed(1)}" y="${((start.y + end.y) / 2 - 4 + shift * 1.5).toFixed(1)}" font-size="10" fill="#334155" text-anchor="middle">${esc(e.label)}</text>`,
    );
  }
  for (const n of graph.nodes) {
    const p = pos(n.id);
    parts.push(`<rect x="${p.x}" y="${p.y}" width="${W}" height="${H}" rx="8" fill="#eef2ff" stroke="#4f46e5"/>`);
    parts.push(
      `<text x="${p.x + W / 2}" y="${p.y + 26}" font-size="14" font-weight="bold" fill="#1e1b4b" text-anchor="middle">${esc(n.label)}</text>`,
    );
    parts.push(`<text x="${p.x + W / 2}" y="${p.y + 46}" font-size="10" fill="#334155" text-anchor="middle">${esc(n.detail)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="420" font-family="sans-serif">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#64748b"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}

/** Lets the config check quote values as the stack file writes them (components/config.ts). */
async function withStackFile<T>(file: string, run: () => Promise<T>): Promise<T> {
  const saved = process.env.GRADING_STACK_FILE;
  process.env.GRADING_STACK_FILE = file;
  try {
    return await run();
  } finally {
    if (saved === undefined) delete process.env.GRADING_STACK_FILE;
    else process.env.GRADING_STACK_FILE = saved;
  }
}

export async function main(argv: string[], root = ROOT): Promise<number> {
  const stackIndex = argv.indexOf('--stack');
  const stack = stackIndex >= 0 ? argv[stackIndex + 1] : 'production';
  const outDir = path.join(root, 'docs');
  const result = await withStackFile(path.join(root, `Pulumi.${stack}.yaml`), () => plan(stack, readStackConfig(stack, root)));
  console.log(`Plan for stack "${stack}": ${result.resources.length} resources\n`);
  console.log(result.tree);
  const mandatory = result.violations.filter((v) => v.enforcement === 'mandatory');
  console.log(`\nPolicy violations: ${mandatory.length} mandatory, ${result.violations.length - mandatory.length} advisory`);
  for (const v of result.violations) console.log(`  [${v.enforcement}] ${v.policy}: ${v.message} (${v.resource})`);
  if (argv.includes('--write') || stack === 'production') {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'architecture.mmd'), result.mermaid);
    fs.writeFileSync(path.join(outDir, 'architecture.svg'), result.svg);
    console.log(`\nWrote docs/architecture.mmd and docs/architecture.svg`);
  } else console.log('\ndocs/architecture.* left as they are (they show production); --write rewrites them from this stack');
  return mandatory.length ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`plan failed: ${(error as Error).message}`);
      process.exit(2);
    },
  );
}
