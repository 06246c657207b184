/**
 * RDS MySQL 8.4 for grading result metadata: private, encrypted, TLS required, backed up; deletion
 * protection and a final snapshot in production. Endpoint and credentials go to SSM: the master
 * user's (read only by the deploy-time migration) and one generated user per tier, which that
 * migration creates with the tier's grants (web/src/db/migrate.ts), so no tier runs as the master.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { parameterName, passwordOrGenerated, ssmParameter, tagsFor } from './common';
import { allowClientGroups, securityGroup } from './securityGroups';

export const MYSQL_PORT = 3306;
export const DATABASE_NAME = 'grading';

/** The tiers that connect to the database, each as its own user (created by the migration). */
export const DATABASE_TIER_USERS = { gateway: 'grading_gateway', worker: 'grading_worker' } as const;
export type DatabaseTier = keyof typeof DATABASE_TIER_USERS;

export interface DatabaseArgs {
  environmentName: string;
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups whose members may connect on 3306. */
  clientSecurityGroupIds: pulumi.Input<string>[];
  instanceClass: string;
  /** MySQL major.minor[.patch]; the parameter group family follows it. */
  engineVersion: string;
  /** GiB; grows automatically up to maxAllocatedStorage. */
  allocatedStorage: number;
  maxAllocatedStorage: number;
  username: string;
  /** A Pulumi secret; generated when absent. */
  password?: pulumi.Input<string>;
  /** Days. */
  backupRetentionDays: number;
  multiAz: boolean;
  /** A final snapshot on deletion, changes applied in the maintenance window. */
  production: boolean;
  deletionProtection: boolean;
}

export class Database extends pulumi.ComponentResource {
  readonly instanceIdentifier: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly password: pulumi.Output<string>;
  /** The master user's parameters: for the migration only. */
  readonly parameterNames: { endpoint: string; username: string; password: string };
  /** Each tier's parameters: the shared endpoint, its own username and password. */
  readonly tierParameterNames: Record<DatabaseTier, { endpoint: string; username: string; password: string }>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:Database', name, {}, opts);
    const env = args.environmentName;
    const tags = tagsFor(env, 'Database');
    const parent = { parent: this };
    const production = args.production;
    const username = args.username;
    this.password = passwordOrGenerated(`${name}-password`, args.password, this);

    const sg = securityGroup(
      `${name}-sg`,
      { vpcId: args.vpcId, description: `RDS ${env}-grading: MySQL from grading clients only`, nameTag: `${env}-grading-db`, tags },
      this,
    );
    const mysql = { securityGroupId: sg.id, port: MYSQL_PORT, description: 'MySQL', tags };
    allowClientGroups(`${name}-mysql-from`, mysql, args.clientSecurityGroupIds, this);
    this.securityGroupId = sg.id;

    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.privateSubnetIds, description: `${env} grading database subnets`, tags },
      parent,
    );

    const engineVersion = args.engineVersion;
    const family = `mysql${engineVersion.split('.').slice(0, 2).join('.')}`;
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        family,
        description: 'grading: TLS only, utf8mb4',
        parameters: [
          { name: 'require_secure_transport', value: '1' },
          { name: 'character_set_server', value: 'utf8mb4' },
          { name: 'collation_server', value: 'utf8mb4_0900_ai_ci' },
        ],
        tags,
      },
      parent,
    );

    const instance = new aws.rds.Instance(
      `${name}-mysql`,
      {
        identifier: `${env}-grading`,
        engine: 'mysql',
        engineVersion,
        instanceClass: args.instanceClass,
        allocatedStorage: args.allocatedStorage,
        maxAllocatedStorage: args.maxAllocatedStorage,
        storageType: 'gp3',
        storageEncrypted: true,
        dbName: DATABASE_NAME,
        username,
        password: this.password,
        port: MYSQL_PORT,
        dbSubnetGroupName: subnetGroup.name,
        parameterGroupName: parameterGroup.name,
        vpcSecurityGroupIds: [sg.id],
        publiclyAccessible: false,
        multiAz: args.multiAz,
        backupRetentionPeriod: args.backupRetentionDays,
        backupWindow: '02:00-03:00',
        maintenanceWindow: 'sun:03:30-sun:04:30',
        autoMinorVersionUpgrade: true,
        // A stack made on 8.0 moves to 8.4 by changing dbEngineVersion (with its new parameter group family).
        allowMajorVersionUpgrade: true,
        copyTagsToSnapshot: true,
        deletionProtection: args.deletionProtection,
        skipFinalSnapshot: !production,
        finalSnapshotIdentifier: production ? `${env}-grading-final` : undefined,
        enabledCloudwatchLogsExports: ['error', 'slowquery'],
        applyImmediately: !production,
        tags,
      },
      { parent: this, additionalSecretOutputs: ['password'] },
    );
    this.instanceIdentifier = instance.identifier;
    this.address = instance.address;
    this.port = instance.port;

    this.parameterNames = {
      endpoint: parameterName(env, 'db', 'endpoint'),
      username: parameterName(env, 'db', 'username'),
      password: parameterName(env, 'db', 'password'),
    };
    const endpoint = pulumi.interpolate`${instance.address}:${instance.port}`;
    const master: Array<[string, string, pulumi.Input<string>, string, boolean]> = [
      ['endpoint', this.parameterNames.endpoint, endpoint, 'grading database host:port', false],
      ['username', this.parameterNames.username, username, 'grading database user', true],
      ['password', this.parameterNames.password, this.password, 'grading database password', true],
    ];
    for (const [id, parameter, value, description, secure] of master) {
      ssmParameter(`${name}-param-${id}`, { name: parameter, value, description, secure }, tags, this);
    }
    this.tierParameterNames = this.createTierUserParameters(name, env, tags);

    this.registerOutputs({ instanceIdentifier: this.instanceIdentifier, address: this.address, securityGroupId: this.securityGroupId });
  }

  /** A generated password per tier user and both in SecureString parameters (the migration creates the users). */
  private createTierUserParameters(name: string, env: string, tags: Record<string, string>): Database['tierParameterNames'] {
    const tierParameters = {} as Database['tierParameterNames'];
    for (const tier of Object.keys(DATABASE_TIER_USERS) as DatabaseTier[]) {
      const names = {
        endpoint: this.parameterNames.endpoint,
        username: parameterName(env, 'db', `${tier}/username`),
        password: parameterName(env, 'db', `${tier}/password`),
      };
      const password = passwordOrGenerated(`${name}-${tier}-password`, undefined, this);
      const what = `grading database user of the ${tier} tier`;
      const user = { name: names.username, value: DATABASE_TIER_USERS[tier], description: what, secure: true };
      ssmParameter(`${name}-param-${tier}-username`, user, tags, this);
      ssmParameter(
        `${name}-param-${tier}-password`,
        { name: names.password, value: password, description: `password of the ${what}`, secure: true },
        tags,
        this,
      );
      tierParameters[tier] = names;
    }
    return tierParameters;
  }
}
