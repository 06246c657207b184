/**
 * The ActiveMQ broker configuration: queues, dead-letter policy and broker-side redelivery.
 *
 * One function renders it for both places it runs: Amazon MQ (the `aws.mq.Configuration` data,
 * which accepts only a permitted subset of elements) and the local broker started by `scripts/`
 * (which wraps the same `<broker>` body with what only a self-run broker needs: ports and data dir).
 */

import { DEFAULTS as STACK_DEFAULTS } from './config';

export const QUEUES = {
  requests: 'grading-requests',
  priority: 'grading-priority',
  results: 'grading-results',
  /** A broker-made copy of every message sent to grading-results, for the accepted-solutions process (see below). */
  solutionsResults: 'grading-results-solutions',
  dlq: 'grading-dlq',
} as const;

/** Live progress: a topic every gateway instance subscribes to (docs/architecture.md). */
export const PROGRESS_TOPIC = 'grading-progress';
/** Worker presence: each worker publishes a heartbeat here, every gateway reads it (worker/src/ops/heartbeat.ts). */
export const HEARTBEAT_TOPIC = 'grading-heartbeat';

/**
 * Broker groups (Amazon MQ: each user's `groups`; locally: simpleAuthenticationPlugin). Rights are
 * the union of every entry matching a destination, so `>` grants only operators and each tier gets
 * exactly the destinations it uses:
 *   gateways  write grading-requests, grading-priority; read the progress and heartbeat topics
 *   workers   read grading-requests, grading-priority; write grading-results, grading-dlq, the progress and heartbeat topics
 *   solutions read grading-results-solutions (the accepted-solutions process's copy of the results)
 *   admins    everything (operators; activemq-webconsole is Amazon MQ's console group)
 * Every tier keeps ActiveMQ.Advisory.> (JMS clients create advisory consumers and producers).
 * Temporary destinations (request/reply: Spring's sendAndReceive, STOMP reply-to /temp-queue/):
 * gateways create and read them (their replies), workers may only send to them (the result), so a
 * site connecting as a gateway-tier user gets its reply without operator rights.
 */
export const BROKER_GROUPS = {
  admins: 'admins',
  gateways: 'grading-gateways',
  workers: 'grading-workers',
  solutions: 'grading-solutions',
  console: 'activemq-webconsole',
} as const;

/** Broker user names per tier (Amazon MQ users are created by the Messaging component). */
export const BROKER_USERS = {
  gateway: 'grading-gateway',
  worker: 'grading-worker',
  solutions: 'grading-solutions',
} as const;

export interface BrokerXmlOptions {
  /** Broker-side redeliveries of a NACKed request before it is dead-lettered. Default: the stack's mqMaximumRedeliveries. */
  maximumRedeliveries?: number;
  /** Delay before the first redelivery, ms. Default 5000. */
  initialRedeliveryDelayMs?: number;
  /** Multiplier of the exponential back-off between redeliveries. Default 2. */
  backOffMultiplier?: number;
  /** Cap on the redelivery delay, ms. Default 120000. */
  maximumRedeliveryDelayMs?: number;
  /** Store usage cap for persistent messages, MB. Default 1024. */
  storeUsageMb?: number;
  /** Per-tier authorization entries (authorizationPlugin). Default true. */
  authorization?: boolean;
  /**
   * Lifetime the broker gives a message sent without one, ms. Default 7 days. grading-results is
   * kept for consumers that may never come: without an expiry it fills the store until the broker
   * blocks the workers' sends. Expired requests go to grading-dlq; expired results are dropped
   * (the result stays in S3 and the database).
   */
  messageTtlMs?: number;
}

const DEFAULTS: Required<BrokerXmlOptions> = {
  // The stack config's default, so the local broker and Amazon MQ agree without restating it.
  maximumRedeliveries: STACK_DEFAULTS.mqMaximumRedeliveries,
  initialRedeliveryDelayMs: 5000,
  backOffMultiplier: 2,
  maximumRedeliveryDelayMs: 120000,
  storeUsageMb: 1024,
  authorization: true,
  messageTtlMs: 7 * 24 * 3600 * 1000,
};

