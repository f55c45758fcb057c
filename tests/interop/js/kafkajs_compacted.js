// kafkajs 2.2.4 reading a compacted topic, driven by test_compaction.py: a group consumer
// from the beginning of partition 0 of topic `compacted` until the high watermark that
// fetchTopicOffsets reports. Offsets jump where the cleaner removed records, and a batch may
// be empty (kept for an idempotent producer's sequence); kafkajs must step over both.
// Prints `RESULT <json>` with every record read as [offset, key, value or null].
//
//   node kafkajs_compacted.js HOST:PORT
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const broker = process.argv[2];
const topic = 'compacted';
const failures = [];

async function main() {
  const kafka = new Kafka({ clientId: 'strata-kafkajs-compacted', brokers: [broker],
                            logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const high = Number(offsets.find((o) => o.partition === 0).high);
  const records = [];
  const consumer = kafka.consumer({ groupId: 'strata-kafkajs-compacted', maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve, reject) => {
    const last = () => (records.length ? records[records.length - 1][0] : -1);
    const timer = setTimeout(
      () => reject(new Error(`read up to offset ${last()} of ${high - 1} in 30 s`)), 30000);
    consumer.run({ eachMessage: async ({ partition, message }) => {
      if (partition !== 0) return;
      const offset = Number(message.offset);
      records.push([offset, message.key ? message.key.toString() : null,
                    message.value === null ? null : message.value.toString()]);
      if (offset + 1 >= high) { clearTimeout(timer); resolve(); }
    } }).catch(reject);
  });
  await consumer.disconnect();
  return { high, records };
}

main().then((r) => {
  console.log('RESULT ' + JSON.stringify({ failures, ...r }));
}).catch((e) => {
  failures.push(String(e && e.stack || e));
  console.log('RESULT ' + JSON.stringify({ failures }));
  process.exitCode = 1;
});
