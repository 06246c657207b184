/**
 * The bucket an ALB writes its access logs to: private, SSE-S3 (the only encryption ELB log delivery
 * supports), TLS-only, versioned, logs expiring after the retention period, and a policy that lets
 * Elastic Load Balancing put objects under `<prefix>/AWSLogs/<account>/` and nothing else.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { bucketPrefix, denyInsecureTransport } from './storage';

export const ALB_LOG_PREFIX = 'alb';

export interface AlbLogBucketArgs {
  environmentName: string;
  account: pulumi.Input<string>;
  /** Days before log objects expire. */
  retentionDays: number;
  tags: Record<string, string>;
}

export interface AlbLogBucket {
  bucketName: pulumi.Output<string>;
  prefix: string;
  /** The bucket policy: the ALB must wait for it (ELB checks write access when logging is enabled). */
  policy: aws.s3.BucketPolicy;
}

export function albLogBucket(name: string, args: AlbLogBucketArgs, parent: pulumi.Resource): AlbLogBucket {
  const opts = { parent };
  const tags = args.tags;
  const bucket = new aws.s3.Bucket(name, { bucketPrefix: bucketPrefix(args.environmentName, 'alb-logs'), forceDestroy: false, tags }, opts);
  new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, opts);
  new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] },
    opts,
  );
  new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, opts);
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: 'expire-logs',
          status: 'Enabled',
          filter: { prefix: '' },
          expiration: { days: args.retentionDays },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
        {
          id: 'abort-incomplete-uploads',
          status: 'Enabled',
          filter: { prefix: '' },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    opts,
  );
  // Regions from before August 2022 deliver as the regional ELB account, newer ones as the service principal.
  const elbAccount = aws.elb.getServiceAccountOutput({}, opts);
  const tlsOnly = denyInsecureTransport(bucket.arn);
  const policy = new aws.s3.BucketPolicy(
    `${name}-policy`,
    {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: '2012-10-17',
        Statement: [
          ...tlsOnly.Statement,
          {
            Sid: 'AllowElbLogDelivery',
            Effect: 'Allow',
            Principal: { AWS: elbAccount.arn, Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: pulumi.interpolate`${bucket.arn}/${ALB_LOG_PREFIX}/AWSLogs/${args.account}/*`,
          },
        ],
      }),
    },
    opts,
  );
  return { bucketName: bucket.bucket, prefix: ALB_LOG_PREFIX, policy };
}