export function resolveBrokerXmlOptions(opts: BrokerXmlOptions = {}): Required<BrokerXmlOptions> {
  const merged = { ...DEFAULTS, ...dropUndefined(opts) };
  const problems: string[] = [];
  if (!Number.isInteger(merged.maximumRedeliveries) || merged.maximumRedeliveries < 0 || merged.maximumRedeliveries > 20) {
    problems.push(`maximumRedeliveries must be an integer 0..20 (got ${merged.maximumRedeliveries})`);
  }
  for (const key of ['initialRedeliveryDelayMs', 'maximumRedeliveryDelayMs', 'storeUsageMb', 'messageTtlMs'] as const) {
    if (!Number.isInteger(merged[key]) || merged[key] <= 0) problems.push(`${key} must be a positive integer (got ${merged[key]})`);
  }
  // ActiveMQ's RedeliveryPlugin refuses to start unless every delay exceeds 1000 ms (found on the local broker).
  for (const key of ['initialRedeliveryDelayMs', 'maximumRedeliveryDelayMs'] as const) {
    if (merged[key] <= 1000) problems.push(`${key} must exceed 1000 ms, as ActiveMQ's redelivery plugin requires (got ${merged[key]})`);
  }
  if (merged.maximumRedeliveryDelayMs < merged.initialRedeliveryDelayMs)
    problems.push('maximumRedeliveryDelayMs must be >= initialRedeliveryDelayMs');
  if (!(merged.backOffMultiplier >= 1)) problems.push(`backOffMultiplier must be >= 1 (got ${merged.backOffMultiplier})`);
  if (problems.length) throw new Error(`Invalid broker configuration: ${problems.join('; ')}`);
  return merged;
}

/** The `<broker>` element body shared by Amazon MQ and the local broker (children in alphabetical order, as ActiveMQ's schema expects). */
function brokerChildren(o: Required<BrokerXmlOptions>): string {
  const requestQueues = [QUEUES.requests, QUEUES.priority];
  const deadLetterEntries = requestQueues
    .map(
      (queue) => `      <policyEntry queue="${queue}" prioritizedMessages="${queue === QUEUES.requests}">
        <deadLetterStrategy>
          <sharedDeadLetterStrategy processExpired="true" processNonPersistent="false">
            <deadLetterQueue>
              <queue physicalName="${QUEUES.dlq}"/>
            </deadLetterQueue>
          </sharedDeadLetterStrategy>
        </deadLetterStrategy>
      </policyEntry>`,
    )
    .join('\n');
  const redeliveryEntries = requestQueues
    .map(
      (queue) =>
        `            <redeliveryPolicy queue="${queue}" maximumRedeliveries="${o.maximumRedeliveries}" ` +
        `initialRedeliveryDelay="${o.initialRedeliveryDelayMs}" backOffMultiplier="${o.backOffMultiplier}" ` +
        `useExponentialBackOff="true" maximumRedeliveryDelay="${o.maximumRedeliveryDelayMs}"/>`,
    )
    .join('\n');
  const authorization = o.authorization ? authorizationPlugin() : '';
  // A queue hands each message to ONE consumer, so the sites consuming grading-results and the
  // accepted-solutions process would split the results between them. The composite queue makes the
  // broker copy every message sent to grading-results (forwardOnly="false": it is still delivered
  // there too) into grading-results-solutions, which only the solutions process reads.
  return `  <destinationInterceptors>
    <virtualDestinationInterceptor>
      <virtualDestinations>
        <compositeQueue name="${QUEUES.results}" forwardOnly="false">
          <forwardTo>
            <queue physicalName="${QUEUES.solutionsResults}"/>
          </forwardTo>
        </compositeQueue>
      </virtualDestinations>
    </virtualDestinationInterceptor>
  </destinationInterceptors>
  <destinationPolicy>
    <policyMap>
      <policyEntries>
${deadLetterEntries}
      <policyEntry queue="${QUEUES.dlq}" prioritizedMessages="false">
        <deadLetterStrategy>
          <discarding/>
        </deadLetterStrategy>
      </policyEntry>
${[QUEUES.results, QUEUES.solutionsResults]
  .map(
    (queue) => `      <policyEntry queue="${queue}" expireMessagesPeriod="30000">
        <deadLetterStrategy>
          <discarding/>
        </deadLetterStrategy>
      </policyEntry>`,
  )
  .join('\n')}
      <policyEntry topic="${PROGRESS_TOPIC}"/>
      </policyEntries>
    </policyMap>
  </destinationPolicy>
  <destinations>
    <queue physicalName="${QUEUES.requests}"/>
    <queue physicalName="${QUEUES.priority}"/>
    <queue physicalName="${QUEUES.results}"/>
    <queue physicalName="${QUEUES.solutionsResults}"/>
    <queue physicalName="${QUEUES.dlq}"/>
    <topic physicalName="${PROGRESS_TOPIC}"/>
    <topic physicalName="${HEARTBEAT_TOPIC}"/>
  </destinations>
  <plugins>
    <timeStampingBrokerPlugin zeroExpirationOverride="${o.messageTtlMs}" futureOnly="true"/>
    <redeliveryPlugin fallbackToDeadLetter="true" sendToDlqIfMaxRetriesExceeded="true">
      <redeliveryPolicyMap>
        <redeliveryPolicyMap>
          <redeliveryPolicyEntries>
${redeliveryEntries}
          </redeliveryPolicyEntries>
          <defaultEntry>
            <redeliveryPolicy maximumRedeliveries="${o.maximumRedeliveries}" initialRedeliveryDelay="${o.initialRedeliveryDelayMs}"/>
          </defaultEntry>
        </redeliveryPolicyMap>
      </redeliveryPolicyMap>
    </redeliveryPlugin>${authorization}
  </plugins>`;
}

