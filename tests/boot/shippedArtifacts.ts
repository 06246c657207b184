/**
 * What production starts the worker and the gateway with, read from the files the project ships:
 * the image's ENV (worker/Dockerfile, final stage), the ECS task definition and the WebTier launch
 * template's user data as the Pulumi program renders them (under the mocks of scripts/plan), and the
 * SSM parameters the program creates, with the names each role's IAM policy lets it read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ACCOUNT, ofType, one, RecordedResource, REGION, settled, useMocks } from '../../scripts/plan/mockRuntime';
import type { StoredParameter } from './ssmServer';

export const ROOT = path.join(__dirname, '../..');
type Env = Record<string, string>;

/**
 * Splits shell text into words as bash would for a simple command: quotes, backslash escapes and
 * line continuations. A `$` outside single quotes would be expanded by the shell at boot, so it is
 * refused rather than silently kept.
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === '\\') {
      const next = text[++i];
      if (next === '\n') continue;
      if (quote === '"' && !['$', '`', '"', '\\'].includes(next)) word = (word ?? '') + c;
      word = (word ?? '') + (next ?? '');
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '$' || c === '`') throw new Error(`shell expansion in ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`);
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '$' || c === '`') {
      throw new Error(`shell expansion in ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`);
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in shell text`);
  if (word !== undefined) words.push(word);
  return words;
}

/** The ENV of the Dockerfile's final stage (what every container of the image starts with). */
export function dockerfileEnv(file = path.join(ROOT, 'worker/Dockerfile')): Env {
  const lines = fs
    .readFileSync(file, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim());
  const stages = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0);
  const env: Env = {};
  for (const line of lines.slice(stages[stages.length - 1])) {
    const match = /^ENV\s+(.*)$/i.exec(line);
    if (!match) continue;
    const words = shellWords(match[1]);
    if (words.length && !words[0].includes('=')) env[words[0]] = words.slice(1).join(' ');
    else for (const w of words) env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  return env;
}

/** docker run options that take no value. */
const DOCKER_RUN_FLAGS = new Set(['-d', '--detach', '--rm', '--init', '--read-only', '--no-healthcheck', '-i', '-t', '-it', '--tty']);

/** The `docker run` of a boot script: its -e/--env variables, the image and the command. */
export function dockerRun(script: string): { env: Env; image: string; command: string[] } {
  const joined = script.replace(/\\\n/g, ' ');
  const line = joined.split('\n').find((l) => /^\s*docker run\s/.test(l));
  if (!line) throw new Error('the user data has no `docker run` command');
  const words = shellWords(line).slice(2);
  const env: Env = {};
  let i = 0;
  for (; i < words.length && words[i].startsWith('-'); i++) {
    const eq = words[i].startsWith('--') ? words[i].indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [words[i].slice(0, eq), words[i].slice(eq + 1)] : [words[i], undefined];
    if (DOCKER_RUN_FLAGS.has(flag)) continue;
    const value = inline ?? words[++i];
    if (flag === '--env-file') throw new Error('docker run --env-file: the boot test cannot read that file');
    if (flag !== '-e' && flag !== '--env') continue;
    if (!value.includes('=')) {
      throw new Error(`docker run -e ${value} takes the value from the host's environment, which the boot script never sets`);
    }
    env[value.slice(0, value.indexOf('='))] = value.slice(value.indexOf('=') + 1);
  }
  return { env, image: words[i], command: words.slice(i + 1) };
}

/** The parts of an ECS container definition that make the process's environment and command. */
export interface ContainerDefinition {
  name: string;
  environment?: Array<{ name: string; value: string }>;
  secrets?: Array<{ name: string; valueFrom: string }>;
  command?: string[];
}

export interface ShippedProgram {
  /** The worker container of the ECS task definition (containerDefinitions JSON). */
  workerContainer: ContainerDefinition;
  /** The init container that migrates the database before the worker starts (the worker's dependsOn). */
  migrateContainer: ContainerDefinition & { essential?: boolean };
  /** The worker's dependsOn in the task definition. */
  workerDependsOn: Array<{ containerName: string; condition: string }>;
  /** The Amazon MQ broker's users (admin and tiers) with their groups, as the Messaging component makes them. */
  brokerUsers: Array<{ username: string; password: string; groups: string[] }>;
  /** The gateway instances' boot script (launch template user data). */
  gatewayUserData: string;
  parameters: StoredParameter[];
  /**
   * Parameter names each role's policy allows ssm:GetParameter(s) on (undefined: any): the worker's
   * task role, the gateway instances' role, and the worker task's execution role (ECS secrets).
   */
  readableBy: { worker?: string[]; gateway?: string[]; execution?: string[] };
  /** The database the RDS instance creates. */
  databaseName: string;
}

