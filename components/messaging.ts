/**
 * Amazon MQ for ActiveMQ: the grading queues, with the dead-letter and redelivery policy from
 * brokerXml.ts (the same XML the local broker runs). Private, TLS-only STOMP, reachable only from
 * the security groups given; its endpoint and credentials go to SSM for the worker and gateway.
 * Its general and audit logs reach CloudWatch only through a CloudWatch Logs resource policy that
 * lets mq.amazonaws.com write to /aws/amazonmq/*, which this component creates before the broker.
 *
 * Users: the admin (group `admins`, for operators; no tier reads its password) and one user per
 * tier in the group brokerXml's authorization entries name (BROKER_GROUPS), each with its own
 * generated password in its own SSM parameters, so one tier's credentials can be rotated or
 * revoked alone.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { BROKER_GROUPS, BROKER_USERS, renderBrokerConfigXml } from './brokerXml';
import { parameterName, passwordOrGenerated, ssmParameter, tagsFor } from './common';
import { accountScope } from './iam';
import { allowClientGroups, allowTcpOut, securityGroup } from './securityGroups';
import type { MqDeploymentMode } from './config';

export const STOMP_SSL_PORT = 61614;

/** The tiers that connect to the broker, each as its own user in the group its authorization entries name. */
export const BROKER_TIERS = {
  worker: { username: BROKER_USERS.worker, group: BROKER_GROUPS.workers },
  gateway: { username: BROKER_USERS.gateway, group: BROKER_GROUPS.gateways },
  // The accepted-solutions process (reads grading-results-solutions); its user exists so the process can be run
  // against the stack with /<env>/mq/solutions/*, though the program does not deploy the process itself.
  solutions: { username: BROKER_USERS.solutions, group: BROKER_GROUPS.solutions },
} as const;
export type BrokerTier = keyof typeof BROKER_TIERS;

export interface MessagingArgs {
  environmentName: string;
  vpcId: pulumi.Input<string>;
  vpcCidr: string;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups whose members may connect over STOMP+SSL (worker tasks, gateway instances). */
  clientSecurityGroupIds: pulumi.Input<string>[];
  /** ActiveMQ minor version (5.17 is out of support). */
  engineVersion: string;
  /** Minor versions only; AWS applies them in the maintenance window. */
  autoMinorVersionUpgrade: boolean;
  instanceType: string;
  deploymentMode: MqDeploymentMode;
  adminUsername: string;
  /** A Pulumi secret; generated when absent. */
  adminPassword?: pulumi.Input<string>;
  auditLogs: boolean;
  /** Broker-side redeliveries before grading-dlq. */
  maximumRedeliveries: number;
}

export class Messaging extends pulumi.ComponentResource {
  readonly brokerName: string;
  readonly brokerId: pulumi.Output<string>;
  /** Comma-separated stomp+ssl endpoints (two for active/standby; only one is active at a time). */
  readonly stompEndpoints: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly adminUsername: string;
  readonly adminPassword: pulumi.Output<string>;
  readonly configurationXml: string;
  /** The admin user's parameters (operators only). */
  readonly parameterNames: { endpoint: string; username: string; password: string };
  /** Each tier's parameters: the shared endpoint, its own username and password. */
  readonly tierParameterNames: Record<BrokerTier, { endpoint: string; username: string; password: string }>;

