"""Hostile input over raw sockets, while well-behaved clients keep working.

Each case opens its own connection and sends one malformed (or abusive) input; the broker must
answer with the right error or close that connection, and nothing else. Throughout, a
confluent-kafka producer streams records with acks=all in the background, and after every case
a probe produces one record and reads it back. At the end the broker must still be alive, the
background producer must have had no errors, and every acknowledged record must be readable at
its offset. The random cases print their seed (STRATA_MALFORMED_SEED=<n> reproduces them).
"""

import os
import random
import socket
import struct
import threading
import time
import zlib

import ck
import harness
import kwire
from harness import expect, expect_eq, fail
from kwire import i16, i32, string, array

CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC = 17
UNSUPPORTED_VERSION = 35
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_REQUIRED_ACKS = 21
UNSUPPORTED_COMPRESSION_TYPE = 76
INVALID_RECORD = 87
MESSAGE_TOO_LARGE = 10
TOPIC = "hostile"   # raw produces go here; its exact content is checked at the end
STEADY = "steady"   # the background producer's topic
PROBE = "probe"


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return -1


def under_asan(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def one_batch(value=b"v", key=b"k", **kw):
    return kwire.record_batch([(key, value, [])], **kw)


class Outcome:
    def __init__(self, closed, data):
        self.closed, self.data = closed, data

    def frames(self):
        """Whole response frames received: [(correlation_id, body)]."""
        out, pos = [], 0
        while len(self.data) - pos >= 4:
            n = struct.unpack(">i", self.data[pos:pos + 4])[0]
            if n < 4 or pos + 4 + n > len(self.data):
                break
            out.append((struct.unpack(">i", self.data[pos + 4:pos + 8])[0],
                        self.data[pos + 8:pos + 4 + n]))
            pos += 4 + n
        return out

    def __repr__(self):
        return f"closed={self.closed}, {len(self.data)} bytes received: {self.data[:64]!r}"


class Suite:
    def __init__(self, ctx, b):
        self.ctx, self.b = ctx, b
        self.cases = 0
        self.probes = 0
        self.hostile_values = []  # values accepted into TOPIC-0, in order

    # ---- sending ----------------------------------------------------------------------------

    def send(self, data, half_close=False, timeout=5.0):
        """Sends `data` on a fresh connection; returns what came back before the broker closed
        (or before `timeout`). half_close: shut our write side so the broker sees EOF."""
        with kwire.Conn(self.b.port) as c:
            try:
                c.send_raw(data)
                if half_close:
                    c.sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                return Outcome(True, b"")
            closed, got = c.wait_closed(timeout)
            return Outcome(closed, got)

    def case(self, name, fn):
        self.cases += 1
        try:
            fn()
        except harness.TestFailure as e:
            fail(f"case '{name}': {e}")
        except Exception as e:  # a socket error or parse error is a failed case too
            fail(f"case '{name}': {type(e).__name__}: {e}")
        expect(self.b.alive(), f"broker died on case '{name}'")
        self.probe(name)

    def expect_closed(self, name, data, half_close=False):
        out = self.send(data, half_close)
        expect(out.closed and not out.data,
               f"{name}: expected the broker to close the connection without a response, "
               f"saw {out}")

    def expect_error_or_close(self, name, data, cid):
        """The broker may answer (correlation id `cid`) or close; it must not stay silent or
        answer some other request."""
        out = self.send(data, half_close=True)
        expect(out.closed, f"{name}: expected a close after our EOF, saw {out}")
        for got_cid, _ in out.frames():
            expect_eq(got_cid, cid, f"{name}: correlation id of the response")

    # ---- the well-behaved client ------------------------------------------------------------

    def start_clients(self):
        self.steady_acks = ck.AckLog()
        self.steady_stop = threading.Event()
        self.steady_producer = ck.producer(self.b, **{"message.timeout.ms": 20000})
        self.steady = threading.Thread(target=self._steady_loop, daemon=True)
        self.steady.start()
        self.probe_producer = ck.producer(self.b, **{"linger.ms": 0})
        self.probe_consumer = ck.consumer(self.b)
        from confluent_kafka import TopicPartition
        self.probe_consumer.assign([TopicPartition(PROBE, 0, 0)])

    def _steady_loop(self):
        i = 0
        while not self.steady_stop.is_set():
            try:
                self.steady_producer.produce(STEADY, key=f"k{i % 7}".encode(),
                                             value=f"s{i}".encode(),
                                             on_delivery=self.steady_acks.on_delivery)
                i += 1
            except BufferError:
                pass
            self.steady_producer.poll(0.005)

    def probe(self, after):
        """Produce one record and read it back, within 10 s each way."""
        self.probes += 1
        value = f"probe-{self.probes}".encode()
        acks = ck.AckLog()
        self.probe_producer.produce(PROBE, value=value, partition=0,
                                    on_delivery=acks.on_delivery)
        left = self.probe_producer.flush(10)
        expect(left == 0 and not acks.errors and acks.count() == 1,
               f"after case '{after}': probe produce expected 1 ack, saw {acks.count()} acks, "
               f"errors {acks.errors}, {left} unsent")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for m in self.probe_consumer.consume(10, timeout=0.2):
                if m.error():
                    fail(f"after case '{after}': probe consume error {m.error()}")
                if m.value() == value:
                    return
        fail(f"after case '{after}': probe record {value!r} not read back within 10 s")

    # ---- raw produce on a kept connection ----------------------------------------------------

    def produce(self, conn, records, partition=0, acks=-1, topic=TOPIC, version=3):
        resp = kwire.parse_produce_v3(conn.call(kwire.API_PRODUCE, version,
                                                kwire.produce_v3(topic, partition, records,
                                                                 acks=acks)))
        expect_eq(list(resp), [(topic, partition)], "partitions in the Produce response")
        return resp[(topic, partition)]

    def produce_ok(self, conn, value):
        err, base = self.produce(conn, one_batch(value))
        expect_eq(err, 0, f"error code of a valid Produce of {value!r} (connection reused)")
        expect_eq(base, len(self.hostile_values), f"base offset of {value!r}")
        self.hostile_values.append(value)


# ---- the cases ---------------------------------------------------------------------------------

def framing_cases(s):
    hdr = i16(kwire.API_API_VERSIONS) + i16(0) + i32(1) + string("x")
    s.case("negative size", lambda: s.expect_closed("size -1", i32(-1) + hdr))
    s.case("most negative size", lambda: s.expect_closed("size -2^31", i32(-2**31) + hdr))
    s.case("size over 100 MiB", lambda: s.expect_closed(
        "size 100 MiB + 1", i32(100 * 1024 * 1024 + 1) + hdr))
    s.case("size 2^31-1", lambda: s.expect_closed("size 2^31-1", i32(2**31 - 1) + hdr))
    s.case("size zero", lambda: s.expect_closed("size 0", i32(0)))
    s.case("truncated header (4 of 8 fixed bytes)", lambda: s.expect_closed(
        "4-byte frame", i32(4) + i16(18) + i16(0)))
    s.case("header without client id", lambda: s.expect_closed(
        "8-byte frame", i32(8) + i16(18) + i16(0) + i32(7)))
    s.case("client id longer than the frame", lambda: s.expect_closed(
        "client id length 30000", i32(10) + i16(18) + i16(0) + i32(7) + i16(30000)))
    s.case("frame cut short, then EOF", lambda: s.expect_closed(
        "100-byte frame with 12 bytes", i32(100) + hdr, half_close=True))
    s.case("size prefix cut short, then EOF", lambda: s.expect_closed(
        "2 bytes", b"\x00\x00", half_close=True))


def version_cases(s):
    def unknown_key(key):
        data = kwire.request(key, 0, 41, b"")
        s.expect_error_or_close(f"api key {key}", data, 41)
    s.case("unknown api key 9999", lambda: unknown_key(9999))
    s.case("negative api key", lambda: unknown_key(-1))
    s.case("api key not served (60, DescribeCluster)", lambda: unknown_key(60))
    s.case("Produce v2 carrying a v3 body", lambda: s.expect_error_or_close(
        "Produce v2", kwire.request(0, 2, 42, kwire.produce_v3(TOPIC, 0, one_batch())), 42))
    s.case("Produce v99", lambda: s.expect_error_or_close(
        "Produce v99", kwire.request(0, 99, 43, kwire.produce_v3(TOPIC, 0, one_batch())), 43))

    def api_versions_v99():
        with kwire.Conn(s.b.port) as c:
            c.send_raw(kwire.request(kwire.API_API_VERSIONS, 99, 77, b"\x00garbage"))
            cid, body = c.recv_frame()
            expect_eq(cid, 77, "correlation id of the ApiVersions v99 answer")
            r = kwire.Reader(body)
            err = r.i16()
            apis = r.array(lambda r: (r.i16(), r.i16(), r.i16()))
            expect_eq(err, UNSUPPORTED_VERSION, "ApiVersions v99 error code")
            expect_eq(r.remaining(), 0, "bytes after the v0-layout ApiVersions body")
            versions = {k: (lo, hi) for k, lo, hi in apis}
            expect(18 in versions and versions[18][0] == 0 and versions[18][1] >= 3,
                   f"ApiVersions v99 answer: expected key 18 with range 0..>=3, saw {apis}")
            # The connection stays usable: a v0 request now succeeds.
            err, apis = kwire.parse_api_versions_v0(c.call(kwire.API_API_VERSIONS, 0, b""))
            expect_eq(err, 0, "ApiVersions v0 after v99 on the same connection")
    s.case("ApiVersions v99", api_versions_v99)


def garbage_body_cases(s):
    def garbage(name, key, version, body):
        s.case(name, lambda: s.expect_error_or_close(
            name, kwire.request(key, version, 5, body), 5))
    garbage("Metadata v1, array count 5 and no elements", 3, 1, i32(5))
    garbage("Metadata v1, array count 2^31-1", 3, 1, i32(2**31 - 1) + b"\x00" * 16)
    garbage("CreateTopics v0, array count 2^31-1", 19, 0, i32(2**31 - 1) + i32(0))
    garbage("Produce v3, topic name length beyond the frame", 0, 3,
            string(None) + i16(-1) + i32(1000) + i32(1) + i16(30000) + b"abc")
    garbage("Produce v3, records length beyond the frame", 0, 3,
            string(None) + i16(-1) + i32(1000) + array([string(TOPIC) + array(
                [i32(0) + i32(10**6) + b"\x00" * 20])]))
    garbage("Produce v3, negative records length other than -1", 0, 3,
            string(None) + i16(-1) + i32(1000) + array([string(TOPIC) + array(
                [i32(0) + i32(-7)])]))
    garbage("Fetch v4, all 0xff", 1, 4, b"\xff" * 64)
    garbage("ListOffsets v1, truncated", 2, 1, i32(-1) + i32(1) + i16(3) + b"ab")
    garbage("ApiVersions v3, compact strings too long", 18, 3,
            b"\x00" + b"\xff\xff\xff\xff\x0f" + b"x")


def produce_cases(s):
    conn = kwire.Conn(s.b.port)
    try:
        # The topic exists before the hostile produces (Metadata v1 auto-creates it).
        _, topics = kwire.parse_metadata_v1(conn.call(kwire.API_METADATA, 1,
                                                      kwire.metadata_v1([TOPIC])))
        expect_eq(topics.get(TOPIC), (0, [0]), f"metadata of {TOPIC}")
        s.produce_ok(conn, b"before")

        def refused(name, records, code, acks=-1):
            def run():
                err, base = s.produce(conn, records, acks=acks)
                expect_eq(err, code, f"{name}: partition error code")
                expect_eq(base, -1, f"{name}: base offset of a refused batch")
                s.produce_ok(conn, f"after {name}".encode())
            s.case(name, run)

        good = one_batch(b"x" * 20)
        bad_crc = bytearray(good)
        bad_crc[-3] ^= 0xFF  # a byte of the record, inside the CRC's range
        refused("corrupt CRC", bytes(bad_crc), CORRUPT_MESSAGE)
        flipped_crc = bytearray(good)
        flipped_crc[17] ^= 0x01  # the CRC field itself
        refused("wrong CRC field", bytes(flipped_crc), CORRUPT_MESSAGE)
        refused("batch length longer than the data",
                good[:8] + i32(len(good) - 12 + 50) + good[12:], CORRUPT_MESSAGE)
        refused("batch length shorter than the data",
                good[:8] + i32(len(good) - 12 - 5) + good[12:], CORRUPT_MESSAGE)
        refused("batch length below the header size",
                good[:8] + i32(10) + good[12:], CORRUPT_MESSAGE)
        refused("batch length negative", good[:8] + i32(-1) + good[12:], CORRUPT_MESSAGE)
        refused("trailing garbage after a whole batch", good + b"\x01\x02\x03", CORRUPT_MESSAGE)
        refused("half a batch header", good[:30], CORRUPT_MESSAGE)
        refused("records count 5 but one record (valid CRC)",
                one_batch(records_count=5), INVALID_RECORD)
        refused("compression codec 7 (valid CRC)",
                kwire.record_batch([(b"k", b"v", [])], attributes=7),
                UNSUPPORTED_COMPRESSION_TYPE)
        refused("gzip codec over garbage (valid CRC)",
                kwire.record_batch([(b"k", b"v", [])], attributes=1,
                                   raw_records=b"not gzip at all"), CORRUPT_MESSAGE)
        refused("record length varint lies (valid CRC)",
                kwire.record_batch([(b"k", b"v", [])],
                                   raw_records=kwire.varint(1000) + b"\x00" * 8),
                INVALID_RECORD)
        refused("record varint never ends (valid CRC)",
                kwire.record_batch([(b"k", b"v", [])], raw_records=b"\xff" * 40),
                INVALID_RECORD)
        refused("empty records", b"", CORRUPT_MESSAGE)

        def gzip_bomb():
            # 300 MiB of zeros in ~300 KB of gzip, CRC valid: the broker must stop
            # decompressing at its limit, refuse the batch, and not balloon in memory.
            z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
            chunk = bytes(1 << 20)
            payload = b"".join(z.compress(chunk) for _ in range(300)) + z.flush()
            batch = kwire.record_batch([(b"k", b"v", [])], attributes=1, raw_records=payload)
            err, base = s.produce(conn, batch)
            expect(err in (CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE),
                   f"gzip bomb ({len(batch)} bytes -> 300 MiB): expected error 2, 87 or 10, "
                   f"saw {err}")
            # A guard against gross blow-ups only (copies of the whole output): the broker's
            # decompression limit itself (256 MiB) costs about twice that while growing.
            hwm_mb = peak_rss_mb(s.b.pid())
            limit_mb = 2048 if under_asan(s.b.pid()) else 1024
            print(f"gzip bomb: error {err}, broker peak RSS {hwm_mb} MiB")
            expect(hwm_mb < limit_mb, f"broker peak RSS after the gzip bomb: expected < "
                                      f"{limit_mb} MiB, saw {hwm_mb} MiB")
            s.produce_ok(conn, b"after gzip bomb")
        s.case("gzip bomb (300 MiB of zeros)", gzip_bomb)

        def acks_invalid():
            err, _ = s.produce(conn, one_batch(b"never"), acks=2)
            expect_eq(err, INVALID_REQUIRED_ACKS, "Produce with acks=2: partition error code")
            s.produce_ok(conn, b"after acks=2")
        s.case("acks=2", acks_invalid)

        def unknown_partition():
            err, _ = s.produce(conn, one_batch(b"nowhere"), partition=9999)
            expect_eq(err, UNKNOWN_TOPIC_OR_PARTITION, "Produce to partition 9999")
            s.produce_ok(conn, b"after partition 9999")
        s.case("produce to a missing partition", unknown_partition)
    finally:
        conn.close()

    def acks0_corrupt():
        # acks=0 has no response to carry the error, so the broker closes the connection.
        body = kwire.produce_v3(TOPIC, 0, bytes(bad_crc), acks=0)
        s.expect_closed("acks=0 with a corrupt batch", kwire.request(0, 3, 9, body))
    s.case("acks=0 with a corrupt batch", acks0_corrupt)


def admin_cases(s):
    with kwire.Conn(s.b.port) as conn:
        def bad_topic(name):
            def run():
                _, topics = kwire.parse_metadata_v1(conn.call(kwire.API_METADATA, 1,
                                                              kwire.metadata_v1([name])))
                expect_eq(topics.get(name, (None,))[0], INVALID_TOPIC,
                          f"Metadata error for topic name {name!r}")
            s.case(f"topic name {name[:40]!r}", run)
        for name in ["../../escape", "..", ".", "a/b", "", "x" * 250, "sp ace", "nul\x00l"]:
            bad_topic(name)
        escaped = [p for p in os.listdir(s.ctx.tmp) if "escape" in p]
        expect_eq(escaped, [], "entries named 'escape' outside the data dir")

        def create(name, partitions, rf, code):
            def run():
                res = kwire.parse_create_topics_v0(conn.call(
                    kwire.API_CREATE_TOPICS, 0, kwire.create_topics_v0(name, partitions, rf)))
                expect_eq(res, [(name, code)], f"CreateTopics({name}, {partitions}, {rf})")
            s.case(f"CreateTopics {name} partitions={partitions} rf={rf}", run)
        create("huge", 2**31 - 1, 1, INVALID_PARTITIONS)
        create("zero", 0, 1, INVALID_PARTITIONS)
        create("negative", -5, 1, INVALID_PARTITIONS)
        create("rf3", 1, 3, INVALID_REPLICATION_FACTOR)
        create("rf0", 1, 0, INVALID_REPLICATION_FACTOR)

        def fetch_weird():
            # Error partitions carry empty records, never null: librdkafka 2.0.2 rejects the
            # whole response on a negative MessageSetSize (and then refetches in a hot loop).
            for part, offset, code, what in [
                    (9999, 0, UNKNOWN_TOPIC_OR_PARTITION, "Fetch of partition 9999"),
                    (0, 2**62, 1, "Fetch at offset 2^62: OFFSET_OUT_OF_RANGE")]:
                resp = kwire.parse_fetch_v4(conn.call(kwire.API_FETCH, 4, kwire.fetch_v4(
                    TOPIC, part, offset)))
                err, _, recs = resp[(TOPIC, part)]
                expect_eq(err, code, what)
                expect_eq(recs, b"", f"{what}: records field (b'' = empty, None = null)")
            resp = kwire.parse_fetch_v4(conn.call(kwire.API_FETCH, 4, kwire.fetch_v4(
                TOPIC, 0, 0, max_bytes=-1)))
            expect(resp[(TOPIC, 0)][0] == 0,
                   f"Fetch with max_bytes=-1: expected error 0, saw {resp[(TOPIC, 0)][0]}")
        s.case("fetch: missing partition, far offset, negative max_bytes", fetch_weird)


def abuse_cases(s):
    def pipelined():
        n = 1000
        data = b"".join(kwire.request(kwire.API_API_VERSIONS, 0, i, b"") for i in range(n))
        with kwire.Conn(s.b.port, timeout=20) as c:
            c.send_raw(data)
            for i in range(n):
                cid, body = c.recv_frame()
                expect_eq(cid, i, "correlation ids of 1000 pipelined requests, in order")
                expect_eq(kwire.parse_api_versions_v0(body)[0], 0, "pipelined ApiVersions")
    s.case("1000 pipelined ApiVersions", pipelined)

    def never_reads():
        # A client that sends requests but never reads the responses must not hurt others.
        c = kwire.Conn(s.b.port)
        body = kwire.metadata_v1(None)
        data = b"".join(kwire.request(kwire.API_METADATA, 1, i, body) for i in range(5000))
        c.sock.setblocking(False)
        try:
            c.sock.send(data)
        except BlockingIOError:
            pass
        s.idle.append(c)
    s.case("pipelining client that never reads", never_reads)

    def many_idle():
        for _ in range(100):
            s.idle.append(kwire.Conn(s.b.port))
    s.case("100 idle connections", many_idle)


def random_cases(s, rng, seed):
    served = {0: (3, 7), 1: (4, 11), 2: (1, 5), 3: (0, 8), 18: (0, 3), 19: (0, 4),
              20: (0, 3), 32: (0, 2), 37: (0, 1), 10: (0, 2)}
    for i in range(40):
        n = rng.randrange(1, 3000)
        data = bytes(rng.getrandbits(8) for _ in range(n))
        out = s.send(data, half_close=True)
        expect(out.closed, f"random bytes #{i} (seed {seed}): expected a close after EOF, "
                           f"saw {out}")
        expect(s.b.alive(), f"broker died on random bytes #{i} (seed {seed})")
    s.probe(f"random bytes (seed {seed})")
    for i in range(150):
        key = rng.choice(sorted(served))
        lo, hi = served[key]
        version = rng.randint(lo, hi)
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 200)))
        if key in (19, 20):  # keep random Create/DeleteTopics from touching real topics
            body = i32(rng.choice([0, 1, -1, 2**31 - 1])) + body
        cid = rng.randrange(2**31)
        out = s.send(kwire.request(key, version, cid, body), half_close=True)
        expect(out.closed, f"random body #{i} for key {key} v{version} (seed {seed}): "
                           f"expected a close after EOF, saw {out}")
        for got, _ in out.frames():
            expect_eq(got, cid, f"random body #{i} key {key} v{version} (seed {seed}): "
                                f"correlation id")
        expect(s.b.alive(), f"broker died on random body #{i}: key {key} v{version} "
                            f"(seed {seed}), body {body.hex()}")
        if i % 25 == 24:
            s.probe(f"random bodies up to #{i} (seed {seed})")


