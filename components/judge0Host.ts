/**
 * Judge0 CE on EC2 in private subnets (docker compose: server, workers, PostgreSQL, Redis), set up
 * by cloud-init from judge0-host/, behind an internal Network Load Balancer: the workers get the
 * balancer's DNS name, so they use every host and keep working when a host is replaced. Its auth
 * token and database/cache passwords are generated and live only in SSM SecureString parameters
 * that the host reads at boot: EC2 user data is stored in clear text, so it carries none of them.
 * The AMI is pinned (config, or the current Ubuntu 22.04 image at creation, then ignored) so a new
 * Ubuntu release never replaces the hosts behind the operators' backs.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generatedWord, parameterName, ssmParameter, tagsFor } from './common';
import {
  accountScope,
  decryptThroughSsmStatement,
  MANAGED_POLICIES,
  parameterArn,
  readParametersStatement,
  serviceRole,
  ssmKeyArn,
} from './iam';
import { allowTcpIn, allowTcpOut, securityGroup } from './securityGroups';

export const JUDGE0_PORT = 2358;
/** Canonical's public SSM parameter for the current Ubuntu 22.04 image (read once, at creation). */
export const UBUNTU_AMI_PARAMETER = '/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id';
const HOST_FILES = path.join(__dirname, '..', 'judge0-host');

export interface Judge0HostArgs {
  environmentName: string;
  vpcId: pulumi.Input<string>;
  vpcCidr: string;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The workers' security group: the only source allowed on the balancer's 2358. */
  workerSecurityGroupId: pulumi.Input<string>;
  /** Pinned AMI; default: the current Ubuntu 22.04 image when a host is created, never followed afterwards. */
  amiId?: string;
  instanceType: string;
  instanceCount: number;
  /** SSH from inside the VPC with sshKeyName (SSM Session Manager works without it). */
  enableSshAccess: boolean;
  sshKeyName?: string;
}

/** The cloud-init document for the host: judge0-host/ files embedded, environment and region filled in. */
export function renderCloudInit(environmentName: string, region: string): string {
  const b64 = (file: string) => fs.readFileSync(path.join(HOST_FILES, file)).toString('base64');
  return fs
    .readFileSync(path.join(HOST_FILES, 'cloud-init.yaml'), 'utf8')
    .replace('__DOCKER_COMPOSE_B64__', b64('docker-compose.yml'))
    .replace('__JUDGE0_CONF_B64__', b64('judge0.conf.template'))
    .replace('__BOOTSTRAP_B64__', b64('bootstrap.sh'))
    .replace('__RENDER_CONF_B64__', b64('render-conf.sh'))
    .split('${ENVIRONMENT}')
    .join(environmentName)
    .split('${AWS_REGION}')
    .join(region);
}

export class Judge0Host extends pulumi.ComponentResource {
  /** The hosts' security group. */
  readonly securityGroupId: pulumi.Output<string>;
  /** The internal load balancer's security group: what clients (the workers) send to. */
  readonly endpointSecurityGroupId: pulumi.Output<string>;
  readonly instanceIds: pulumi.Output<string>[];
  readonly endpoint: pulumi.Output<string>;
  readonly parameterNames: { endpoint: string; authToken: string; postgresPassword: string; redisPassword: string };

  constructor(name: string, args: Judge0HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:Judge0Host', name, {}, opts);
    const env = args.environmentName;
    const tags = tagsFor(env, 'Judge0Host');
    this.parameterNames = {
      endpoint: parameterName(env, 'judge0', 'endpoint'),
      authToken: parameterName(env, 'judge0', 'auth-token'),
      postgresPassword: parameterName(env, 'judge0', 'postgres-password'),
      redisPassword: parameterName(env, 'judge0', 'redis-password'),
    };
    const secretParameters = this.generateSecrets(name, tags);
    const { balancer, hosts } = this.createSecurityGroups(name, args, tags);
    this.securityGroupId = hosts.id;
    this.endpointSecurityGroupId = balancer.id;
    const profile = this.createInstanceProfile(name, secretParameters, tags);
    const instances = this.createHosts(name, args, { securityGroup: hosts, profile, tags });
    this.instanceIds = instances.map((instance) => instance.id);
    const nlb = this.createInternalBalancer(name, args, { securityGroup: balancer, instances, tags });

    // A stable name for all hosts: the worker reads it once at start and keeps it across host replacements.
    this.endpoint = pulumi.interpolate`http://${nlb.dnsName}:${JUDGE0_PORT}`;
    const endpoint = { name: this.parameterNames.endpoint, value: this.endpoint, description: 'Judge0 API base URL', secure: false };
    ssmParameter(`${name}-param-endpoint`, endpoint, tags, this);

    this.registerOutputs({ securityGroupId: this.securityGroupId, endpoint: this.endpoint });
  }