  constructor(name: string, args: MessagingArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:Messaging', name, {}, opts);
    const env = args.environmentName;
    const tags = tagsFor(env, 'Messaging');
    this.brokerName = `${env}-grading`;
    this.adminUsername = args.adminUsername;
    this.adminPassword = passwordOrGenerated(`${name}-admin-password`, args.adminPassword, this);
    this.configurationXml = renderBrokerConfigXml({ maximumRedeliveries: args.maximumRedeliveries });

    this.securityGroupId = this.createBrokerSecurityGroup(name, args, tags).id;
    const configuration = this.createConfiguration(name, args.engineVersion, tags);
    const logPolicy = this.allowAmazonMqLogs(name);
    const tierUsers = (Object.keys(BROKER_TIERS) as BrokerTier[]).map((tier) => ({
      tier,
      ...BROKER_TIERS[tier],
      password: passwordOrGenerated(`${name}-${tier}-password`, undefined, this),
    }));
    const broker = this.createBroker(name, args, { configuration, logPolicy, tierUsers, tags });
    this.brokerId = broker.id;
    this.stompEndpoints = broker.instances.apply((instances) =>
      (instances ?? [])
        .map((instance) => (instance.endpoints ?? []).find((e) => e.startsWith('stomp+ssl://')))
        .filter((e): e is string => !!e)
        .join(','),
    );

    this.parameterNames = {
      endpoint: parameterName(env, 'mq', 'broker-endpoint'),
      username: parameterName(env, 'mq', 'username'),
      password: parameterName(env, 'mq', 'password'),
    };
    this.storeAdminParameters(name, tags);
    this.tierParameterNames = this.storeTierParameters(name, env, tierUsers, tags);

    this.registerOutputs({
      brokerName: this.brokerName,
      brokerId: this.brokerId,
      stompEndpoints: this.stompEndpoints,
      securityGroupId: this.securityGroupId,
    });
  }

  /** STOMP+SSL from the client groups only; out only within the VPC (active/standby replication). */
  private createBrokerSecurityGroup(name: string, args: MessagingArgs, tags: Record<string, string>): aws.ec2.SecurityGroup {
    const description = `Amazon MQ ${this.brokerName}: STOMP+SSL from grading clients only`;
    const sg = securityGroup(`${name}-broker-sg`, { vpcId: args.vpcId, description, nameTag: `${this.brokerName}-broker`, tags }, this);
    const stomp = { securityGroupId: sg.id, port: STOMP_SSL_PORT, description: 'STOMP over TLS', tags };
    allowClientGroups(`${name}-stomp-from`, stomp, args.clientSecurityGroupIds, this);
    // Active/standby instances replicate through shared storage inside the VPC; nothing leaves it.
    const withinVpc = { securityGroupId: sg.id, peer: { cidrIpv4: args.vpcCidr }, port: [0, 65535] as [number, number], tags };
    allowTcpOut(`${name}-broker-egress-vpc`, { ...withinVpc, description: 'within the VPC' }, this);
    return sg;
  }

  /** The broker XML (queues, dead-letter policy, redelivery, authorization) as an Amazon MQ configuration. */
  private createConfiguration(name: string, engineVersion: string, tags: Record<string, string>): aws.mq.Configuration {
    return new aws.mq.Configuration(
      `${name}-configuration`,
      {
        name: `${this.brokerName}-config`,
        description: 'grading queues, dead-letter policy and redelivery limits (components/brokerXml.ts)',
        engineType: 'ActiveMQ',
        engineVersion,
        authenticationStrategy: 'simple',
        data: this.configurationXml,
        tags,
      },
      { parent: this },
    );
  }

  /** The CloudWatch Logs resource policy without which the broker's logs are silently never published. */
  private allowAmazonMqLogs(name: string): aws.cloudwatch.LogResourcePolicy {
    const { region, account } = accountScope(this);
    return new aws.cloudwatch.LogResourcePolicy(
      `${name}-log-policy`,
      { policyName: `${this.brokerName}-amazonmq-logs`, policyDocument: pulumi.jsonStringify(amazonMqLogPolicy(region, account)) },
      { parent: this },
    );
  }

