// kafkajs 2.2.4's consumer against strata: two members of one group share a 4-partition
// topic (JoinGroup v5 with the member-id handshake, SyncGroup, Heartbeat, OffsetCommit v5,
// OffsetFetch v4, Fetch v11 with isolation_level=read_committed — kafkajs's default), then
// admin describeGroups / fetchOffsets / listGroups / deleteGroups. Prints `RESULT <json>`.
//
//   node kafkajs_groups.js HOST:PORT
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const broker = process.argv[2];
const failures = [];
function check(cond, msg) { if (!cond) failures.push(msg); }
function eq(seen, expected, what) {
  const s = JSON.stringify(seen), e = JSON.stringify(expected);
  check(s === e, `${what}: expected ${e}, saw ${s}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const kafka = new Kafka({ clientId: 'strata-kafkajs-groups', brokers: [broker],
                            logLevel: logLevel.WARN, retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'js-g', numPartitions: 4 }] });
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < 200; i++) messages.push({ key: `k${i % 17}`, value: `v${i}` });
  await producer.send({ topic: 'js-g', messages });

  const seen = new Map();  // value -> member
  const owned = {};        // member -> partitions in its latest assignment
  const members = [];
  for (const name of ['a', 'b']) {
    const consumer = kafka.consumer({ groupId: 'js-group', sessionTimeout: 10000,
                                      heartbeatInterval: 500, rebalanceTimeout: 10000 });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      owned[name] = (e.payload.memberAssignment['js-g'] || []).slice().sort();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'js-g', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => {
      seen.set(message.value.toString(), name);
    } });
    members.push(consumer);
  }
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const both = owned.a && owned.b && owned.a.length + owned.b.length === 4 &&
                 owned.a.length > 0 && owned.b.length > 0;
    if (seen.size >= 200 && both) break;
    await sleep(100);
  }
  eq(seen.size, 200, 'distinct records read by the group');
  const all = [...(owned.a || []), ...(owned.b || [])].sort();
  eq(all, [0, 1, 2, 3], 'partitions owned by the two members together');

  const described = await admin.describeGroups(['js-group']);
  const g = described.groups[0];
  eq(g.state, 'Stable', 'describeGroups state');
  eq(g.protocolType, 'consumer', 'describeGroups protocol type');
  eq(g.members.length, 2, 'describeGroups member count');

  for (const c of members) await c.disconnect();  // commits, then LeaveGroup
  const offsets = await admin.fetchOffsets({ groupId: 'js-group', topics: ['js-g'] });
  const total = offsets[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
  eq(total, 200, 'committed offsets summed after disconnect');
  const listed = await admin.listGroups();
  check(listed.groups.some((x) => x.groupId === 'js-group'), 'listGroups names js-group');
  await admin.deleteGroups(['js-group']);
  const after = await admin.describeGroups(['js-group']);
  eq(after.groups[0].state, 'Dead', 'state after deleteGroups');

  await producer.disconnect();
  await admin.disconnect();
  console.log('RESULT ' + JSON.stringify({ failures, read: seen.size, owned }));
}

main().catch((e) => {
  console.log('RESULT ' + JSON.stringify({ failures: failures.concat([String(e.stack || e)]) }));
  process.exit(1);
});
