// kafkajs 2.2.4's admin client against strata, driven by test_admin_configs.py: creates topic
// cfg-c (2 partitions), writes 30 records to each, changes retention.ms with alterConfigs
// (AlterConfigs) and reads it back with describeConfigs, deletes records with
// deleteTopicRecords (DeleteRecords: below offset 10 in partition 0, everything in partition
// 1 with offset -1), checks fetchTopicOffsets' low watermarks and that a consumer from the
// beginning starts at them. Prints `RESULT <json>` with the low watermarks for the restart
// check on the Python side.
//
//   node kafkajs_admin.js HOST:PORT
'use strict';
const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs');

const broker = process.argv[2];
const topic = 'cfg-c';
const failures = [];
function check(cond, msg) { if (!cond) failures.push(msg); }

async function main() {
  const kafka = new Kafka({ clientId: 'strata-kafkajs-admin', brokers: [broker],
                            logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (const partition of [0, 1]) {
    const messages = [];
    for (let i = 0; i < 30; i++) messages.push({ partition, value: `c-${partition}-${i}` });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();

  await admin.alterConfigs({ validateOnly: false, resources: [{
    type: ConfigResourceTypes.TOPIC, name: topic,
    configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{
    type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }] });
  const entry = described.resources[0].configEntries.find((e) => e.configName === 'retention.ms');
  check(entry && entry.configValue === '7200000',
        `describeConfigs retention.ms: expected 7200000, saw ${JSON.stringify(entry)}`);

  let refused = null;
  try {
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '31' }] });
  } catch (e) {
    refused = e;
  }
  check(refused !== null, 'deleteTopicRecords beyond the high watermark: expected an error');

  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '10' },
                                                       { partition: 1, offset: '-1' }] });
  const offsets = await admin.fetchTopicOffsets(topic);
  const lows = {};
  for (const o of offsets) {
    lows[o.partition] = Number(o.low);
    check(Number(o.high) === 30, `p${o.partition}: expected high 30, saw ${o.high}`);
  }
  check(lows[0] === 10, `p0: expected low watermark 10, saw ${lows[0]}`);
  check(lows[1] === 30, `p1: expected low watermark 30, saw ${lows[1]}`);

  const consumer = kafka.consumer({ groupId: 'strata-kafkajs-admin', maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const first = {};
  let count = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${count} of 20 in 30 s`)), 30000);
    consumer.run({ eachMessage: async ({ partition, message }) => {
      if (!(partition in first)) first[partition] = Number(message.offset);
      count++;
      if (count === 20) { clearTimeout(timer); resolve(); }
    } }).catch(reject);
  });
  await consumer.disconnect();
  check(first[0] === 10, `consumer from the beginning: expected offset 10 first, saw ${first[0]}`);
  check(!(1 in first), 'partition 1 had every record deleted, yet the consumer read one');
  await admin.disconnect();
  return { lows };
}

main().then((r) => {
  console.log('RESULT ' + JSON.stringify({ failures, ...r }));
}).catch((e) => {
  failures.push(String(e && e.stack || e));
  console.log('RESULT ' + JSON.stringify({ failures }));
  process.exitCode = 1;
});
