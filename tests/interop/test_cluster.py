"""A cluster of three `strata broker` processes: node 0 is the controller, nodes 1 and 2
register with it (controller.quorum.voters) and follow its metadata log. Real clients use the
cluster through any broker:

  * confluent-kafka's AdminClient, bootstrapped at node 2, creates a topic (librdkafka sends
    CreateTopics to the controller named in Metadata); its partitions' leaders spread over
    all three brokers, each replica on one broker (replication is not built yet);
  * an idempotent producer bootstrapped at node 1 writes keyed records to every partition,
    each acknowledged by the partition's leader;
  * a consumer group bootstrapped at node 2 reads every record; its coordinator is the leader
    of its __consumer_offsets partition, and that topic's partitions are spread over all
    three brokers;
  * kafka-python reads the cluster's brokers and leaders through node 1;
  * node 2 is killed with SIGKILL: after broker.session.timeout.ms the controller fences it
    and its partitions have no leader (LEADER_NOT_AVAILABLE), the others keep taking writes;
    restarted, it registers again, leads its partitions in a new leader epoch, and every
    acknowledged record is still there;
  * node 1 stopped with SIGTERM does a controlled shutdown: its partitions have no leader as
    soon as it has exited, and it registers again at once when restarted;
  * a topic deleted while node 2, its only replica, is down and created again under the same
    name once node 2 is back does not serve the deleted topic's records: node 2 finds its
    old directory stray (partition.metadata names the old topic id) and removes it.
"""

import os

import time

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import ck
import harness
from harness import expect, expect_eq

TOPIC = "spread"
PARTITIONS = 9
SESSION_MS = 3000


def leaders(admin, topic):
    md = admin.list_topics(topic, timeout=10)
    t = md.topics[topic]
    return {p.id: (p.leader, p.error) for p in t.partitions.values()}, md


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    harness.fail(f"{what}: not within {timeout}s")


def produce(b, acks, count, prefix):
    p = ck.producer(b, **{"enable.idempotence": True, "partitioner": "murmur2"})
    for i in range(count):
        p.produce(TOPIC, key=f"{prefix}{i}".encode(), value=f"{prefix}{i}".encode(),
                  on_delivery=acks.on_delivery)
        p.poll(0)
    left = p.flush(30)
    expect_eq(left, 0, "records still unacknowledged after flush")


def reborn_on_node2(b0, b2):
    name = "reborn"
    admin = AdminClient(harness.confluent_config(b0))

    def create():
        f = admin.create_topics([NewTopic(name, num_partitions=1, replica_assignment=[[2]])])
        try:
            f[name].result(timeout=10)
            return True
        except Exception as e:  # node 2 not yet unfenced: the controller refuses the placement
            print(f"  create {name}: {e}; retrying")
            return False
    wait_for(create, 20, f"topic {name} created on node 2")
    wait_for(lambda: leaders(admin, name)[0].get(0, (-1,))[0] == 2, 10, f"{name} led by node 2")
    p = ck.producer(b0)
    for i in range(5):
        p.produce(name, value=f"old-{i}".encode(), partition=0)
    expect_eq(p.flush(20), 0, f"records of the first {name} unacknowledged")
    old_dir = os.path.join(b2.data_dir, f"{name}-0")
    expect(os.path.isfile(os.path.join(old_dir, "partition.metadata")),
           f"{old_dir}/partition.metadata written")

    expect_eq(b2.stop(), 0, "node2 exit status after SIGTERM")
    admin.delete_topics([name])[name].result(timeout=10)
    b2.start()
    wait_for(create, 20, f"topic {name} created again on node 2")
    wait_for(lambda: leaders(admin, name)[0].get(0, (-1,))[0] == 2, 10,
             f"the new {name} led by node 2")
    p.produce(name, value=b"new-0", partition=0)
    expect_eq(p.flush(20), 0, f"the record of the new {name} unacknowledged")
    log, marks = ck.read_all(b2, name, 1)
    expect_eq([v for (_o, _k, v, _h) in log[0]], [b"new-0"],
              f"records of the new {name} (none of the deleted topic's)")
    expect_eq(marks[0], (0, 1), f"watermarks of the new {name}")


