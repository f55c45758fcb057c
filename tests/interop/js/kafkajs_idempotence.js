// kafkajs 2.2.4's idempotent producer against strata, driven by test_idempotence.py:
// producer({ idempotent: true, maxInFlightRequests: 1 }) (kafkajs refuses idempotence with more
// than one request in flight) asks for a producer id with InitProducerId v0/v1, then sends
// keyed batches to a 3-partition topic with producer id, epoch and base sequence set. A group
// consumer reads the topic back: every record once. Prints `RESULT <json>` with the records
// the producer acknowledged; the Python side checks them against the stored log.
//
//   node kafkajs_idempotence.js HOST:PORT      (topic idem-js, created by the Python side)
'use strict';
const { Kafka, logLevel, CompressionTypes } = require('kafkajs');

const broker = process.argv[2];
const topic = 'idem-js';
const ROUNDS = 12;
const PER_ROUND = 40;
const failures = [];
function check(cond, msg) { if (!cond) failures.push(msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const kafka = new Kafka({ clientId: 'strata-kafkajs-idempotence', brokers: [broker],
                            logLevel: logLevel.WARN });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1,
                                    allowAutoTopicCreation: false });
  await producer.connect();
  const sent = [];  // {partition, offset, value}, in send order
  for (let round = 0; round < ROUNDS; round++) {
    const messages = [];
    for (let i = 0; i < PER_ROUND; i++) {
      const n = round * PER_ROUND + i;
      messages.push({ key: `key-${n % 13}`, value: `js-${n}` });
    }
    // Every third round compressed: the sequence check must not depend on the codec.
    const meta = await producer.send({ topic, messages,
      compression: round % 3 === 2 ? CompressionTypes.GZIP : CompressionTypes.None });
    for (const m of meta) {
      check(m.errorCode === 0, `send round ${round}: error ${m.errorCode} on p${m.partition}`);
    }
    const next = new Map(meta.map((m) => [m.partition, Number(m.baseOffset)]));
    for (const msg of messages) {
      const p = partitioner({ topic, partitionMetadata: partitionMetadata, message: msg });
      check(next.has(p), `round ${round}: no send result for partition ${p}`);
      sent.push({ partition: p, offset: next.get(p), value: msg.value });
      next.set(p, next.get(p) + 1);
    }
  }
  // sendBatch with explicit partitions: one request, one batch per partition.
  const batch = await producer.sendBatch({ topicMessages: [{ topic, messages: [
    { partition: 0, value: 'js-batch-0' }, { partition: 1, value: 'js-batch-1' },
    { partition: 1, value: 'js-batch-2' }] }] });
  for (const m of batch) {
    check(m.errorCode === 0, `sendBatch: error ${m.errorCode} on p${m.partition}`);
  }
  const base = new Map(batch.map((m) => [m.partition, Number(m.baseOffset)]));
  sent.push({ partition: 0, offset: base.get(0), value: 'js-batch-0' });
  sent.push({ partition: 1, offset: base.get(1), value: 'js-batch-1' });
  sent.push({ partition: 1, offset: base.get(1) + 1, value: 'js-batch-2' });
  await producer.disconnect();

  // Read everything back with a group consumer: each value exactly once.
  const counts = new Map();
  const consumer = kafka.consumer({ groupId: 'js-idempotence', sessionTimeout: 10000,
                                    heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let total = 0;
  await consumer.run({ eachMessage: async ({ message }) => {
    const v = message.value.toString();
    counts.set(v, (counts.get(v) || 0) + 1);
    total++;
  } });
  const deadline = Date.now() + 30000;
  while (counts.size < sent.length && Date.now() < deadline) await sleep(100);
  await sleep(500);  // anything extra (a duplicate) would arrive now
  await consumer.disconnect();
  check(counts.size === sent.length,
        `consumer: expected ${sent.length} distinct values, saw ${counts.size}`);
  check(total === sent.length, `consumer: expected ${sent.length} records, saw ${total}`);
  const dups = [...counts].filter(([, c]) => c > 1);
  check(dups.length === 0,
        `consumer: values read more than once: ${JSON.stringify(dups.slice(0, 5))}`);
  const sentValues = new Set(sent.map((s) => s.value));
  const unknown = [...counts.keys()].filter((v) => !sentValues.has(v));
  check(unknown.length === 0,
        `consumer: values never sent: ${JSON.stringify(unknown.slice(0, 5))}`);
  console.log('RESULT ' + JSON.stringify({ failures, sent, consumed: total }));
}

// The partition kafkajs's default partitioner (Java murmur2) picks for a keyed message.
const { Partitioners } = require('kafkajs');
const partitioner = Partitioners.DefaultPartitioner();
const partitionMetadata = [0, 1, 2].map((id) => ({ partitionId: id, leader: 0 }));

main().catch((e) => {
  console.log('RESULT ' + JSON.stringify({ failures: failures.concat([`exception: ${e.stack}`]),
                                           sent: [] }));
  process.exitCode = 1;
});
