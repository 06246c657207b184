import assert from 'node:assert/strict';
import { QUEUES, renderBrokerConfigXml, renderLocalActiveMqXml } from '../../components/brokerXml';

// Element names Amazon MQ keeps in an ActiveMQ configuration (its "permitted elements" and
// "permitted collections" pages); anything else is silently stripped on upload.
const PERMITTED = new Set([
  'broker',
  'destinationPolicy',
  'policyMap',
  'policyEntries',
  'policyEntry',
  'defaultEntry',
  'deadLetterStrategy',
  'sharedDeadLetterStrategy',
  'individualDeadLetterStrategy',
  'discarding',
  'deadLetterQueue',
  'destinations',
  'queue',
  'topic',
  'plugins',
  'redeliveryPlugin',
  'redeliveryPolicyMap',
  'redeliveryPolicyEntries',
  'redeliveryPolicy',
  'persistenceAdapter',
  'kahaDB',
  'systemUsage',
  'forcePersistencyModeBrokerPlugin',
  'timeStampingBrokerPlugin',
  'statisticsBrokerPlugin',
  'discardingDLQBrokerPlugin',
  'authorizationPlugin',
  'map',
  'authorizationMap',
  'authorizationEntries',
  'authorizationEntry',
  'destinationInterceptors',
  'virtualDestinationInterceptor',
  'virtualDestinations',
  'compositeQueue',
  'forwardTo',
  'tempDestinationAuthorizationEntry',
]);

function elementNames(xml: string): string[] {
  return [...xml.matchAll(/<([A-Za-z][\w.-]*)[\s/>]/g)].map((m) => m[1]);
}