  /** The auth token and the database/cache passwords, generated into SecureString parameters. */
  private generateSecrets(name: string, tags: Record<string, string>): string[] {
    const secrets: Array<[string, string, string]> = [
      ['auth-token', this.parameterNames.authToken, 'Judge0 X-Auth-Token'],
      ['postgres-password', this.parameterNames.postgresPassword, 'Judge0 PostgreSQL password'],
      ['redis-password', this.parameterNames.redisPassword, 'Judge0 Redis password'],
    ];
    for (const [id, parameter, description] of secrets) {
      // Letters and digits: judge0.conf is shell code and PostgreSQL's password goes into YAML (render-conf.sh).
      const value = generatedWord(`${name}-${id}`, this);
      ssmParameter(`${name}-param-${id}`, { name: parameter, value, description, secure: true }, tags, this);
    }
    return secrets.map(([, parameter]) => parameter);
  }

  /** Workers -> internal NLB -> hosts; each hop admits only the one before it. */
  private createSecurityGroups(name: string, args: Judge0HostArgs, tags: Record<string, string>) {
    const env = args.environmentName;
    const balancer = securityGroup(
      `${name}-lb-sg`,
      {
        vpcId: args.vpcId,
        description: `Judge0 ${env} internal balancer: API from grading workers only`,
        nameTag: `${env}-judge0-lb`,
        tags,
      },
      this,
    );
    const hosts = securityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: `Judge0 ${env}: API from its internal balancer only`, nameTag: `${env}-judge0`, tags },
      this,
    );
    const api = { port: JUDGE0_PORT, tags };
    const fromWorkers = { referencedSecurityGroupId: args.workerSecurityGroupId };
    allowTcpIn(`${name}-lb-from-workers`, { ...api, securityGroupId: balancer.id, peer: fromWorkers, description: 'Judge0 API' }, this);
    const toHosts = { ...api, securityGroupId: balancer.id, peer: { referencedSecurityGroupId: hosts.id }, description: 'Judge0 hosts' };
    allowTcpOut(`${name}-lb-to-hosts`, toHosts, this);
    const fromBalancer = { referencedSecurityGroupId: balancer.id };
    allowTcpIn(
      `${name}-api-from-lb`,
      { ...api, securityGroupId: hosts.id, peer: fromBalancer, description: 'Judge0 API and health checks' },
      this,
    );
    if (args.enableSshAccess) {
      const ssh = { securityGroupId: hosts.id, peer: { cidrIpv4: args.vpcCidr }, port: 22, description: 'SSH from inside the VPC', tags };
      allowTcpIn(`${name}-ssh-from-vpc`, ssh, this);
    }
    // Image pulls, apt and SSM go out through the NAT gateway.
    const anywhere = { securityGroupId: hosts.id, peer: { cidrIpv4: '0.0.0.0/0' }, tags };
    allowTcpOut(`${name}-egress-https`, { ...anywhere, port: 443, description: 'HTTPS: Docker Hub, apt, SSM' }, this);
    allowTcpOut(`${name}-egress-http`, { ...anywhere, port: 80, description: 'HTTP: Ubuntu apt mirrors' }, this);
    return { balancer, hosts };
  }

  /** The hosts' role: Session Manager, and reading (and decrypting) exactly the generated secrets. */
  private createInstanceProfile(name: string, secretParameters: string[], tags: Record<string, string>): aws.iam.InstanceProfile {
    const scope = accountScope(this);
    const role = serviceRole(
      `${name}-role`,
      {
        service: 'ec2.amazonaws.com',
        description: 'Judge0 host',
        tags,
        managedPolicies: { [`${name}-ssm-core`]: MANAGED_POLICIES.ssmManagedInstance },
      },
      this,
    );
    const policy = {
      Version: '2012-10-17',
      Statement: [
        readParametersStatement(
          'ReadJudge0Secrets',
          'ssm:GetParameter',
          secretParameters.map((p) => parameterArn(scope, p)),
        ),
        decryptThroughSsmStatement('DecryptSecureStrings', scope.region, ssmKeyArn(this)),
      ],
    };
    new aws.iam.RolePolicy(`${name}-read-secrets`, { role: role.id, policy: pulumi.jsonStringify(policy) }, { parent: this });
    return new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, { parent: this });
  }

  /** instanceCount hosts spread over the private subnets, booted by cloud-init, on a pinned AMI. */
  private createHosts(
    name: string,
    args: Judge0HostArgs,
    parts: { securityGroup: aws.ec2.SecurityGroup; profile: aws.iam.InstanceProfile; tags: Record<string, string> },
  ): aws.ec2.Instance[] {
    const env = args.environmentName;
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const amiId = args.amiId ?? aws.ssm.getParameterOutput({ name: UBUNTU_AMI_PARAMETER }, { parent: this }).value;
    const userData = region.apply((r) => renderCloudInit(env, r));
    const subnets = pulumi.output(args.privateSubnetIds);
    const instances: aws.ec2.Instance[] = [];
    for (let i = 0; i < args.instanceCount; i++) {
      const instance = new aws.ec2.Instance(
        `${name}-${i + 1}`,
        {
          ami: amiId,
          instanceType: args.instanceType,
          subnetId: subnets.apply((ids) => ids[i % ids.length]),
          vpcSecurityGroupIds: [parts.securityGroup.id],
          associatePublicIpAddress: false,
          iamInstanceProfile: parts.profile.name,
          keyName: args.enableSshAccess ? args.sshKeyName : undefined,
          userData,
          userDataReplaceOnChange: true,
          metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 },
          rootBlockDevice: { encrypted: true, volumeType: 'gp3', volumeSize: 40, deleteOnTermination: true },
          monitoring: true,
          tags: { ...parts.tags, Name: `${env}-judge0-${i + 1}` },
        },
        // A pinned AMI changes only through amiId; the default image is read once, not followed.
        { parent: this, ignoreChanges: args.amiId ? [] : ['ami'] },
      );
      instances.push(instance);
    }
    return instances;
  }

  /** The internal NLB on 2358 with the hosts as targets, sticky per worker task. */
  private createInternalBalancer(
    name: string,
    args: Judge0HostArgs,
    parts: { securityGroup: aws.ec2.SecurityGroup; instances: aws.ec2.Instance[]; tags: Record<string, string> },
  ): aws.lb.LoadBalancer {
    const { tags } = parts;
    const parent = { parent: this };
    const env = args.environmentName;
    const nlb = new aws.lb.LoadBalancer(
      `${name}-nlb`,
      {
        name: `${env}-judge0`,
        loadBalancerType: 'network',
        internal: true,
        subnets: args.privateSubnetIds,
        securityGroups: [parts.securityGroup.id],
        enableCrossZoneLoadBalancing: true,
        tags,
      },
      parent,
    );
    const targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        name: `${env}-judge0`,
        port: JUDGE0_PORT,
        protocol: 'TCP',
        targetType: 'instance',
        vpcId: args.vpcId,
        // Hosts then see the balancer as the source, which their security group admits.
        preserveClientIp: 'false',
        // A token lives on the host that took the submission (its own PostgreSQL): every connection
        // of one worker task goes to the same host, so its polls find their submissions.
        stickiness: { enabled: true, type: 'source_ip' },
        deregistrationDelay: 60,
        healthCheck: { protocol: 'TCP', port: String(JUDGE0_PORT), interval: 10, healthyThreshold: 3, unhealthyThreshold: 3 },
        tags,
      },
      parent,
    );
    parts.instances.forEach(
      (instance, i) =>
        new aws.lb.TargetGroupAttachment(
          `${name}-target-${i + 1}`,
          { targetGroupArn: targetGroup.arn, targetId: instance.id, port: JUDGE0_PORT },
          parent,
        ),
    );
    new aws.lb.Listener(
      `${name}-listener`,
      {
        loadBalancerArn: nlb.arn,
        port: JUDGE0_PORT,
        protocol: 'TCP',
        defaultActions: [{ type: 'forward', targetGroupArn: targetGroup.arn }],
        tags,
      },
      parent,
    );
    return nlb;
  }
}