  /** The broker in one private subnet (two for active/standby), with the admin and one user per tier. */
  private createBroker(
    name: string,
    args: MessagingArgs,
    parts: {
      configuration: aws.mq.Configuration;
      logPolicy: aws.cloudwatch.LogResourcePolicy;
      tierUsers: TierUser[];
      tags: Record<string, string>;
    },
  ): aws.mq.Broker {
    const deploymentMode = args.deploymentMode;
    const subnetIds = pulumi.output(args.privateSubnetIds).apply((ids) => {
      const needed = deploymentMode === 'ACTIVE_STANDBY_MULTI_AZ' ? 2 : 1;
      if (ids.length < needed) throw new Error(`Messaging: ${deploymentMode} needs ${needed} private subnets, got ${ids.length}`);
      return ids.slice(0, needed);
    });
    const users = [
      { username: this.adminUsername, password: this.adminPassword, consoleAccess: false, groups: [BROKER_GROUPS.admins] },
      ...parts.tierUsers.map((t) => ({ username: t.username, password: t.password, consoleAccess: false, groups: [t.group] })),
    ];
    return new aws.mq.Broker(
      `${name}-broker`,
      {
        brokerName: this.brokerName,
        engineType: 'ActiveMQ',
        engineVersion: args.engineVersion,
        autoMinorVersionUpgrade: args.autoMinorVersionUpgrade,
        hostInstanceType: args.instanceType,
        deploymentMode,
        publiclyAccessible: false,
        subnetIds,
        securityGroups: [this.securityGroupId],
        configuration: { id: parts.configuration.id, revision: parts.configuration.latestRevision },
        logs: { general: true, audit: args.auditLogs },
        encryptionOptions: { useAwsOwnedKey: true },
        maintenanceWindowStartTime: { dayOfWeek: 'SUNDAY', timeOfDay: '03:00', timeZone: 'UTC' },
        users,
        applyImmediately: false,
        tags: parts.tags,
      },
      // Without the log policy in place the broker's logs are silently never published.
      { parent: this, additionalSecretOutputs: ['users'], dependsOn: [parts.logPolicy] },
    );
  }

  /** The endpoints and the admin's credentials (operators only; no tier reads them). */
  private storeAdminParameters(name: string, tags: Record<string, string>): void {
    const names = this.parameterNames;
    const endpoints = 'STOMP+SSL endpoints of the grading broker (comma-separated)';
    ssmParameter(
      `${name}-param-endpoint`,
      { name: names.endpoint, value: this.stompEndpoints, description: endpoints, secure: false },
      tags,
      this,
    );
    ssmParameter(
      `${name}-param-username`,
      { name: names.username, value: this.adminUsername, description: 'grading broker user', secure: true },
      tags,
      this,
    );
    ssmParameter(
      `${name}-param-password`,
      { name: names.password, value: this.adminPassword, description: 'grading broker password', secure: true },
      tags,
      this,
    );
  }

  /** Each tier's username and password in its own SecureString parameters, next to the shared endpoint. */
  private storeTierParameters(
    name: string,
    env: string,
    tierUsers: TierUser[],
    tags: Record<string, string>,
  ): Messaging['tierParameterNames'] {
    const tierParameters = {} as Messaging['tierParameterNames'];
    for (const t of tierUsers) {
      const names = {
        endpoint: this.parameterNames.endpoint,
        username: parameterName(env, 'mq', `${t.tier}/username`),
        password: parameterName(env, 'mq', `${t.tier}/password`),
      };
      const user = { name: names.username, value: t.username, description: `grading broker user of the ${t.tier} tier`, secure: true };
      const password = {
        name: names.password,
        value: t.password,
        description: `grading broker password of the ${t.tier} tier`,
        secure: true,
      };
      ssmParameter(`${name}-param-${t.tier}-username`, user, tags, this);
      ssmParameter(`${name}-param-${t.tier}-password`, password, tags, this);
      tierParameters[t.tier] = names;
    }
    return tierParameters;
  }
}

/** A tier's broker user: its name, group and generated password. */
interface TierUser {
  tier: BrokerTier;
  username: string;
  group: string;
  password: pulumi.Output<string>;
}

/** Lets Amazon MQ (brokers of this account only) write its logs to /aws/amazonmq/* (AWS Amazon MQ developer guide). */
export function amazonMqLogPolicy(region: pulumi.Input<string>, account: pulumi.Input<string>) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AmazonMqLogs',
        Effect: 'Allow',
        Principal: { Service: 'mq.amazonaws.com' },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: pulumi.interpolate`arn:aws:logs:${region}:${account}:log-group:/aws/amazonmq/*`,
        Condition: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': pulumi.interpolate`arn:aws:mq:${region}:${account}:broker:*` },
        },
      },
    ],
  };
}
