import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebTier, ecrRepositoryArnOf, gatewayUserData } from '../../components/webTier';
import { dockerRun } from '../boot/shippedArtifacts';
import { DEFAULTS } from '../../components/config';
import { webTierDefaults } from './configDefaults';
import { generatedSecret, ofType, one, promiseOf, settled, useMocks } from './harness';

const base = {
  environmentName: 'staging',
  vpcId: 'vpc-1',
  publicSubnetIds: ['subnet-pub-a', 'subnet-pub-b'],
  privateSubnetIds: ['subnet-a', 'subnet-b'],
  webSecurityGroupId: 'sg-web',
  brokerSecurityGroupId: 'sg-broker',
  databaseSecurityGroupId: 'sg-db',
  bucketName: 'staging-grading-files',
  bucketArn: 'arn:aws:s3:::staging-grading-files',
  parameters: {
    mq: { endpoint: '/staging/mq/broker-endpoint', username: '/staging/mq/username', password: '/staging/mq/password' },
    db: { endpoint: '/staging/db/endpoint', username: '/staging/db/gateway/username', password: '/staging/db/gateway/password' },
  },
  auth: {
    mode: 'oidc' as const,
    issuer: 'https://login.example.com/',
    audience: 'grading',
    jwksUrl: 'https://login.example.com/.well-known/jwks.json',
  },
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/staging-grading-worker:abc',
  repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/staging-grading-worker',
  ...webTierDefaults,
};