def check_hostile_topic(s):
    with kwire.Conn(s.b.port) as c:
        resp = kwire.parse_fetch_v4(c.call(kwire.API_FETCH, 4, kwire.fetch_v4(TOPIC, 0, 0)))
        err, hw, recs = resp[(TOPIC, 0)]
        expect_eq(err, 0, f"Fetch {TOPIC}-0 error")
        got = [(o, v) for o, _, v, _ in kwire.decode_batches(recs)]
        expected = list(enumerate(s.hostile_values))
        expect_eq(got, expected, f"content of {TOPIC}-0: only the valid produces, in order")
        expect_eq(hw, len(expected), f"high watermark of {TOPIC}-0")


def test(ctx):
    seed = int(os.environ.get("STRATA_MALFORMED_SEED", time.time_ns() % 2**32))
    print(f"random cases use seed {seed} (STRATA_MALFORMED_SEED={seed} reproduces)")
    rng = random.Random(seed)
    b = ctx.broker()
    s = Suite(ctx, b)
    s.idle = []
    # A connection holding half a frame for the whole test (slowloris).
    slow = kwire.Conn(b.port)
    slow.send_raw(i32(1000) + b"\x00\x12\x00\x00")
    s.start_clients()
    s.probe("start")
    try:
        framing_cases(s)
        version_cases(s)
        garbage_body_cases(s)
        produce_cases(s)
        admin_cases(s)
        abuse_cases(s)
        random_cases(s, rng, seed)
        check_hostile_topic(s)
    finally:
        s.steady_stop.set()
        s.steady.join(10)
        for c in s.idle + [slow]:
            c.close()
    left = s.steady_producer.flush(30)
    expect_eq(left, 0, "background producer: records neither acked nor failed")
    expect(not s.steady_acks.errors,
           f"background producer: expected no delivery errors, saw {s.steady_acks.errors[:5]}")
    print(f"{s.cases} cases, {s.probes} probes, background producer acked "
          f"{s.steady_acks.count()} records")
    expect(s.steady_acks.count() > 100, "background producer made progress")
    s.probe_consumer.close()
    md = s.steady_producer.list_topics(STEADY, timeout=10)
    log, marks = ck.read_all(b, STEADY, len(md.topics[STEADY].partitions))
    ck.check_log_against_acks(log, marks, s.steady_acks, STEADY)
    expect(b.alive(), "broker not alive at the end")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
