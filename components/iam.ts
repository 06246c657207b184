/**
 * IAM pieces every component builds its roles from: a role a service may assume, the ARN of an
 * SSM parameter, and the two statements that let a role read exactly the parameters it names and
 * decrypt them with the account's aws/ssm key (only through SSM). Each caller still names its own
 * resources: nothing here grants a wildcard.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export type ServicePrincipal = 'ecs-tasks.amazonaws.com' | 'ec2.amazonaws.com';

/** The trust policy of a role only `service` may assume. */
export function assumeRolePolicy(service: ServicePrincipal): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

export interface ServiceRoleArgs {
  service: ServicePrincipal;
  description: string;
  tags: Record<string, string>;
  /** AWS managed policies to attach: the attachment's resource name -> the policy ARN. */
  managedPolicies?: Record<string, string>;
}

/** A role for `service`, with the managed policies attached. */
export function serviceRole(resourceName: string, args: ServiceRoleArgs, parent: pulumi.Resource): aws.iam.Role {
  const role = new aws.iam.Role(
    resourceName,
    { assumeRolePolicy: assumeRolePolicy(args.service), description: args.description, tags: args.tags },
    { parent },
  );
  for (const [attachmentName, policyArn] of Object.entries(args.managedPolicies ?? {})) {
    new aws.iam.RolePolicyAttachment(attachmentName, { role: role.name, policyArn }, { parent });
  }
  return role;
}

export const MANAGED_POLICIES = {
  ecsTaskExecution: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
  ssmManagedInstance: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
} as const;

/** Where a role's statements run: the region and account its parameter ARNs name. */
export interface AccountScope {
  region: pulumi.Input<string>;
  account: pulumi.Input<string>;
}

/** The region and account of the running program, read once per component. */
export function accountScope(parent: pulumi.Resource): { region: pulumi.Output<string>; account: pulumi.Output<string> } {
  return {
    region: aws.getRegionOutput({}, { parent }).region,
    account: aws.getCallerIdentityOutput({}, { parent }).accountId,
  };
}

/** The ARN of the SSM parameter `name` (which starts with a slash). */
export function parameterArn(scope: AccountScope, name: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`arn:aws:ssm:${scope.region}:${scope.account}:parameter${name}`;
}

/** The key SSM encrypts SecureString parameters with when none is given. */
export function ssmKeyArn(parent: pulumi.Resource): pulumi.Output<string> {
  return aws.kms.getAliasOutput({ name: 'alias/aws/ssm' }, { parent }).targetKeyArn;
}

/** Read exactly these parameters (by ARN), with these SSM actions. */
export function readParametersStatement(sid: string, action: string | string[], parameterArns: pulumi.Input<string>[]) {
  return { Sid: sid, Effect: 'Allow', Action: action, Resource: parameterArns };
}

/** Decrypt with the aws/ssm key, and only when SSM asks on the role's behalf. */
export function decryptThroughSsmStatement(sid: string, region: pulumi.Input<string>, keyArn: pulumi.Input<string>) {
  return {
    Sid: sid,
    Effect: 'Allow',
    Action: 'kms:Decrypt',
    Resource: keyArn,
    Condition: { StringEquals: { 'kms:ViaService': pulumi.interpolate`ssm.${region}.amazonaws.com` } },
  };
}
