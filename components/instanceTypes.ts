/**
 * Which instance types exist, so a stack config naming `t3.nonexistent` or `db.t4g.gigantic` fails
 * before `pulumi up` instead of halfway through it.
 *
 * - EC2: the provider's own enum (`@pulumi/aws` types/enums/ec2 InstanceType, generated from the
 *   EC2 API), so the list moves with the provider version.
 * - RDS: the provider's enum is old (it lacks db.m7g, db.r7g...), so it is joined with the MySQL
 *   DB instance class families of the RDS user guide ("Supported DB engines for DB instance classes")
 *   in every size that EC2 offers for the same family (no nano, no metal).
 * - Amazon MQ for ActiveMQ: a kept list from the Amazon MQ developer guide ("Broker instance types").
 */
import { ec2, rds } from '@pulumi/aws/types/enums';

export const EC2_INSTANCE_TYPES: ReadonlySet<string> = new Set(Object.values(ec2.InstanceType) as string[]);

/** RDS for MySQL instance class families (RDS user guide); x2g is RDS's name for EC2's x2gd. */
const RDS_MYSQL_FAMILIES = [
  't3',
  't4g',
  'm5',
  'm5d',
  'm6g',
  'm6gd',
  'm6i',
  'm6id',
  'm6idn',
  'm6in',
  'm7g',
  'm7i',
  'm8g',
  'r5',
  'r5b',
  'r5d',
  'r6g',
  'r6gd',
  'r6i',
  'r6id',
  'r6idn',
  'r6in',
  'r7g',
  'r7i',
  'r8g',
  'x2g',
  'x2idn',
  'x2iedn',
  'x2iezn',
  'z1d',
  'c6gd',
];
const RDS_EC2_FAMILY: Record<string, string> = { x2g: 'x2gd' };

export const RDS_INSTANCE_CLASSES: ReadonlySet<string> = new Set([
  ...(Object.values(rds.InstanceType) as string[]),
  ...RDS_MYSQL_FAMILIES.flatMap((family) =>
    [...EC2_INSTANCE_TYPES]
      .filter((t) => t.startsWith(`${RDS_EC2_FAMILY[family] ?? family}.`))
      .map((t) => t.split('.')[1])
      .filter((size) => size !== 'nano' && !size.startsWith('metal'))
      .map((size) => `db.${family}.${size}`),
  ),
]);

/** Amazon MQ for ActiveMQ broker instance types (Amazon MQ developer guide). */
export const MQ_ACTIVEMQ_INSTANCE_TYPES: ReadonlySet<string> = new Set([
  'mq.t2.micro',
  'mq.t3.micro',
  'mq.m4.large',
  'mq.m5.large',
  'mq.m5.xlarge',
  'mq.m5.2xlarge',
  'mq.m5.4xlarge',
]);

/** Types that only run a single-instance broker (Amazon MQ developer guide). */
export const MQ_SINGLE_INSTANCE_ONLY: ReadonlySet<string> = new Set(['mq.t2.micro', 'mq.t3.micro']);

/** AWS Graviton (arm64) EC2 families: a digit then "g" (t4g, c7gn, m8gd...) and a1. */
export function isGraviton(instanceType: string): boolean {
  const family = instanceType.replace(/^db\./, '').split('.')[0];
  return family === 'a1' || /^[a-z]+\d+g[a-z]*$/.test(family);
}

/**
 * Why `value` is not one of `known`, with what would be: the sizes of its family when the family
 * exists, otherwise the closest names. `what` names the catalog ("EC2 instance type").
 */
export function explainUnknownType(value: string, known: ReadonlySet<string>, what: string): string {
  const family = value.slice(0, value.lastIndexOf('.'));
  const sizes = [...known].filter((t) => t.startsWith(`${family}.`)).map((t) => t.slice(family.length + 1));
  if (family && sizes.length) return `"${value}" is not an ${what}: ${family} comes in ${sortSizes(sizes).join(', ')}`;
  return `"${value}" is not an ${what} (no family "${family || value}")`;
}

const SIZE_ORDER = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge'];

function sortSizes(sizes: string[]): string[] {
  const rank = (size: string) => {
    const i = SIZE_ORDER.indexOf(size);
    if (i >= 0) return i;
    const multiple = /^(\d+)xlarge$/.exec(size);
    return multiple ? SIZE_ORDER.length + Number(multiple[1]) : 1000;
  };
  return [...sizes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
