import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import { Database } from '../../components/database';
import { DEFAULTS } from '../../components/config';
import { databaseDefaults } from './configDefaults';
import { generatedSecret, ofType, one, promiseOf, settled, useMocks } from './harness';

const base = {
  environmentName: 'staging',
  vpcId: 'vpc-1',
  privateSubnetIds: ['subnet-a', 'subnet-b'],
  clientSecurityGroupIds: ['sg-worker'],
  ...databaseDefaults,
};

describe('Database', () => {
  beforeEach(() => useMocks());

  it('runs encrypted MySQL 8 in private subnets, not public, with 7 days of backups', async () => {
    new Database('db', base);
    await settled();
    const db = one('aws:rds/instance:Instance').inputs;
    assert.equal(db.engine, 'mysql');
    assert.equal(db.engineVersion, DEFAULTS.dbEngineVersion);
    assert.equal(one('aws:rds/parameterGroup:ParameterGroup').inputs.family, `mysql${DEFAULTS.dbEngineVersion}`);
    assert.equal(db.instanceClass, DEFAULTS.dbInstanceClass);
    assert.equal(db.allocatedStorage, DEFAULTS.dbAllocatedStorage);
    assert.equal(db.maxAllocatedStorage, DEFAULTS.dbMaxAllocatedStorage);
    assert.equal(db.username, DEFAULTS.dbUsername);
    assert.equal(db.multiAz, DEFAULTS.dbMultiAz);
    assert.equal(db.allowMajorVersionUpgrade, true);
    assert.equal(db.storageEncrypted, true);
    assert.equal(db.publiclyAccessible, false);
    assert.equal(db.backupRetentionPeriod, DEFAULTS.dbBackupRetentionDays);
    assert.equal(db.dbName, 'grading');
    assert.deepEqual(one('aws:rds/subnetGroup:SubnetGroup').inputs.subnetIds, ['subnet-a', 'subnet-b']);
    const params = one('aws:rds/parameterGroup:ParameterGroup').inputs.parameters;
    assert.ok(params.some((p: { name: string; value: string }) => p.name === 'require_secure_transport' && p.value === '1'));
  });

  it('protects production: deletion protection and a final snapshot', async () => {
    new Database('db', { ...base, environmentName: 'production', production: true, deletionProtection: true });
    await settled();
    const db = one('aws:rds/instance:Instance').inputs;
    assert.equal(db.deletionProtection, true);
    assert.equal(db.skipFinalSnapshot, false);
    assert.equal(db.finalSnapshotIdentifier, 'production-grading-final');
  });

  it('lets non-production stacks be destroyed', async () => {
    new Database('db', base);
    await settled();
    const db = one('aws:rds/instance:Instance').inputs;
    assert.equal(db.deletionProtection, false);
    assert.equal(db.skipFinalSnapshot, true);
  });

  it('accepts MySQL only from the client security groups', async () => {
    new Database('db', base);
    await settled();
    const rules = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => r.inputs);
    assert.equal(rules.length, 1);
    assert.equal(rules[0].referencedSecurityGroupId, 'sg-worker');
    assert.equal(rules[0].fromPort, 3306);
    assert.equal(rules[0].cidrIpv4, undefined);
  });

  it('stores endpoint and credentials in SSM with the password as SecureString and a secret output', async () => {
    const d = new Database('db', base);
    await settled();
    const params = Object.fromEntries(ofType('aws:ssm/parameter:Parameter').map((p) => [p.inputs.name, p.inputs]));
    assert.equal(params['/staging/db/endpoint'].value, 'staging-grading.abc.us-east-1.rds.amazonaws.com:3306');
    assert.equal(params['/staging/db/password'].type, 'SecureString');
    assert.equal(params['/staging/db/password'].value, generatedSecret('db-password'));
    assert.ok(await pulumi.isSecret(d.password));
    assert.equal(await promiseOf(d.port), 3306);
  });

  it('generates a user per tier, each with its own password in its own SecureString parameters', async () => {
    const d = new Database('db', base);
    await settled();
    const params = Object.fromEntries(ofType('aws:ssm/parameter:Parameter').map((p) => [p.inputs.name, p]));
    assert.deepEqual(d.tierParameterNames, {
      gateway: { endpoint: '/staging/db/endpoint', username: '/staging/db/gateway/username', password: '/staging/db/gateway/password' },
      worker: { endpoint: '/staging/db/endpoint', username: '/staging/db/worker/username', password: '/staging/db/worker/password' },
    });
    for (const tier of ['gateway', 'worker'] as const) {
      for (const key of ['username', 'password'] as const) {
        const param = params[`/staging/db/${tier}/${key}`];
        assert.equal(param.inputs.type, 'SecureString', `${tier} ${key}`);
        assert.ok(param.secretPaths.includes('value'), `${tier} ${key} is a secret`);
      }
      assert.equal(params[`/staging/db/${tier}/username`].inputs.value, `grading_${tier}`);
      assert.equal(params[`/staging/db/${tier}/password`].inputs.value, generatedSecret(`db-${tier}-password`));
    }
    const passwords = ['/staging/db/password', '/staging/db/gateway/password', '/staging/db/worker/password'].map(
      (n) => params[n].inputs.value,
    );
    assert.equal(new Set(passwords).size, 3, "no tier shares the master password or the other tier's");
  });
});
