/**
 * Security groups of the broker's and database's clients (worker tasks, gateway instances), made
 * before either so both can name them as the only allowed sources. EcsGrading and WebTier attach
 * them and add their own egress rules.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { tagsFor } from './common';

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
    const worker = new aws.ec2.SecurityGroup(`${name}-worker`, { vpcId: args.vpcId, description: 'grading worker tasks', tags: { ...tags, Name: `${args.environmentName}-grading-worker` } }, { parent: this });
    const web = new aws.ec2.SecurityGroup(`${name}-web`, { vpcId: args.vpcId, description: 'grading gateway instances', tags: { ...tags, Name: `${args.environmentName}-grading-web` } }, { parent: this });
    this.workerSecurityGroupId = worker.id;
    this.webSecurityGroupId = web.id;
    this.registerOutputs({ workerSecurityGroupId: this.workerSecurityGroupId, webSecurityGroupId: this.webSecurityGroupId });
  }
}
