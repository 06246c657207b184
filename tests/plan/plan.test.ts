/** The offline plan: the production stack plans with zero violations; bad settings are caught. */
import assert from 'node:assert/strict';
import { checkPolicies, plan, readStackConfig } from '../../scripts/plan';

describe('offline plan', function () {
  this.timeout(60_000);

  it('plans the production stack with zero policy violations', async () => {
    const result = await plan('production', readStackConfig('production'));
    assert.deepEqual(result.violations, []);
    for (const component of ['Network', 'Storage', 'Messaging', 'Database', 'EcsGrading', 'Judge0Host', 'WebTier', 'Alarms']) {
      assert.match(result.tree, new RegExp(`■ grading:index:${component} production-`), `tree lacks ${component}`);
    }
    assert.match(
      result.tree,
      /aws:mq\/broker:Broker production-mq-broker {2}\[engine=ActiveMQ 5\.18, instance=mq\.m5\.large, mode=ACTIVE_STANDBY_MULTI_AZ, public=false\]/,
    );
    assert.match(result.tree, /aws:appautoscaling\/target:Target production-workers-scaling-target {2}\[min=1, max=10\]/);
    assert.match(result.tree, /^ {2}- aws:rds\/instance:Instance production-db-mysql/m, 'children are nested under their component');
    // The deploy breakers of issue 13, as the plan shows them.
    assert.match(result.tree, /aws:rds\/parameterGroup:ParameterGroup production-db-params {2}\[family=mysql8\.4, tls=1\]/);
    assert.match(result.tree, /aws:lb\/loadBalancer:LoadBalancer production-judge0-nlb {2}\[type=network, internal=true\]/);
    assert.match(
      result.tree,
      /aws:lb\/loadBalancer:LoadBalancer production-web-alb {2}\[type=application, internal=false, dropInvalidHeaders=true, accessLogs=true\]/,
    );
    assert.match(
      result.tree,
      /aws:autoscaling\/group:Group production-web-asg {2}\[min=2, max=4, desired=2, template=3, refresh=Rolling\]/,
    );
    assert.match(result.tree, /aws:lb\/listener:Listener production-web-http {2}\[port=80, protocol=HTTP, action=redirect\]/);
    assert.match(result.tree, /aws:s3\/bucket:Bucket production-storage-bucket {2}\[prefix=production-grading-files-\]/);
    assert.match(result.tree, /aws:ecr\/repository:Repository production-workers-repo {2}\[tags=MUTABLE\]/);
    assert.match(result.mermaid, /^flowchart LR/);
    assert.match(result.mermaid, /ecs -->\|HTTP 2358\| judge0/);
    assert.match(result.svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('reports the production rules a weaker config breaks', async () => {
    const config = {
      ...readStackConfig('production'),
      mqDeploymentMode: 'SINGLE_INSTANCE',
      mqInstanceType: 'mq.m5.large',
      deletionProtection: false,
      enableS3Versioning: false,
    };
    const result = await plan('production', config);
    const policies = result.violations
      .filter((v) => v.enforcement === 'mandatory' && !v.policy.startsWith('sns-topic'))
      .map((v) => v.policy)
      .sort();
    assert.deepEqual(policies, ['mq-multi-az-in-production', 'rds-deletion-protection-in-production', 's3-versioning-in-production']);
  });

  it('catches a resource that breaks a rule', () => {
    const violations = checkPolicies(
      [
        {
          type: 'aws:ec2/instance:Instance',
          name: 'bastion',
          id: 'i-1',
          secretPaths: [],
          inputs: { metadataOptions: { httpTokens: 'optional' }, rootBlockDevice: { encrypted: true } },
        },
      ],
      'staging',
    );
    assert.deepEqual(violations, [
      {
        policy: 'ec2-imdsv2-required',
        enforcement: 'mandatory',
        resource: 'aws:ec2/instance:Instance bastion',
        message: 'EC2 instance bastion must require IMDSv2 (metadataOptions.httpTokens = "required").',
      },
    ]);
  });
});
