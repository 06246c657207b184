import assert from 'node:assert/strict';
import { Network } from '../../components/network';
import { DEFAULTS } from '../../components/config';
import { networkDefaults } from './configDefaults';
import { one, promiseOf, settled, useMocks } from './harness';

describe('Network', () => {
  beforeEach(() => useMocks());

  it('builds public and private subnets over two AZs with one NAT gateway by default', async () => {
    const n = new Network('net', { environmentName: 'staging', ...networkDefaults });
    await settled();
    const vpc = one('awsx:ec2:Vpc').inputs;
    assert.equal(vpc.numberOfAvailabilityZones, DEFAULTS.availabilityZoneCount);
    assert.deepEqual(vpc.natGateways, { strategy: DEFAULTS.natStrategy });
    assert.equal(vpc.cidrBlock, DEFAULTS.vpcCidr);
    assert.deepEqual(vpc.subnetSpecs.map((s: { type: string }) => s.type).sort(), ['Private', 'Public']);
    assert.deepEqual(await promiseOf(n.privateSubnetIds), ['subnet-priv-a', 'subnet-priv-b']);
  });

  it('uses one NAT gateway per AZ when asked', async () => {
    new Network('net', { environmentName: 'production', ...networkDefaults, natStrategy: 'OnePerAz', availabilityZoneCount: 3 });
    await settled();
    const vpc = one('awsx:ec2:Vpc').inputs;
    assert.deepEqual(vpc.natGateways, { strategy: 'OnePerAz' });
    assert.equal(vpc.numberOfAvailabilityZones, 3);
  });

  it('adds an S3 gateway endpoint on the private route tables', async () => {
    new Network('net', { environmentName: 'staging', ...networkDefaults });
    await settled();
    const endpoint = one('aws:ec2/vpcEndpoint:VpcEndpoint').inputs;
    assert.equal(endpoint.vpcEndpointType, 'Gateway');
    assert.equal(endpoint.serviceName, 'com.amazonaws.us-east-1.s3');
    assert.deepEqual(endpoint.routeTableIds, ['rtb-priv-a', 'rtb-priv-b']);
  });
});