def test(ctx):
    common = ["broker.heartbeat.interval.ms=500", f"broker.session.timeout.ms={SESSION_MS}"]
    b0 = ctx.broker("node0", overrides=["node.id=0"] + common)
    voters = f"controller.quorum.voters=0@127.0.0.1:{b0.port}"
    b1 = ctx.broker("node1", overrides=["node.id=1", voters] + common)
    b2 = ctx.broker("node2", overrides=["node.id=2", voters] + common)

    admin = AdminClient(harness.confluent_config(b2))
    wait_for(lambda: len(admin.list_topics(timeout=10).brokers) == 3, 20,
             "all three brokers in Metadata")
    futures = admin.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS,
                                            replication_factor=1)])
    futures[TOPIC].result(timeout=20)
    # Node 2 learns of the topic when it next fetches the controller's metadata log.

    def all_led():
        now, md = leaders(admin, TOPIC)
        ok = len(now) == PARTITIONS and all(l >= 0 for l, _ in now.values())
        return ok and (now, md)
    by_partition, md = wait_for(all_led, 10, "every partition with a leader, seen at node 2")
    owners = {leader for leader, _ in by_partition.values()}
    expect_eq(owners, {0, 1, 2}, "brokers leading the topic's partitions")
    expect_eq(md.controller_id, 0, "controller id in Metadata")
    print(f"  leaders: {dict(sorted((p, l) for p, (l, _) in by_partition.items()))}")

    acks = ck.AckLog()
    produce(b1, acks, 900, "a")
    expect(not acks.errors, f"delivery errors: {acks.errors[:5]}")
    acked_partitions = {p for (p, _off) in acks.acked}
    expect_eq(acked_partitions, set(range(PARTITIONS)), "partitions that took records")

    c = ck.consumer(b2, **{"group.id": "cluster-group", "auto.offset.reset": "earliest"})
    c.subscribe([TOPIC])
    seen = set()
    deadline = time.monotonic() + 30
    while len(seen) < 900 and time.monotonic() < deadline:
        for m in c.consume(500, timeout=0.5):
            expect(m.error() is None, f"consume: {m.error()}")
            seen.add(m.value())
    c.close()
    expect_eq(len(seen), 900, "records the group read")
    offsets_leaders, _ = leaders(admin, "__consumer_offsets")
    expect_eq({leader for leader, _ in offsets_leaders.values()}, {0, 1, 2},
              "brokers leading __consumer_offsets partitions")

    try:
        from kafka import KafkaConsumer
    except ImportError:
        KafkaConsumer = None
    if KafkaConsumer is not None:
        kc = KafkaConsumer(bootstrap_servers=b1.bootstrap, api_version_auto_timeout_ms=5000)
        kp = kc.partitions_for_topic(TOPIC)
        expect_eq(kp, set(range(PARTITIONS)), "kafka-python: partitions of the topic")
        expect_eq({b.nodeId for b in kc._client.cluster.brokers()}, {0, 1, 2},
                  "kafka-python: brokers")
        kc.close()

    # Node 2 dies: fenced after the session timeout, its partitions are offline.
    of_node2 = sorted(p for p, (l, _) in by_partition.items() if l == 2)
    b2.kill9()
    admin = AdminClient(harness.confluent_config(b0))

    def offline():
        now, _ = leaders(admin, TOPIC)
        return all(now[p][0] == -1 for p in of_node2) and now
    now = wait_for(offline, SESSION_MS / 1000 + 10, f"partitions {of_node2} without a leader")
    others = [p for p in range(PARTITIONS) if p not in of_node2]
    expect(all(now[p][0] in (0, 1) for p in others), f"other partitions keep leaders: {now}")
    p = ck.producer(b0)
    for part in others:
        p.produce(TOPIC, value=b"while-node2-down", partition=part,
                  on_delivery=acks.on_delivery)
    expect_eq(p.flush(20), 0, "writes to live partitions while node 2 is down")

    # Back: registered again, leading its partitions, nothing acknowledged lost.
    b2.start()
    # Each broker learns it from the controller's log within a fetch or two.
    admin1 = AdminClient(harness.confluent_config(b1))
    admin2 = AdminClient(harness.confluent_config(b2))
    for a in (admin, admin1, admin2):
        wait_for(lambda: all(leaders(a, TOPIC)[0][q][0] == 2 for q in of_node2), 20,
                 "node 2 leading its partitions again")
    log, marks = ck.read_all(b1, TOPIC, PARTITIONS)
    ck.check_log_against_acks(log, marks, acks, TOPIC)

    # A clean stop of node 1 is a controlled shutdown: its partitions lose their leader
    # before the process exits, not a session timeout later, and it may start again at once.
    of_node1 = sorted(p for p, (l, _) in by_partition.items() if l == 1)
    expect_eq(b1.stop(), 0, "node1 exit status after SIGTERM")
    now, _ = leaders(admin, TOPIC)
    expect(all(now[p][0] == -1 for p in of_node1),
           f"node 1's partitions {of_node1} without a leader right after its stop: {now}")
    b1.start()
    wait_for(lambda: all(leaders(admin, TOPIC)[0][q][0] == 1 for q in of_node1), 10,
             "node 1 leading its partitions again after a clean restart")
    reborn_on_node2(b0, b2)
    for b in (b0, b1, b2):
        expect(b.alive(), f"{b.name} died")
    for b in (b2, b1, b0):
        expect_eq(b.stop(), 0, f"{b.name} exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