/** The authorizationPlugin: the elements Amazon MQ permits (authorizationPlugin/map/authorizationMap/authorizationEntries). */
function authorizationPlugin(): string {
  const g = BROKER_GROUPS;
  const operators = `${g.admins},${g.console}`;
  const entry = (kind: 'queue' | 'topic', name: string, rights: { read?: string; write?: string }) =>
    `            <authorizationEntry ${kind}="${name}" ` +
    `read="${rights.read ?? operators}" write="${rights.write ?? operators}" admin="${operators}"/>`;
  const allTiers = `${operators},${g.gateways},${g.workers},${g.solutions}`;
  // One entry covers every temporary queue and topic (ActiveMQ cannot scope it per owner); the JMS
  // client refuses to consume from another connection's temporary destination.
  const requesters = `${operators},${g.gateways}`;
  const tempRights = `read="${requesters}" write="${operators},${g.workers}" admin="${requesters}"`;
  const tempDestinations = `<tempDestinationAuthorizationEntry ${tempRights}/>`;
  const entries = [
    entry('queue', '>', {}),
    entry('topic', '>', {}),
    entry('queue', QUEUES.requests, { read: g.workers, write: g.gateways }),
    entry('queue', QUEUES.priority, { read: g.workers, write: g.gateways }),
    entry('queue', QUEUES.results, { write: g.workers }),
    // Written only by the broker's forwarding (not checked against this entry); no tier may send to it.
    entry('queue', QUEUES.solutionsResults, { read: `${operators},${g.solutions}` }),
    entry('queue', QUEUES.dlq, { write: g.workers }),
    entry('topic', PROGRESS_TOPIC, { read: g.gateways, write: g.workers }),
    entry('topic', HEARTBEAT_TOPIC, { read: g.gateways, write: g.workers }),
    `            <authorizationEntry topic="ActiveMQ.Advisory.>" read="${allTiers}" write="${allTiers}" admin="${allTiers}"/>`,
  ];
  return `
    <authorizationPlugin>
      <map>
        <authorizationMap>
          <authorizationEntries>
${entries.join('\n')}
          </authorizationEntries>
          <tempDestinationAuthorizationEntry>
            ${tempDestinations}
          </tempDestinationAuthorizationEntry>
        </authorizationMap>
      </map>
    </authorizationPlugin>`;
}