describe('broker XML', () => {
  it('uses only elements Amazon MQ permits', () => {
    const names = elementNames(renderBrokerConfigXml());
    const stripped = names.filter((n) => !PERMITTED.has(n));
    assert.deepEqual(stripped, []);
  });

  it('declares every grading queue and dead-letters both request queues into grading-dlq', () => {
    const xml = renderBrokerConfigXml();
    for (const q of Object.values(QUEUES)) assert.match(xml, new RegExp(`<queue physicalName="${q}"/>`));
    for (const q of [QUEUES.requests, QUEUES.priority]) {
      const entry = new RegExp(`<policyEntry queue="${q}"[^>]*>[\\s\\S]*?<queue physicalName="${QUEUES.dlq}"/>[\\s\\S]*?</policyEntry>`);
      assert.match(xml, entry);
    }
  });

  it('enables the scheduler and sets the redelivery limits it is given', () => {
    const xml = renderBrokerConfigXml({ maximumRedeliveries: 5, initialRedeliveryDelayMs: 2000 });
    assert.match(xml, /<broker [^>]*schedulerSupport="true"/);
    assert.match(xml, /<redeliveryPolicy queue="grading-requests" maximumRedeliveries="5" initialRedeliveryDelay="2000"/);
    assert.match(xml, /sendToDlqIfMaxRetriesExceeded="true"/);
  });

  it('rejects settings ActiveMQ would refuse at start, naming each', () => {
    assert.throws(
      () => renderBrokerConfigXml({ maximumRedeliveries: -1, initialRedeliveryDelayMs: 500 }),
      (e: Error) => /maximumRedeliveries/.test(e.message) && /initialRedeliveryDelayMs must exceed 1000/.test(e.message),
    );
  });

  it('renders the local broker with the same broker body plus loopback transports and auth', () => {
    const local = renderLocalActiveMqXml({ dataDirectory: '/tmp/x', stompPort: 1234, openwirePort: 1235, username: 'u', password: 'p&"' });
    assert.match(local, /stomp:\/\/127\.0\.0\.1:1234/);
    assert.match(local, /password="p&amp;&quot;"/);
    const shared = renderBrokerConfigXml()
      .split('\n')
      .filter((l) => l.includes('policyEntry') || l.includes('redeliveryPolicy '));
    for (const line of shared) assert.ok(local.includes(line.trim()), `local XML lacks: ${line.trim()}`);
  });

  it('grants each tier only its destinations, operators everything, and every tier the advisory topics', () => {
    const xml = renderBrokerConfigXml();
    const entry = (attrs: string) => assert.match(xml, new RegExp(`<authorizationEntry ${attrs}`), attrs);
    entry('queue=">" read="admins,activemq-webconsole" write="admins,activemq-webconsole" admin="admins,activemq-webconsole"/>');
    entry('queue="grading-requests" read="grading-workers" write="grading-gateways" admin="admins,activemq-webconsole"/>');
    entry('queue="grading-priority" read="grading-workers" write="grading-gateways"');
    entry('queue="grading-results" read="admins,activemq-webconsole" write="grading-workers"');
    entry('topic="grading-progress" read="grading-gateways" write="grading-workers"');
    entry('topic="grading-heartbeat" read="grading-gateways" write="grading-workers"');
    entry('topic="ActiveMQ.Advisory.>" read="[^"]*grading-gateways,grading-workers,grading-solutions"');
    entry('queue="grading-results-solutions" read="admins,activemq-webconsole,grading-solutions" write="admins,activemq-webconsole"');
    assert.doesNotMatch(renderBrokerConfigXml({ authorization: false }), /authorizationPlugin/);
    // Request/reply: gateways create and read temporary reply queues, workers only send to them.
    const temp =
      /<tempDestinationAuthorizationEntry>\s*<tempDestinationAuthorizationEntry ([^>]*)\/>\s*<\/tempDestinationAuthorizationEntry>\s*<\/authorizationMap>/.exec(
        xml,
      );
    assert.ok(temp, 'one temporary-destination entry, inside the authorization map');
    const rights = Object.fromEntries([...temp[1].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2].split(',').sort()]));
    assert.deepEqual(rights, {
      read: ['activemq-webconsole', 'admins', 'grading-gateways'],
      write: ['activemq-webconsole', 'admins', 'grading-workers'],
      admin: ['activemq-webconsole', 'admins', 'grading-gateways'],
    });
    const local = renderLocalActiveMqXml({
      dataDirectory: '/d',
      stompPort: 1,
      openwirePort: 2,
      username: 'admin',
      password: 'p',
      users: [{ username: 'gw', password: 'q', groups: ['grading-gateways'] }],
    });
    assert.match(local, /<authenticationUser username="admin" password="p" groups="admins"\/>/);
    assert.match(local, /<authenticationUser username="gw" password="q" groups="grading-gateways"\/>/);
    assert.ok(local.includes('<authorizationEntry queue="grading-requests"'));
  });

  it("copies every grading-results message into the solutions process's own queue, which expires like results", () => {
    const xml = renderBrokerConfigXml();
    assert.match(
      xml,
      /<compositeQueue name="grading-results" forwardOnly="false">\s*<forwardTo>\s*<queue physicalName="grading-results-solutions"\/>/,
    );
    // ActiveMQ's schema wants the broker's children in alphabetical order.
    assert.ok(xml.indexOf('<destinationInterceptors>') < xml.indexOf('<destinationPolicy>'));
    assert.match(
      xml,
      /<policyEntry queue="grading-results-solutions" expireMessagesPeriod="30000">\s*<deadLetterStrategy>\s*<discarding\/>/,
    );
  });

  it('gives messages sent without an expiry a lifetime (7 days by default) and drops expired results', () => {
    assert.match(renderBrokerConfigXml(), /<timeStampingBrokerPlugin zeroExpirationOverride="604800000" futureOnly="true"\/>/);
    assert.match(renderBrokerConfigXml({ messageTtlMs: 60000 }), /zeroExpirationOverride="60000"/);
    assert.match(
      renderBrokerConfigXml(),
      new RegExp(`<policyEntry queue="${QUEUES.results}"[^>]*>\\s*<deadLetterStrategy>\\s*<discarding/>`),
    );
    assert.throws(() => renderBrokerConfigXml({ messageTtlMs: 0 }), /messageTtlMs must be a positive integer/);
  });
});
