/**
 * Security groups of the broker's and database's clients (worker tasks, gateway instances), made
 * before either so both can name them as the only allowed sources. EcsGrading and WebTier attach
 * them and add their own egress rules.
 */
import * as pulumi from '@pulumi/pulumi';
import { tagsFor } from './common';
import { securityGroup } from './securityGroups';

export interface AccessGroupsArgs {
  environmentName: string;
  vpcId: pulumi.Input<string>;
}

export class AccessGroups extends pulumi.ComponentResource {
  readonly workerSecurityGroupId: pulumi.Output<string>;
  readonly webSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: AccessGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:AccessGroups', name, {}, opts);
    const tags = tagsFor(args.environmentName, 'AccessGroups');
    const env = args.environmentName;
    const group = (id: string, description: string) =>
      securityGroup(`${name}-${id}`, { vpcId: args.vpcId, description, nameTag: `${env}-grading-${id}`, tags }, this);
    const worker = group('worker', 'grading worker tasks');
    const web = group('web', 'grading gateway instances');
    this.workerSecurityGroupId = worker.id;
    this.webSecurityGroupId = web.id;
    this.registerOutputs({ workerSecurityGroupId: this.workerSecurityGroupId, webSecurityGroupId: this.webSecurityGroupId });
  }
}