function stackConfig(stack: string): Record<string, unknown> {
  const file = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')).config as Record<string, unknown>;
  return Object.fromEntries(Object.entries(file).map(([k, v]) => [k.startsWith('grading:') ? k.slice('grading:'.length) : k, v]));
}

/** Runs index.ts under mocks with the stack's config file and collects what the processes start from. */
export async function renderProgram(stack = 'production'): Promise<ShippedProgram> {
  await useMocks(stackConfig(stack), { stack });
  const entry = require.resolve(path.join(ROOT, 'index'));
  delete require.cache[entry];
  require(entry);
  await settled();
  const containers = JSON.parse(one('aws:ecs/taskDefinition:TaskDefinition').inputs.containerDefinitions) as ContainerDefinition[];
  const workerContainer = containers.find((c) => c.name === 'worker') ?? containers[0];
  const migrateContainer = containers.find((c) => c.name === 'migrate');
  if (!migrateContainer) throw new Error('the worker task definition has no migrate container');
  const userData = one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData as string;
  const ecsPolicies = rolePolicies('EcsGrading');
  return {
    workerContainer,
    migrateContainer,
    workerDependsOn: (workerContainer as { dependsOn?: ShippedProgram['workerDependsOn'] }).dependsOn ?? [],
    brokerUsers: one('aws:mq/broker:Broker').inputs.users,
    gatewayUserData: Buffer.from(userData, 'base64').toString('utf8'),
    parameters: ofType('aws:ssm/parameter:Parameter').map((p) => ({ name: p.inputs.name, type: p.inputs.type, value: p.inputs.value })),
    readableBy: {
      worker: readableParameters(ecsPolicies.filter((p) => p.name.endsWith('-task-policy'))),
      gateway: readableParameters(rolePolicies('WebTier')),
      execution: readableParameters(ecsPolicies.filter((p) => p.name.endsWith('-execution-secrets'))),
    },
    databaseName: one('aws:rds/instance:Instance').inputs.dbName,
  };
}

function rolePolicies(component: string): RecordedResource[] {
  return ofType('aws:iam/rolePolicy:RolePolicy').filter((p) => p.parent?.startsWith(`grading:index:${component}::`));
}

function readableParameters(policies: RecordedResource[]): string[] | undefined {
  const names: string[] = [];
  for (const policy of policies) {
    const document = typeof policy.inputs.policy === 'string' ? JSON.parse(policy.inputs.policy) : policy.inputs.policy;
    for (const statement of [document.Statement].flat()) {
      const actions = [statement.Action].flat() as string[];
      if (statement.Effect !== 'Allow' || !actions.some((a) => /^ssm:(GetParameters?|\*)$|^\*$/.test(a))) continue;
      for (const resource of [statement.Resource].flat() as string[]) {
        if (resource.includes('*')) return undefined;
        const match = new RegExp(`^arn:aws:ssm:${REGION}:${ACCOUNT}:parameter(/.+)$`).exec(resource);
        if (match) names.push(match[1]);
      }
    }
  }
  return names;
}

/** The container environment ECS builds: the image's ENV, then the task definition's environment and secrets. */
export function taskEnvironment(container: ContainerDefinition, imageEnv: Env, parameters: StoredParameter[]): Env {
  const env: Env = { ...imageEnv };
  for (const { name, value } of container.environment ?? []) env[name] = value;
  for (const { name, valueFrom } of container.secrets ?? []) {
    const parameterName = valueFrom.replace(/^arn:aws:ssm:[^:]+:[^:]+:parameter/, '');
    const parameter = parameters.find((p) => p.name === parameterName);
    if (!parameter) throw new Error(`task definition secret ${name} names ${valueFrom}, which the program does not create`);
    env[name] = parameter.value;
  }
  return env;
}
