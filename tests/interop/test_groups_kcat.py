"""Consumer groups with kcat -G (librdkafka 2.0.2) against strata.

Three members share a 6-partition topic: every partition is owned by exactly one member and
every record is read. A member that leaves (SIGTERM: LeaveGroup) and a member that is killed
(SIGKILL: found dead by the session timeout) hand their partitions to the survivor. A second
group reads everything from the start independently, and the committed offsets survive a
broker restart."""

import os
import re
import signal
import time

import harness
from harness import expect, expect_eq

TOPIC = "shared"
PARTITIONS = 6
ASSIGNED = re.compile(r"% Group (\S+) rebalanced \(memberid (\S+)\): assigned: (.*)$")
REVOKED = re.compile(r"% Group (\S+) rebalanced \(memberid (\S+)\): revoked: (.*)$")


class Member:
    """One `kcat -G` process; records go to <name>.out, rebalance notices to <name>.err."""

    def __init__(self, ctx, broker, group, name, *extra):
        self.name = name
        self.out_path = ctx.path(f"{name}.out")
        self.err_path = ctx.path(f"{name}.err")
        cmd = ["kcat", "-b", broker.bootstrap, "-G", group, TOPIC, "-u",
               "-f", "%p %o %k\n",
               "-X", "broker.address.family=v4",
               "-X", "auto.offset.reset=earliest",
               "-X", "session.timeout.ms=6000",
               "-X", "heartbeat.interval.ms=500",
               "-X", "auto.commit.interval.ms=500",
               "-X", "fetch.wait.max.ms=100", *extra]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = ctx.popen(cmd, stdout=out, stderr=err, stdin=open(os.devnull, "rb"))

    def records(self):
        """[(partition, offset, key)] read so far."""
        rows = []
        with open(self.out_path, "rb") as f:
            for line in f.read().decode(errors="replace").splitlines():
                parts = line.split(" ", 2)
                if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
                    rows.append((int(parts[0]), int(parts[1]), parts[2]))
        return rows

    def assignment(self):
        """Partitions of the latest assignment, or None before the first one; a revocation
        after it empties it."""
        current = None
        with open(self.err_path, "rb") as f:
            for line in f.read().decode(errors="replace").splitlines():
                m = ASSIGNED.search(line)
                if m:
                    current = {int(p) for p in re.findall(r"\[(\d+)\]", m.group(3))}
                    continue
                m = REVOKED.search(line)
                if m and current is not None:
                    current -= {int(p) for p in re.findall(r"\[(\d+)\]", m.group(3))}
        return current

    def stderr(self):
        return harness.tail(self.err_path, 30)


def produce(ctx, b, first, count):
    lines = "".join(f"k{i}:v{i}\n" for i in range(first, first + count))
    ctx.run(["kcat", "-b", b.bootstrap, "-P", "-t", TOPIC, "-K:", "-X",
             "topic.partitioner=murmur2_random", "-X", "broker.address.family=v4"],
            input=lines, timeout=30)


def wait_for(what, cond, timeout, detail=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    harness.fail(f"timed out after {timeout}s waiting for {what}\n{detail()}")


def owners(members):
    """partition -> [member names] by each live member's latest assignment."""
    out = {p: [] for p in range(PARTITIONS)}
    for m in members:
        for p in m.assignment() or ():
            out.setdefault(p, []).append(m.name)
    return out


def exactly_one_owner(members):
    o = owners(members)
    return all(len(v) == 1 for v in o.values()) and len(o) == PARTITIONS


def keys_read(members):
    return {k for m in members for (_, _, k) in m.records()}


def describe(members):
    return "\n".join(f"{m.name}: assignment {sorted(m.assignment() or [])}, "
                     f"{len(m.records())} records\n{m.stderr()}" for m in members)


def committed(b, group):
    """{partition: offset} committed by `group`, through kafka-python's admin client."""
    from kafka import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=10000)
    try:
        offsets = admin.list_consumer_group_offsets(group)
    finally:
        admin.close()
    return {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == TOPIC}


def test(ctx):
    b = ctx.broker(overrides=["group.initial.rebalance.delay.ms=0",
                              "offsets.topic.num.partitions=4"])
    ctx.run([ctx.strata, "topics", "create", TOPIC, "--partitions", str(PARTITIONS),
             "--bootstrap-server", b.bootstrap])
    produce(ctx, b, 0, 600)
    all_keys = {f"k{i}" for i in range(600)}

    members = [Member(ctx, b, "g1", f"m{i}") for i in range(3)]
    wait_for("three members to own every partition exactly once, each owning some",
             lambda: exactly_one_owner(members) and all(m.assignment() for m in members),
             60, lambda: describe(members))
    wait_for("the group to read all 600 records", lambda: keys_read(members) >= all_keys, 60,
             lambda: describe(members))
    # Each record was read by one member (a rebalance may re-deliver a few uncommitted ones).
    total = sum(len(m.records()) for m in members)
    expect(total < 600 * 1.2, f"{total} deliveries for 600 records: too much re-delivery")

    # A member leaving cleanly hands its partitions over at once.
    leaver, killed, survivor = members
    leaver.proc.send_signal(signal.SIGTERM)
    leaver.proc.wait(timeout=20)
    rest = [killed, survivor]
    wait_for("the two remaining members to own all partitions",
             lambda: exactly_one_owner(rest) and all(m.assignment() for m in rest), 30,
             lambda: describe(rest))

    # A member killed outright is found dead by the session timeout (6 s).
    killed.proc.kill()
    killed.proc.wait()
    started = time.monotonic()
    wait_for("the survivor to own all six partitions",
             lambda: owners([survivor]) and exactly_one_owner([survivor]), 40,
             lambda: describe([survivor]))
    took = time.monotonic() - started
    expect(took >= 3.0, f"the killed member's partitions moved after {took:.1f}s, before its "
                        "session could have expired")

    produce(ctx, b, 600, 60)
    wait_for("the survivor to read the 60 new records",
             lambda: {f"k{i}" for i in range(600, 660)} <= keys_read([survivor]), 30,
             lambda: describe([survivor]))
    survivor.proc.send_signal(signal.SIGTERM)
    survivor.proc.wait(timeout=20)

    # Offsets: the group committed the end of every partition.
    before = committed(b, "g1")
    expect_eq(sum(before.values()), 660, f"committed offsets of g1 ({before}) summed")

    # A new group reads everything from the start, independently of g1.
    fresh = ctx.run(["kcat", "-b", b.bootstrap, "-G", "g2", TOPIC, "-e", "-f", "%k\n",
                     "-X", "auto.offset.reset=earliest", "-X", "broker.address.family=v4"],
                    timeout=60)
    got = fresh.stdout.splitlines()
    expect_eq(sorted(set(got)), sorted({f"k{i}" for i in range(660)}), "group g2's records")
    expect_eq(len(got), 660, "records read by g2")

    # Committed offsets survive a broker restart; g1 then resumes where it left off.
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")
    b.start()
    after = committed(b, "g1")
    expect_eq(after, before, "g1's committed offsets after a restart")
    produce(ctx, b, 660, 6)
    again = ctx.run(["kcat", "-b", b.bootstrap, "-G", "g1", TOPIC, "-e", "-f", "%k\n",
                     "-X", "broker.address.family=v4"], timeout=60)
    expect_eq(sorted(again.stdout.splitlines()), sorted(f"k{i}" for i in range(660, 666)),
              "g1 after the restart reads only the records produced since")
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
