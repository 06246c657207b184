/** Conventions every component shares: tags, SSM parameter paths, generated passwords. */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';

export const PROJECT_TAG = 'grading-stack';

/** Explicit tags (aws v7 does not merge provider default tags into `tags`). */
export function tagsFor(environmentName: string, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Project: PROJECT_TAG, Environment: environmentName, Component: component, ManagedBy: 'pulumi', ...extra };
}

/** `/<env>/<area>/<name>`, the layout docs/architecture.md lists and the worker reads. */
export function parameterName(environmentName: string, area: 'mq' | 'db' | 'judge0' | 'review' | 'web', name: string): string {
  return `/${environmentName}/${area}/${name}`;
}

export interface ParameterSpec {
  name: string;
  value: pulumi.Input<string>;
  description: string;
  secure: boolean;
}

/** An SSM parameter; secure ones are SecureString under the account's aws/ssm key. */
export function ssmParameter(
  resourceName: string,
  spec: ParameterSpec,
  tags: Record<string, string>,
  parent: pulumi.Resource,
): aws.ssm.Parameter {
  return new aws.ssm.Parameter(
    resourceName,
    {
      name: spec.name,
      type: spec.secure ? 'SecureString' : 'String',
      value: spec.secure ? pulumi.secret(spec.value) : spec.value,
      description: spec.description,
      tier: 'Standard',
      tags,
    },
    { parent },
  );
}

/** Special characters of generated passwords: none of Amazon MQ's (, : =) nor RDS MySQL's (/ " @ space). */
export const GENERATED_PASSWORD_SPECIALS = '!#$%^&*()-_+[]{}<>?';

/**
 * The password given in config (a Pulumi secret), or a generated one (letters, digits and
 * GENERATED_PASSWORD_SPECIALS), which suits both Amazon MQ and RDS MySQL.
 */
export function passwordOrGenerated(
  resourceName: string,
  provided: pulumi.Input<string> | undefined,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  if (provided !== undefined) return pulumi.secret(provided);
  const generated = new random.RandomPassword(
    resourceName,
    { length: 32, special: true, overrideSpecial: GENERATED_PASSWORD_SPECIALS, minLower: 2, minUpper: 2, minNumeric: 2, minSpecial: 1 },
    { parent },
  );
  return pulumi.secret(generated.result);
}

/**
 * A generated secret of letters and digits only, for places that parse it as a bare word: Judge0
 * puts its PostgreSQL password unquoted into YAML (config/database.yml), so no special character
 * may appear there.
 */
export function generatedWord(resourceName: string, parent: pulumi.Resource): pulumi.Output<string> {
  const spec = { length: 40, special: false, minLower: 2, minUpper: 2, minNumeric: 2 };
  const generated = new random.RandomPassword(resourceName, spec, { parent });
  return pulumi.secret(generated.result);
}
