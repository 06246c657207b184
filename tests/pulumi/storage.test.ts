import assert from 'node:assert/strict';
import { Storage } from '../../components/storage';
import { DEFAULTS } from '../../components/config';
import { storageDefaults } from './configDefaults';
import { one, ofType, promiseOf, settled, useMocks } from './harness';

describe('Storage', () => {
  beforeEach(() => useMocks());

  it('names the bucket by the prefix <env>-grading-files- (S3 completes it), encrypts it with AES-256 and blocks all public access', async () => {
    const storage = new Storage('s', { environmentName: 'staging', ...storageDefaults });
    await settled();
    const bucket = one('aws:s3/bucket:Bucket').inputs;
    assert.equal(bucket.bucket, undefined, 'no fixed global name: one can already be taken');
    assert.equal(bucket.bucketPrefix, 'staging-grading-files-');
    assert.match(await promiseOf(storage.bucketName), /^staging-grading-files-[a-z0-9]+$/);
    const sse = one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs;
    assert.equal(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, 'AES256');
    const pab = one('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs;
    for (const key of ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'])
      assert.equal(pab[key], true, key);
    assert.equal(one('aws:s3/bucketOwnershipControls:BucketOwnershipControls').inputs.rule.objectOwnership, 'BucketOwnerEnforced');
  });

  it('uses SSE-KMS with a bucket key when a key is given', async () => {
    new Storage('s', { environmentName: 'staging', ...storageDefaults, kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abc' });
    await settled();
    const rule = one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs.rules[0];
    assert.deepEqual(rule.applyServerSideEncryptionByDefault, {
      sseAlgorithm: 'aws:kms',
      kmsMasterKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abc',
    });
    assert.equal(rule.bucketKeyEnabled, true);
  });

  it('denies every request without TLS, on the bucket and its objects', async () => {
    new Storage('s', { environmentName: 'staging', ...storageDefaults });
    await settled();
    const policy = JSON.parse(one('aws:s3/bucketPolicy:BucketPolicy').inputs.policy);
    const [statement] = policy.Statement;
    assert.equal(statement.Effect, 'Deny');
    assert.equal(statement.Principal, '*');
    assert.equal(statement.Action, 's3:*');
    const arn = `arn:aws:s3:::${one('aws:s3/bucket:Bucket').inputs.bucketPrefix}20261123000000000000000001`;
    assert.deepEqual(statement.Resource, [arn, `${arn}/*`]);
    assert.deepEqual(statement.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('expires temp/ after 1 day and submissions/ and results/ after the configured days, never problems/', async () => {
    new Storage('s', { environmentName: 'staging', ...storageDefaults, expirationDays: 90, noncurrentVersionExpirationDays: 14 });
    await settled();
    const rules: Array<Record<string, any>> = one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules; // eslint-disable-line @typescript-eslint/no-explicit-any
    const byPrefix = (p: string) => rules.find((r) => r.filter?.prefix === p && r.expiration);
    assert.equal(byPrefix('temp/')?.expiration.days, 1);
    assert.equal(byPrefix('submissions/')?.expiration.days, 90);
    assert.equal(byPrefix('results/')?.expiration.days, 90);
    assert.equal(byPrefix('problems/'), undefined);
    assert.equal(rules.find((r) => r.id === 'expire-noncurrent-versions')?.noncurrentVersionExpiration.noncurrentDays, 14);
    assert.ok(rules.every((r) => r.status === 'Enabled'));
  });

  it('keeps only the temp/ rule when lifecycle is off, and suspends versioning when asked', async () => {
    new Storage('s', { environmentName: 'staging', ...storageDefaults, lifecycle: false, versioning: false });
    await settled();
    const rules = one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules;
    assert.deepEqual(
      rules.map((r: { id: string }) => r.id),
      ['expire-temp', 'abort-incomplete-uploads'],
    );
    assert.equal(one('aws:s3/bucketVersioning:BucketVersioning').inputs.versioningConfiguration.status, 'Suspended');
  });

  it('enables versioning and expires after the configured days by default, and protects the bucket', async () => {
    new Storage('s', { environmentName: 'staging', ...storageDefaults });
    await settled();
    assert.equal(DEFAULTS.enableS3Versioning, true);
    assert.equal(one('aws:s3/bucketVersioning:BucketVersioning').inputs.versioningConfiguration.status, 'Enabled');
    const rules: Array<Record<string, any>> = one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(rules.find((r) => r.id === 'expire-submissions')?.expiration.days, DEFAULTS.s3LifecycleExpirationDays);
    const noncurrent = rules.find((r) => r.id === 'expire-noncurrent-versions')?.noncurrentVersionExpiration.noncurrentDays;
    assert.equal(noncurrent, DEFAULTS.s3NoncurrentVersionExpirationDays);
    assert.equal(one('aws:s3/bucket:Bucket').options?.protect, true);
    assert.equal(ofType('aws:s3/bucket:Bucket')[0].inputs.tags.Environment, 'staging');
  });
});