/** The Amazon MQ configuration document (`aws.mq.Configuration.data`). */
export function renderBrokerConfigXml(opts: BrokerXmlOptions = {}): string {
  const o = resolveBrokerXmlOptions(opts);
  // schedulerSupport is what lets redeliveryPlugin delay redeliveries (ActiveMQ redelivery plugin docs).
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<broker xmlns="http://activemq.apache.org/schema/core" schedulerSupport="true">
${brokerChildren(o)}
</broker>
`;
}

export interface LocalBrokerXmlOptions extends BrokerXmlOptions {
  /** Directory for KahaDB, the scheduler store and temp data. */
  dataDirectory: string;
  /** Loopback port for STOMP. */
  stompPort: number;
  /** Loopback port for OpenWire (the broker always needs one transport; tools such as `activemq browse` use it). */
  openwirePort: number;
  host?: string;
  /** Require this user on every connection, as Amazon MQ does (group admins). */
  username?: string;
  password?: string;
  /** More users, e.g. one per tier with the groups of BROKER_GROUPS. */
  users?: LocalBrokerUser[];
}

export interface LocalBrokerUser {
  username: string;
  password: string;
  groups: string[];
}

/**
 * The local broker's activemq.xml: the same `<broker>` children as Amazon MQ, plus what only a
 * self-run broker needs (data directory, transport connectors, JMX off, simple authentication).
 */
export function renderLocalActiveMqXml(opts: LocalBrokerXmlOptions): string {
  const o = resolveBrokerXmlOptions(opts);
  const host = opts.host ?? '127.0.0.1';
  const users = [
    ...(opts.username && opts.password ? [{ username: opts.username, password: opts.password, groups: [BROKER_GROUPS.admins] }] : []),
    ...(opts.users ?? []),
  ];
  const auth = users.length
    ? `
    <simpleAuthenticationPlugin>
      <users>
${users.map(authenticationUser).join('\n')}
      </users>
    </simpleAuthenticationPlugin>`
    : '';
  const shared = brokerChildren(o).replace('  <plugins>\n', `  <plugins>${auth}\n`);
  const dataDirectory = xmlAttr(opts.dataDirectory);
  const localBrokerAttributes = `dataDirectory="${dataDirectory}" schedulerSupport="true" useJmx="false" advisorySupport="true"`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
                           http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
<broker xmlns="http://activemq.apache.org/schema/core" brokerName="grading-local" ${localBrokerAttributes}>
${shared}
  <persistenceAdapter>
    <kahaDB directory="${xmlAttr(opts.dataDirectory)}/kahadb"/>
  </persistenceAdapter>
  <systemUsage>
    <systemUsage>
      <memoryUsage><memoryUsage limit="256 mb"/></memoryUsage>
      <storeUsage><storeUsage limit="${o.storeUsageMb} mb"/></storeUsage>
      <tempUsage><tempUsage limit="512 mb"/></tempUsage>
    </systemUsage>
  </systemUsage>
  <transportConnectors>
    <transportConnector name="openwire" uri="tcp://${host}:${opts.openwirePort}?maximumConnections=1000"/>
    <transportConnector name="stomp" uri="stomp://${host}:${opts.stompPort}?transport.closeAsync=false"/>
  </transportConnectors>
</broker>
</beans>
`;
}

function authenticationUser(u: LocalBrokerUser): string {
  const groups = xmlAttr(u.groups.join(','));
  return `        <authenticationUser username="${xmlAttr(u.username)}" password="${xmlAttr(u.password)}" groups="${groups}"/>`;
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function dropUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
