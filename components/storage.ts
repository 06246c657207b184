/**
 * The grading bucket `<env>-grading-files-<suffix>` (S3 names are global: a fixed name can already be
 * taken, so AWS completes the prefix): submissions/, problems/, results/, temp/ (docs/architecture.md).
 * Encrypted, never public, TLS only, versioned if asked; lifecycle rules keep it from growing
 * forever, but never expire problems/ (the test cases).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { tagsFor } from './common';

export const BUCKET_PREFIXES = { submissions: 'submissions/', problems: 'problems/', results: 'results/', temp: 'temp/' } as const;

export interface StorageArgs {
  environmentName: string;
  versioning: boolean;
  /** Expire old submissions/ and results/ objects and noncurrent versions. */
  lifecycle: boolean;
  /** Days before submissions/ and results/ objects expire. */
  expirationDays: number;
  /** Days before noncurrent versions expire (with versioning). */
  noncurrentVersionExpirationDays: number;
  /** SSE-KMS with this key instead of SSE-S3 (AES-256). */
  kmsKeyArn?: pulumi.Input<string>;
}

export class Storage extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('grading:index:Storage', name, {}, opts);
    const tags = tagsFor(args.environmentName, 'Storage');
    const parent = { parent: this };

    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucketPrefix: bucketPrefix(args.environmentName, 'grading-files'), forceDestroy: false, tags },
      // Protected: the objects outlive a `pulumi destroy` (docs/deploy.md, Teardown).
      { parent: this, protect: true },
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;

    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } },
      parent,
    );

    new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );

    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: args.kmsKeyArn
              ? { sseAlgorithm: 'aws:kms', kmsMasterKeyId: args.kmsKeyArn }
              : { sseAlgorithm: 'AES256' },
            bucketKeyEnabled: args.kmsKeyArn ? true : undefined,
          },
        ],
      },
      parent,
    );

    const versioning = args.versioning;
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      // "Disabled" is valid only for a bucket that was never versioned; "Suspended" keeps old versions.
      { bucket: bucket.id, versioningConfiguration: { status: versioning ? 'Enabled' : 'Suspended' } },
      parent,
    );

    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, policy: pulumi.jsonStringify(denyInsecureTransport(bucket.arn)) },
      parent,
    );

    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket: bucket.id, rules: lifecycleRules({ ...args, versioning }) },
      parent,
    );

    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}

/** `<env>-<purpose>-`: S3 adds a unique suffix (prefixes may be at most 37 characters). */
export function bucketPrefix(environmentName: string, purpose: string): string {
  const prefix = `${environmentName}-${purpose}-`;
  if (prefix.length > 37) throw new Error(`bucket prefix ${prefix} is longer than S3's 37 characters`);
  return prefix;
}

export function denyInsecureTransport(bucketArn: pulumi.Input<string>) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucketArn, pulumi.interpolate`${bucketArn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

type LifecycleRule = aws.types.input.s3.BucketLifecycleConfigurationRule;

function lifecycleRules(args: StorageArgs & { versioning: boolean }): LifecycleRule[] {
  const rules: LifecycleRule[] = [
    // temp/ is scratch space: gone after a day, whatever else is configured.
    {
      id: 'expire-temp',
      status: 'Enabled',
      filter: { prefix: BUCKET_PREFIXES.temp },
      expiration: { days: 1 },
      noncurrentVersionExpiration: { noncurrentDays: 1 },
    },
    {
      id: 'abort-incomplete-uploads',
      status: 'Enabled',
      filter: { prefix: '' },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    },
  ];
  if (args.lifecycle) {
    for (const prefix of [BUCKET_PREFIXES.submissions, BUCKET_PREFIXES.results]) {
      rules.push({ id: `expire-${prefix.slice(0, -1)}`, status: 'Enabled', filter: { prefix }, expiration: { days: args.expirationDays } });
    }
    if (args.versioning) {
      rules.push({
        id: 'expire-noncurrent-versions',
        status: 'Enabled',
        filter: { prefix: '' },
        noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
      });
    }
  }
  return rules;
}