describe('WebTier', () => {
  beforeEach(() => useMocks());

  it('chains security groups: internet -> ALB on 80 -> instances on 3000', async () => {
    new WebTier('web', base);
    await settled();
    const albSg = one('aws:ec2/securityGroup:SecurityGroup', 'alb-sg').id;
    const ingress = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map((r) => r.inputs);
    const toAlb = ingress.filter((r) => r.securityGroupId === albSg);
    assert.deepEqual(toAlb.map((r) => [r.fromPort, r.cidrIpv4 ?? r.cidrIpv6]).sort(), [
      [80, '0.0.0.0/0'],
      [80, '::/0'],
    ]);
    const toInstances = ingress.filter((r) => r.securityGroupId === 'sg-web');
    assert.deepEqual(
      toInstances.map((r) => [r.fromPort, r.referencedSecurityGroupId]),
      [[3000, albSg]],
    );
    assert.equal(one('aws:lb/listener:Listener').inputs.defaultActions[0].type, 'forward');
  });

  it('serves HTTPS with the certificate and redirects HTTP when a certificate is configured', async () => {
    new WebTier('web', { ...base, certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' });
    await settled();
    const listeners = Object.fromEntries(ofType('aws:lb/listener:Listener').map((l) => [l.inputs.port, l.inputs]));
    assert.deepEqual(listeners[80].defaultActions[0], {
      type: 'redirect',
      redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' },
    });
    assert.equal(listeners[443].certificateArn, 'arn:aws:acm:us-east-1:123456789012:certificate/abc');
    assert.match(listeners[443].sslPolicy, /TLS13/);
    const ports = ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')
      .filter((r) => r.inputs.cidrIpv4 === '0.0.0.0/0')
      .map((r) => r.inputs.fromPort);
    assert.deepEqual(ports.sort(), [443, 80]);
  });

  it('health-checks liveness (/health/live: a database blip must not recycle every gateway) and runs instances in private subnets with IMDSv2 and encrypted disks', async () => {
    new WebTier('web', base);
    await settled();
    assert.equal(one('aws:lb/targetGroup:TargetGroup').inputs.healthCheck.path, '/health/live');
    const asg = one('aws:autoscaling/group:Group').inputs;
    assert.deepEqual(asg.vpcZoneIdentifiers, ['subnet-a', 'subnet-b']);
    assert.equal(asg.healthCheckType, 'ELB');
    const lt = one('aws:ec2/launchTemplate:LaunchTemplate').inputs;
    assert.equal(lt.metadataOptions.httpTokens, 'required');
    assert.equal(lt.blockDeviceMappings[0].ebs.encrypted, 'true');
    const userData = Buffer.from(lt.userData, 'base64').toString();
    assert.match(userData, /node dist\/web\/src\/main\.js/);
    assert.match(userData, /-e DB_PASSWORD_PARAM=\/staging\/db\/gateway\/password/);
    assert.doesNotMatch(userData, /DB_PASSWORD=|MQ_PASSWORD=/);
  });

  it('lets instances store and read back submissions and read results and problems, nothing more in the bucket', async () => {
    new WebTier('web', base);
    await settled();
    const policy = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    const bySid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    assert.deepEqual(bySid.StoreSubmissions, {
      Sid: 'StoreSubmissions',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject'],
      Resource: 'arn:aws:s3:::staging-grading-files/submissions/*',
    });
    assert.ok(!JSON.stringify(policy).includes('/review/'), 'no review key to read when review is off');
    assert.deepEqual(
      ofType('aws:ssm/parameter:Parameter').map((p) => p.inputs.name),
      ['/staging/web/webhook-secret'],
      'only the webhook signing key',
    );
    assert.equal(bySid.ReadResults.Resource, 'arn:aws:s3:::staging-grading-files/results/*');
    assert.deepEqual(bySid.ListBucket, {
      Sid: 'ListBucket',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::staging-grading-files',
    });
    // Statements and manifests (web/src/problems.ts), never test inputs or expected outputs.
    assert.deepEqual(bySid.ReadProblemStatements.Resource, [
      'arn:aws:s3:::staging-grading-files/problems/*/description.md',
      'arn:aws:s3:::staging-grading-files/problems/*/testcases/manifest.json',
    ]);
    const reads = policy.Statement.filter((s: { Action: string | string[] }) => [s.Action].flat().includes('s3:GetObject')).flatMap(
      (s: { Resource: string | string[] }) => [s.Resource].flat(),
    );
    for (const resource of reads)
      assert.doesNotMatch(resource, /problems\/\*$|testcases\/\*|\.(in|out)$/, `${resource} would expose test data`);
    assert.equal(bySid.PullGatewayImage.Resource, base.repositoryArn);
    const wildcard = policy.Statement.filter((s: { Resource: unknown }) => s.Resource === '*');
    assert.deepEqual(
      wildcard.map((s: { Action: string }) => s.Action),
      ['ecr:GetAuthorizationToken'],
      'only the ECR login, which has no resource-level permission',
    );
  });

  it('follows the launch template version with a rolling instance refresh, and scales on CPU', async () => {
    new WebTier('web', { ...base, cpuTargetValue: 55 });
    await settled();
    const asg = one('aws:autoscaling/group:Group').inputs;
    // The mock's launch template reports latestVersion 3: the group names that number, not $Latest.
    assert.equal(asg.launchTemplate.version, '3');
    assert.deepEqual(asg.instanceRefresh, { strategy: 'Rolling', preferences: { minHealthyPercentage: 50 } });
    assert.equal(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.updateDefaultVersion, true);
    assert.deepEqual(one('aws:autoscaling/group:Group').options?.ignoreChanges, ['desiredCapacity'], 'scaling owns the count');
    const policy = one('aws:autoscaling/policy:Policy').inputs;
    assert.deepEqual(
      [
        policy.policyType,
        policy.targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType,
        policy.targetTrackingConfiguration.targetValue,
      ],
      ['TargetTrackingScaling', 'ASGAverageCPUUtilization', 55],
    );
  });

  it('sizes the group and its instances from the config defaults', async () => {
    new WebTier('web', base);
    await settled();
    const asg = one('aws:autoscaling/group:Group').inputs;
    assert.deepEqual(
      [asg.minSize, asg.maxSize, asg.desiredCapacity],
      [DEFAULTS.webMinSize, DEFAULTS.webMaxSize, DEFAULTS.webDesiredCapacity],
    );
    assert.equal(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.instanceType, DEFAULTS.webInstanceType);
    assert.equal(one('aws:autoscaling/policy:Policy').inputs.targetTrackingConfiguration.targetValue, DEFAULTS.webCpuTargetValue);
    const logs = ofType('aws:cloudwatch/logGroup:LogGroup').map((g) => g.inputs.retentionInDays);
    assert.deepEqual(logs, [DEFAULTS.logRetentionDays]);
  });

  it('drops invalid headers and writes access logs to a private bucket ELB may write to', async () => {
    const web = new WebTier('web', base);
    await settled();
    const alb = one('aws:lb/loadBalancer:LoadBalancer').inputs;
    assert.equal(alb.dropInvalidHeaderFields, true);
    const bucket = one('aws:s3/bucket:Bucket', 'alb-logs');
    assert.equal(bucket.inputs.bucket, undefined, 'no fixed global name');
    assert.equal(bucket.inputs.bucketPrefix, 'staging-alb-logs-');
    const bucketName = await promiseOf(web.accessLogBucketName);
    assert.deepEqual(alb.accessLogs, { bucket: bucketName, prefix: 'alb', enabled: true });
    assert.deepEqual(one('aws:lb/loadBalancer:LoadBalancer').options?.dependsOn, ['aws:s3/bucketPolicy:BucketPolicy::web-alb-logs-policy']);
    assert.equal(
      one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs.rules[0]
        .applyServerSideEncryptionByDefault.sseAlgorithm,
      'AES256',
    );
    const doc = JSON.parse(one('aws:s3/bucketPolicy:BucketPolicy').inputs.policy);
    const delivery = doc.Statement.find((s: { Sid: string }) => s.Sid === 'AllowElbLogDelivery');
    assert.deepEqual(delivery, {
      Sid: 'AllowElbLogDelivery',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::127311923021:root', Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${bucketName}/alb/AWSLogs/123456789012/*`,
    });
    assert.ok(
      doc.Statement.some(
        (s: { Effect: string; Condition?: unknown }) =>
          s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
      ),
    );
  });

  it("sends the gateway container's output to a CloudWatch log group with retention, which the role may write", async () => {
    new WebTier('web', { ...base, logRetentionDays: 90 });
    await settled();
    const group = one('aws:cloudwatch/logGroup:LogGroup').inputs;
    assert.deepEqual([group.name, group.retentionInDays], ['/grading/staging/gateway', 90]);
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    assert.match(userData, /--log-driver awslogs --log-opt awslogs-region=us-east-1 --log-opt awslogs-group=\/grading\/staging\/gateway /);
    const policy = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    const logs = policy.Statement.find((s: { Sid: string }) => s.Sid === 'WriteGatewayLogs');
    assert.deepEqual(logs.Action, ['logs:CreateLogStream', 'logs:PutLogEvents']);
    assert.match(logs.Resource, /^arn:aws:mock:us-east-1:123456789012:LogGroup\/web-logs:log-stream:\*$/);
  });

  it('pulls a prebuilt ECR graderImage with rights on that repository, logging in to its region', () => {
    assert.equal(
      ecrRepositoryArnOf('111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/grader:1.2.3'),
      'arn:aws:ecr:eu-west-1:111122223333:repository/team/grader',
    );
    assert.equal(
      ecrRepositoryArnOf(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/grader@sha256:${'a'.repeat(64)}`),
      'arn:aws:ecr:eu-west-1:111122223333:repository/grader',
    );
    assert.equal(ecrRepositoryArnOf('ghcr.io/acme/grader:1'), undefined);
    const userData = gatewayUserData({
      image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/grader:1',
      region: 'us-east-1',
      bucket: 'b',
      environment: 'staging',
      parameters: base.parameters,
      auth: base.auth,
    });
    assert.match(
      userData,
      /aws ecr get-login-password --region eu-west-1 \| docker login --username AWS --password-stdin 111122223333\.dkr\.ecr\.eu-west-1\.amazonaws\.com/,
    );
  });

  it('boots: the user data runs under bash and hands docker every value exactly, whatever characters it holds', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-boot-'));
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    for (const name of ['dnf', 'systemctl']) stub(name, 'exit 0');
    stub('aws', 'echo registry-password');
    // One file per docker call, one argument per line.
    stub('docker', `n=$(ls "${dir}"/call-* 2>/dev/null | wc -l); printf '%s\\n' "$@" > "${dir}/call-$n"; cat > /dev/null`);
    // A URL with & $( ) and a quote, a model name with spaces: each must reach the container unchanged.
    const review = {
      baseUrl: "https://llm.example.com/v1?a=1&b=$(id)'x",
      model: 'model with spaces',
      apiKeyParameter: '/staging/review/api-key',
    };
    const script = gatewayUserData({
      ...base,
      region: 'us-east-1',
      bucket: 'staging-grading-files-abc',
      environment: 'staging',
      review,
      logGroupName: '/grading/staging/gateway',
    });
    const file = path.join(dir, 'user-data.sh');
    fs.writeFileSync(file, script);
    execFileSync('shellcheck', ['-s', 'bash', '-e', 'SC2016', file]);
    execFileSync('bash', [file], { env: { PATH: `${dir}:/usr/bin:/bin` } });
    const calls = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('call-'))
      .sort()
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(0, -1));
    assert.deepEqual(calls[0], ['login', '--username', 'AWS', '--password-stdin', '123456789012.dkr.ecr.us-east-1.amazonaws.com']);
    const run = calls[1];
    assert.equal(run[0], 'run');
    const envOf = (name: string) => run.find((arg, i) => run[i - 1] === '-e' && arg.startsWith(`${name}=`))?.slice(name.length + 1);
    assert.equal(envOf('REVIEW_BASE_URL'), review.baseUrl);
    assert.equal(envOf('REVIEW_MODEL'), review.model);
    assert.equal(envOf('GRADING_BUCKET'), 'staging-grading-files-abc');
    assert.equal(envOf('MQ_PASSWORD_PARAM'), '/staging/mq/password');
    assert.deepEqual(run.slice(-3), [base.image, 'node', 'dist/web/src/main.js']);
    assert.ok(run.includes('tag=gateway/{{.ID}}') && run.includes('awslogs-group=/grading/staging/gateway'));
  });

  it('passes the OIDC settings to the gateway container and creates no HMAC secret', async () => {
    new WebTier('web', { ...base, auth: { ...base.auth, rolesClaim: 'realm_access.roles' } });
    await settled();
    const run = dockerRun(Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString());
    const auth = Object.fromEntries(Object.entries(run.env).filter(([k]) => k.startsWith('AUTH_')));
    assert.deepEqual(auth, {
      AUTH_MODE: 'oidc',
      AUTH_ISSUER: 'https://login.example.com/',
      AUTH_AUDIENCE: 'grading',
      AUTH_JWKS_URL: 'https://login.example.com/.well-known/jwks.json',
      AUTH_ROLES_CLAIM: 'realm_access.roles',
    });
    assert.deepEqual(
      ofType('random:index/randomPassword:RandomPassword').filter((r) => r.name.includes('auth')),
      [],
    );
  });

  it('hmac: generates the secret into a SecureString only the gateway role reads, and passes its name, never the value', async () => {
    new WebTier('web', { ...base, auth: { mode: 'hmac', issuer: 'https://www.example.com/', audience: 'grading' } });
    await settled();
    const param = one('aws:ssm/parameter:Parameter', 'auth-hmac-secret');
    assert.equal(param.inputs.name, '/staging/web/auth-hmac-secret');
    assert.equal(param.inputs.type, 'SecureString');
    assert.ok(param.secretPaths.includes('value'));
    const generated = one('random:index/randomPassword:RandomPassword', 'auth-hmac-secret').inputs;
    assert.ok(generated.length >= 32 && generated.special === false, "at least 32 bytes (the gateway's minimum)");
    assert.equal(param.inputs.value, generatedSecret('web-auth-hmac-secret'));
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    const run = dockerRun(userData);
    assert.equal(run.env.AUTH_MODE, 'hmac');
    assert.equal(run.env.AUTH_HMAC_SECRET_PARAM, '/staging/web/auth-hmac-secret');
    assert.equal(run.env.AUTH_ISSUER, 'https://www.example.com/');
    assert.equal(run.env.AUTH_AUDIENCE, 'grading');
    assert.ok(!('AUTH_HMAC_SECRET' in run.env) && !('AUTH_JWKS_URL' in run.env));
    assert.ok(!userData.includes(generatedSecret('web-auth-hmac-secret')), 'no secret in the user data');
    const reads = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy).Statement.find(
      (s: { Sid: string }) => s.Sid === 'ReadOwnParameters',
    ).Resource;
    assert.ok(reads.includes('arn:aws:ssm:us-east-1:123456789012:parameter/staging/web/auth-hmac-secret'));
  });

  it('webhooks: a generated signing key in a SecureString only the gateway role reads, its name and the site URL passed, HTTPS out on 443', async () => {
    new WebTier('web', { ...base, webhooks: { url: 'https://hooks.example.com/grading' } });
    await settled();
    const param = one('aws:ssm/parameter:Parameter', 'webhook-secret');
    assert.equal(param.inputs.name, '/staging/web/webhook-secret');
    assert.equal(param.inputs.type, 'SecureString');
    assert.ok(param.secretPaths.includes('value'));
    assert.ok(one('random:index/randomPassword:RandomPassword', 'webhook-secret').inputs.length >= 32, 'the gateway refuses fewer than 32');
    assert.equal(param.inputs.value, generatedSecret('web-webhook-secret'));
    const userData = Buffer.from(one('aws:ec2/launchTemplate:LaunchTemplate').inputs.userData, 'base64').toString();
    const { env } = dockerRun(userData);
    assert.equal(env.WEBHOOK_SECRET_PARAM, '/staging/web/webhook-secret');
    assert.equal(env.WEBHOOK_URL, 'https://hooks.example.com/grading');
    assert.ok(!('WEBHOOK_SECRET' in env) && !userData.includes(generatedSecret('web-webhook-secret')), 'no secret in the user data');
    const reads = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy).Statement.find(
      (s: { Sid: string }) => s.Sid === 'ReadOwnParameters',
    ).Resource;
    assert.ok(reads.includes('arn:aws:ssm:us-east-1:123456789012:parameter/staging/web/webhook-secret'));
    // Deliveries leave on 443 only (the gateway refuses callback URLs on other ports in production).
    const https = one('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule', 'instances-egress-https').inputs;
    assert.deepEqual([https.fromPort, https.toPort, https.cidrIpv4], [443, 443, '0.0.0.0/0']);
  });
});
