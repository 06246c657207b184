/**
 * The VPC everything runs in: public subnets (ALB, NAT) and private subnets (workers, broker,
 * database, Judge0) over >= 2 AZs, and an S3 gateway endpoint so test cases and results do not
 * cross the NAT gateway (cheaper, and S3 traffic stays on the AWS network).
 */
import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';
import { tagsFor } from './common';
import type { NatStrategy } from './config';

export interface NetworkArgs {
  environmentName: string;
  cidrBlock: string;
  availabilityZoneCount: number;
  /** One NAT gateway for the VPC, or one per AZ. */
  natStrategy: NatStrategy;
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly cidrBlock: string;
  readonly s3EndpointId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:Network', name, {}, opts);
    const tags = tagsFor(args.environmentName, 'Network');
    this.cidrBlock = args.cidrBlock;

    // awsx builds subnets, route tables and NAT gateways; we only read its ids (awsx components are one opaque resource under mocks).
    const vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: this.cidrBlock,
        numberOfAvailabilityZones: args.availabilityZoneCount,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        natGateways: { strategy: args.natStrategy },
        subnetStrategy: 'Auto',
        subnetSpecs: [
          { type: 'Public', cidrMask: 22 },
          { type: 'Private', cidrMask: 19 },
        ],
        tags: { ...tags, Name: `${args.environmentName}-grading` },
      },
      { parent: this },
    );
    this.vpcId = vpc.vpcId;
    this.publicSubnetIds = vpc.publicSubnetIds;
    this.privateSubnetIds = vpc.privateSubnetIds;

    const region = aws.getRegionOutput({}, { parent: this });
    const privateRouteTables = aws.ec2.getRouteTablesOutput(
      { vpcId: vpc.vpcId, filters: [{ name: 'association.subnet-id', values: vpc.privateSubnetIds }] },
      { parent: this },
    );
    const s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: vpc.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
        vpcEndpointType: 'Gateway',
        routeTableIds: privateRouteTables.ids,
        tags: { ...tags, Name: `${args.environmentName}-s3-gateway` },
      },
      { parent: this },
    );
    this.s3EndpointId = s3Endpoint.id;

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      s3EndpointId: this.s3EndpointId,
    });
  }
}
