// kafkajs 2.2.4 against strata: admin (createTopics, fetchTopicMetadata, createPartitions,
// describeConfigs, fetchTopicOffsets, fetchTopicOffsetsByTimestamp, deleteTopics) and the
// producer (acks -1, several partitions, headers, gzip, sendBatch). The records are read back
// by the Python side (test_kafkajs.py) from the manifest printed here as `RESULT <json>`;
// kafkajs's group consumer is exercised by kafkajs_groups.js.
//
//   node kafkajs_interop.js HOST:PORT
'use strict';
const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = require('kafkajs');

const broker = process.argv[2];
const failures = [];
function check(cond, msg) { if (!cond) failures.push(msg); }
function eq(seen, expected, what) {
  const s = JSON.stringify(seen), e = JSON.stringify(expected);
  check(s === e, `${what}: expected ${e}, saw ${s}`);
}

async function main() {
  const kafka = new Kafka({ clientId: 'strata-kafkajs', brokers: [broker],
                            logLevel: logLevel.WARN, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  eq(await admin.createTopics({ topics: [{ topic: 'js-a', numPartitions: 4 },
                                         { topic: 'js-b', numPartitions: 1 }],
                                waitForLeaders: true }), true, 'createTopics js-a, js-b');
  eq(await admin.createTopics({ topics: [{ topic: 'js-a', numPartitions: 4 }] }), false,
     'createTopics js-a again (already exists)');
  let md = await admin.fetchTopicMetadata({ topics: ['js-a'] });
  eq(md.topics[0].partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3],
     'js-a partition ids');
  check(md.topics[0].partitions.every((p) => p.leader === 0 && p.isr.length === 1),
        `js-a leaders: expected node 0 with ISR [0], saw ${JSON.stringify(md.topics[0])}`);
  const cfg = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-a' }], includeSynonyms: false });
  const entries = cfg.resources[0].configEntries;
  const policy = entries.find((e) => e.configName === 'cleanup.policy');
  eq(policy && policy.configValue, 'delete', 'js-a cleanup.policy');

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const sent = [];  // {partition, offset, key, value, headers}
  const t0 = 1_700_000_000_000;
  // send(): keyed (murmur2 partitioner), acks -1, headers; every other call gzip.
  for (let round = 0; round < 10; round++) {
    const messages = [];
    for (let i = 0; i < 40; i++) {
      const n = round * 40 + i;
      messages.push({ key: `key-${n % 23}`, value: `value-${n}`, timestamp: String(t0 + n),
                      headers: { n: String(n), origin: 'kafkajs' } });
    }
    const meta = await producer.send({ topic: 'js-a', acks: -1, messages,
      compression: round % 2 ? CompressionTypes.GZIP : CompressionTypes.None });
    for (const m of meta) {
      check(m.errorCode === 0, `send round ${round}: error ${m.errorCode} on p${m.partition}`);
    }
    // kafkajs reports one baseOffset per partition; records of one partition are consecutive.
    const next = new Map(meta.map((m) => [m.partition, Number(m.baseOffset)]));
    for (const msg of messages) {
      const p = partitionOf(msg, md);
      sent.push({ partition: p, offset: next.get(p), key: msg.key, value: msg.value,
                  headers: msg.headers, timestamp: Number(msg.timestamp) });
      next.set(p, next.get(p) + 1);
    }
  }
  // sendBatch() to two topics, explicit partitions.
  const batch = await producer.sendBatch({ acks: -1, topicMessages: [
    { topic: 'js-a', messages: [{ partition: 3, value: 'batch-a-0' },
                                { partition: 3, value: 'batch-a-1' }] },
    { topic: 'js-b', messages: [{ partition: 0, key: null, value: 'batch-b-0' }] }] });
  eq(batch.map((m) => [m.topicName, m.partition, m.errorCode]).sort(),
     [['js-a', 3, 0], ['js-b', 0, 0]], 'sendBatch results');
  const a3 = batch.find((m) => m.topicName === 'js-a');
  sent.push({ partition: 3, offset: Number(a3.baseOffset), key: null, value: 'batch-a-0',
              headers: {}, timestamp: null });
  sent.push({ partition: 3, offset: Number(a3.baseOffset) + 1, key: null, value: 'batch-a-1',
              headers: {}, timestamp: null });
  await producer.disconnect();

  const counts = [0, 0, 0, 0];
  for (const s of sent) counts[s.partition]++;
  const offsets = await admin.fetchTopicOffsets('js-a');
  eq(offsets.map((o) => [o.partition, o.low, o.high]).sort(),
     counts.map((c, p) => [p, '0', String(c)]), 'fetchTopicOffsets js-a');
  // Record 165 sits mid-batch in round 4, which is uncompressed (the compressed-batch case is
  // covered by test_kafka_python.py): the answer is the first record at or after that time.
  const target = t0 + 165;
  const first = sent.find((s) => s.timestamp === target);
  const byTs = await admin.fetchTopicOffsetsByTimestamp('js-a', target);
  const hit = byTs.find((o) => o.partition === first.partition);
  const expectOff = sent.filter((s) => s.partition === first.partition && s.timestamp !== null &&
                                       s.timestamp >= target)
                        .reduce((a, s) => Math.min(a, s.offset), Infinity);
  eq(hit && Number(hit.offset), expectOff, `fetchTopicOffsetsByTimestamp p${first.partition}`);

  await admin.createPartitions({ topicPartitions: [{ topic: 'js-a', count: 6 }] });
  md = await admin.fetchTopicMetadata({ topics: ['js-a'] });
  eq(md.topics[0].partitions.length, 6, 'js-a partitions after createPartitions(6)');
  await admin.deleteTopics({ topics: ['js-b'] });
  const topics = await admin.listTopics();
  check(topics.includes('js-a') && !topics.includes('js-b'),
        `listTopics after deleting js-b: saw ${JSON.stringify(topics)}`);
  await admin.disconnect();
  console.log('RESULT ' + JSON.stringify({ failures, sent }));
}

// The partition kafkajs chose for a keyed `msg` (its default partitioner is Java's murmur2,
// deterministic for keys); the Python side checks every record really is there.
const { Partitioners } = require('kafkajs');
const partitioner = Partitioners.DefaultPartitioner();
function partitionOf(msg, md) {
  return partitioner({ topic: 'js-a', partitionMetadata: md.topics[0].partitions, message: msg });
}

main().catch((e) => {
  console.log('RESULT ' + JSON.stringify({ failures: failures.concat([`exception: ${e.stack}`]),
                                           sent: [] }));
  process.exitCode = 1;
});
