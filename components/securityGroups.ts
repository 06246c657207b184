/**
 * Security groups as the components use them: a group with a Name tag and no inline rules, and
 * one TCP rule per port and peer (a security group or a CIDR). Every rule carries a description
 * and the component's tags, so the console says why a port is open.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface SecurityGroupArgs {
  vpcId: pulumi.Input<string>;
  description: pulumi.Input<string>;
  /** The Name tag shown in the console. */
  nameTag: string;
  tags: Record<string, string>;
}

/** A security group without inline rules (its rules are separate resources, see below). */
export function securityGroup(resourceName: string, args: SecurityGroupArgs, parent: pulumi.Resource): aws.ec2.SecurityGroup {
  const { vpcId, description, nameTag, tags } = args;
  return new aws.ec2.SecurityGroup(resourceName, { vpcId, description, tags: { ...tags, Name: nameTag } }, { parent });
}

/** The other end of a rule: members of a security group, or an address range. */
export type Peer =
  { referencedSecurityGroupId: pulumi.Input<string> } | { cidrIpv4: pulumi.Input<string> } | { cidrIpv6: pulumi.Input<string> };

export interface TcpRule {
  /** The group the rule belongs to. */
  securityGroupId: pulumi.Input<string>;
  peer: Peer;
  /** One port, or a [from, to] range. */
  port: number | [number, number];
  description: string;
  tags: Record<string, string>;
}

function tcpRuleArgs(rule: TcpRule) {
  const [fromPort, toPort] = typeof rule.port === 'number' ? [rule.port, rule.port] : rule.port;
  return {
    securityGroupId: rule.securityGroupId,
    ipProtocol: 'tcp',
    fromPort,
    toPort,
    description: rule.description,
    tags: rule.tags,
    ...rule.peer,
  };
}

/** Lets `peer` connect to the group on `port`. */
export function allowTcpIn(resourceName: string, rule: TcpRule, parent: pulumi.Resource): aws.vpc.SecurityGroupIngressRule {
  return new aws.vpc.SecurityGroupIngressRule(resourceName, tcpRuleArgs(rule), { parent });
}

/** Lets the group's members connect to `peer` on `port`. */
export function allowTcpOut(resourceName: string, rule: TcpRule, parent: pulumi.Resource): aws.vpc.SecurityGroupEgressRule {
  return new aws.vpc.SecurityGroupEgressRule(resourceName, tcpRuleArgs(rule), { parent });
}

/**
 * A service's clients: one ingress rule per client security group on the service's port, named
 * `<prefix>-<index>`, and never a CIDR.
 */
export function allowClientGroups(
  prefix: string,
  target: { securityGroupId: pulumi.Input<string>; port: number; description: string; tags: Record<string, string> },
  clientSecurityGroupIds: pulumi.Input<string>[],
  parent: pulumi.Resource,
): aws.vpc.SecurityGroupIngressRule[] {
  return clientSecurityGroupIds.map((source, i) =>
    allowTcpIn(`${prefix}-${i}`, { ...target, peer: { referencedSecurityGroupId: source } }, parent),
  );
}
