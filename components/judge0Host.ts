/**
 * Judge0 CE on EC2 in a private subnet (docker compose: server, workers, PostgreSQL, Redis), set up
 * by cloud-init from judge0-host/. Its auth token and database/cache passwords are generated and
 * live only in SSM SecureString parameters that the host reads at boot: EC2 user data is stored in
 * clear text, so it carries none of them.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parameterName, passwordOrGenerated, ssmParameter, tagsFor } from './common';

export const JUDGE0_PORT = 2358;
const HOST_FILES = path.join(__dirname, '..', 'judge0-host');

export interface Judge0HostArgs {
  environmentName: string;
  vpcId: pulumi.Input<string>;
  vpcCidr: string;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The workers' security group: the only source allowed on 2358. */
  workerSecurityGroupId: pulumi.Input<string>;
  /** Default t3.medium. */
  instanceType?: string;
  /** Default 1. */
  instanceCount?: number;
  /** SSH from inside the VPC with this key pair; off by default (SSM Session Manager works without it). */
  sshKeyName?: string;
  enableSshAccess?: boolean;
}

/** The cloud-init document for the host: judge0-host/ files embedded, environment and region filled in. */
export function renderCloudInit(environmentName: string, region: string): string {
  const b64 = (file: string) => fs.readFileSync(path.join(HOST_FILES, file)).toString('base64');
  return fs
    .readFileSync(path.join(HOST_FILES, 'cloud-init.yaml'), 'utf8')
    .replace('__DOCKER_COMPOSE_B64__', b64('docker-compose.yml'))
    .replace('__JUDGE0_CONF_B64__', b64('judge0.conf.template'))
    .replace('__BOOTSTRAP_B64__', b64('bootstrap.sh'))
    .split('${ENVIRONMENT}')
    .join(environmentName)
    .split('${AWS_REGION}')
    .join(region);
}

export class Judge0Host extends pulumi.ComponentResource {
  readonly securityGroupId: pulumi.Output<string>;
  readonly instanceIds: pulumi.Output<string>[];
  readonly endpoint: pulumi.Output<string>;
  readonly parameterNames: { endpoint: string; authToken: string; postgresPassword: string; redisPassword: string };

  constructor(name: string, args: Judge0HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:Judge0Host', name, {}, opts);
    const env = args.environmentName;
    const tags = tagsFor(env, 'Judge0Host');
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    this.parameterNames = {
      endpoint: parameterName(env, 'judge0', 'endpoint'),
      authToken: parameterName(env, 'judge0', 'auth-token'),
      postgresPassword: parameterName(env, 'judge0', 'postgres-password'),
      redisPassword: parameterName(env, 'judge0', 'redis-password'),
    };
    const secrets: Array<[string, string, string]> = [
      ['auth-token', this.parameterNames.authToken, 'Judge0 X-Auth-Token'],
      ['postgres-password', this.parameterNames.postgresPassword, 'Judge0 PostgreSQL password'],
      ['redis-password', this.parameterNames.redisPassword, 'Judge0 Redis password'],
    ];
    for (const [id, parameter, description] of secrets) {
      ssmParameter(`${name}-param-${id}`, { name: parameter, value: passwordOrGenerated(`${name}-${id}`, undefined, this), description, secure: true }, tags, this);
    }

    const sg = new aws.ec2.SecurityGroup(`${name}-sg`, { vpcId: args.vpcId, description: `Judge0 ${env}: API from grading workers only`, tags: { ...tags, Name: `${env}-judge0` } }, parent);
    new aws.vpc.SecurityGroupIngressRule(`${name}-api-from-workers`, { securityGroupId: sg.id, referencedSecurityGroupId: args.workerSecurityGroupId, ipProtocol: 'tcp', fromPort: JUDGE0_PORT, toPort: JUDGE0_PORT, description: 'Judge0 API', tags }, parent);
    if (args.enableSshAccess) {
      new aws.vpc.SecurityGroupIngressRule(`${name}-ssh-from-vpc`, { securityGroupId: sg.id, cidrIpv4: args.vpcCidr, ipProtocol: 'tcp', fromPort: 22, toPort: 22, description: 'SSH from inside the VPC', tags }, parent);
    }
    // Image pulls, apt and SSM go out through the NAT gateway.
    new aws.vpc.SecurityGroupEgressRule(`${name}-egress-https`, { securityGroupId: sg.id, cidrIpv4: '0.0.0.0/0', ipProtocol: 'tcp', fromPort: 443, toPort: 443, description: 'HTTPS: Docker Hub, apt, SSM', tags }, parent);
    new aws.vpc.SecurityGroupEgressRule(`${name}-egress-http`, { securityGroupId: sg.id, cidrIpv4: '0.0.0.0/0', ipProtocol: 'tcp', fromPort: 80, toPort: 80, description: 'HTTP: Ubuntu apt mirrors', tags }, parent);
    this.securityGroupId = sg.id;

    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }), description: 'Judge0 host', tags },
      parent,
    );
    new aws.iam.RolePolicyAttachment(`${name}-ssm-core`, { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' }, parent);
    const ssmKey = aws.kms.getAliasOutput({ name: 'alias/aws/ssm' }, parent);
    new aws.iam.RolePolicy(
      `${name}-read-secrets`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'ReadJudge0Secrets', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: secrets.map(([, p]) => pulumi.interpolate`arn:aws:ssm:${region}:${account}:parameter${p}`) },
            { Sid: 'DecryptSecureStrings', Effect: 'Allow', Action: 'kms:Decrypt', Resource: ssmKey.targetKeyArn, Condition: { StringEquals: { 'kms:ViaService': pulumi.interpolate`ssm.${region}.amazonaws.com` } } },
          ],
        }),
      },
      parent,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);

    const ami = aws.ec2.getAmiOutput(
      { mostRecent: true, owners: ['099720109477'], filters: [{ name: 'name', values: ['ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*'] }, { name: 'virtualization-type', values: ['hvm'] }] },
      parent,
    );
    const userData = region.apply((r) => renderCloudInit(env, r));
    const subnets = pulumi.output(args.privateSubnetIds);
    this.instanceIds = [];
    const privateIps: pulumi.Output<string>[] = [];
    for (let i = 0; i < (args.instanceCount ?? 1); i++) {
      const instance = new aws.ec2.Instance(
        `${name}-${i + 1}`,
        {
          ami: ami.id,
          instanceType: args.instanceType ?? 't3.medium',
          subnetId: subnets.apply((ids) => ids[i % ids.length]),
          vpcSecurityGroupIds: [sg.id],
          associatePublicIpAddress: false,
          iamInstanceProfile: profile.name,
          keyName: args.enableSshAccess ? args.sshKeyName : undefined,
          userData,
          userDataReplaceOnChange: true,
          metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
          rootBlockDevice: { encrypted: true, volumeType: 'gp3', volumeSize: 40, deleteOnTermination: true },
          monitoring: true,
          tags: { ...tags, Name: `${env}-judge0-${i + 1}` },
        },
        parent,
      );
      this.instanceIds.push(instance.id);
      privateIps.push(instance.privateIp);
    }
    // The worker talks to the first host; more hosts are standbys until a load balancer fronts them.
    this.endpoint = pulumi.interpolate`http://${privateIps[0]}:${JUDGE0_PORT}`;
    ssmParameter(`${name}-param-endpoint`, { name: this.parameterNames.endpoint, value: this.endpoint, description: 'Judge0 API base URL', secure: false }, tags, this);

    this.registerOutputs({ securityGroupId: this.securityGroupId, endpoint: this.endpoint });
  }
}
