"""Idempotent producers (KIP-98) of three real clients against strata, each record written
exactly once:

1. confluent-kafka 1.7.0 (librdkafka 2.0.2) with enable.idempotence=true: 2,000 keyed records
   to a 3-partition topic; every delivery report succeeds, and reading the partitions back
   (assign() from the beginning) finds each record once, at its acknowledged offset, in send
   order per partition, offsets dense.
2. kcat 1.7.1 -P -X enable.idempotence=true, read back with kcat -C -e: the same lines, once.
3. kafkajs 2.2.4 producer({ idempotent: true, maxInFlightRequests: 1 }) (InitProducerId v1)
   in js/kafkajs_idempotence.js, sending keyed batches (some gzip) and a sendBatch; its group
   consumer and confluent-kafka both find every record once.
4. Restart: producer A writes, the broker stops cleanly (SIGTERM, exit 0) and starts again on
   the same data dir; A goes on with its producer id and next sequences (the broker rebuilt the
   sequence state from the log), a new producer B gets a new producer id; all delivered, the
   topic holds every record once.
5. Retries: librdkafka goes through a loopback proxy (the broker advertises the proxy's port)
   that drops the connection instead of forwarding some Produce responses. The broker had
   written those batches, so librdkafka's retries (same producer id, epoch and sequences) are
   duplicates: they must be acknowledged with the offsets of the lost responses and not written
   again. At the third lost response the proxy also keeps the client out while the broker
   restarts, so that one retry meets a broker that knows the batch only from its log.

For every topic the stored batch headers (raw Fetch v4) are checked too: each batch carries a
producer id >= 0, and per producer id and epoch the base sequences run 0, 1, 2... without a
gap or a repeat — which is what the broker's sequence check keeps. The broker's log must show
no WARN/ERROR line and no refused produce.

Needs python3-confluent-kafka (else skipped); kcat and kafkajs (`npm install` in js/) are
optional: without one, the other parts still run and the test then reports itself skipped."""

import collections
import os
import shutil
import socket
import struct
import threading
import time

import harness
import kwire
from harness import Skip, expect, expect_eq

try:
    from confluent_kafka.admin import AdminClient, NewTopic
    import ck
except ImportError as e:  # the Debian package is missing, or not the system python3
    ck = None
    IMPORT_ERROR = e

PARTITIONS = 3


# ---- helpers ---------------------------------------------------------------------------------

def create_topics(b, *names):
    admin = AdminClient(harness.confluent_config(b))
    futs = admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names],
                               operation_timeout=10)
    for f in futs.values():
        f.result(timeout=15)


def idempotent_producer(b, errors, bootstrap=None, **extra):
    """An enable.idempotence=true producer; client-level errors are appended to `errors`."""
    conf = {"enable.idempotence": True, "linger.ms": 5, "error_cb": errors.append}
    if bootstrap is not None:
        conf["bootstrap.servers"] = bootstrap
    conf.update(extra)
    return ck.producer(b, **conf)


def produce_all(p, acks, topic, items, flush_timeout=60):
    """items: [(key, value)]; produces them in order and flushes; every report must be ok."""
    for key, value in items:
        while True:
            try:
                p.produce(topic, key=key, value=value, on_delivery=acks.on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    expect_eq(p.flush(flush_timeout), 0, f"{topic}: messages still queued after flush")
    expect(not acks.errors, f"{topic}: delivery errors: {acks.errors[:5]}")


def check_client_errors(errors, what):
    """librdkafka reports a fatal error when the idempotence guarantees break (e.g. an
    OUT_OF_ORDER_SEQUENCE_NUMBER or INVALID_PRODUCER_EPOCH it cannot recover from); apart from
    lost connections (a restart, the proxy) there must be no client error at all."""
    bad = [e for e in errors if e.fatal() or not ck.is_benign_transport_error(e)]
    expect(not bad, f"{what}: client errors: {bad[:5]}")


def check_exactly_once(log, marks, sent, topic, acks=None):
    """sent: [(key, value)] in the order produced (one producer at a time). The log must hold
    each value exactly once, nothing else; offsets dense; per partition the values in send
    order; a key always in one partition; acknowledged offsets (if given) hold their value."""
    if acks is not None:
        ck.check_log_against_acks(log, marks, acks, topic)
        expect_eq(acks.count(), len(sent), f"{topic}: acknowledged records")
    order = {value: n for n, (_key, value) in enumerate(sent)}
    expect_eq(len(order), len(sent), f"{topic}: distinct values sent (test bug)")
    seen = {}  # value -> where it was read
    key_partition = {}
    for p, recs in log.items():
        low, high = marks[p]
        expect_eq([r[0] for r in recs], list(range(low, high)), f"{topic}-{p}: offsets")
        last = -1
        for off, key, value, _headers in recs:
            expect(value not in seen, f"{topic}: {value!r} stored twice, at {seen.get(value)} "
                                      f"and {topic}-{p}@{off}")
            seen[value] = f"{topic}-{p}@{off}"
            n = order.get(value)
            expect(n is not None, f"{topic}-{p}@{off}: value {value!r} was never sent")
            expect(n > last, f"{topic}-{p}@{off}: {value!r} (sent #{n}) after sent #{last}: "
                             f"per-partition order broken")
            last = n
            expect_eq(key, sent[n][0], f"{topic}-{p}@{off}: key of {value!r}")
            if key is not None:
                expect_eq(key_partition.setdefault(key, p), p, f"{topic}: partition of key {key!r}")
    missing = [v for v in order if v not in seen]
    expect(not missing, f"{topic}: {len(missing)} value(s) never stored, e.g. {missing[:5]}")
    expect_eq(len(seen), len(sent), f"{topic}: records stored")


BatchHeader = collections.namedtuple(
    "BatchHeader", "base_offset last_offset producer_id producer_epoch base_sequence count")


def stored_batches(port, topic, partition):
    """Every batch header of a partition, read with raw Fetch v4 requests."""
    out = []
    offset = 0
    with kwire.Conn(port) as c:
        while True:
            resp = kwire.parse_fetch_v4(
                c.call(kwire.API_FETCH, 4, kwire.fetch_v4(topic, partition, offset)))
            err, hw, recs = resp[(topic, partition)]
            expect_eq(err, 0, f"raw fetch {topic}-{partition}@{offset}: error")
            if offset >= hw:
                return out
            pos, before = 0, len(out)
            recs = recs or b""
            while len(recs) - pos >= 61:
                base, length = struct.unpack_from(">qi", recs, pos)
                if pos + 12 + length > len(recs):
                    break
                lod, = struct.unpack_from(">i", recs, pos + 23)
                pid, epoch, seq, count = struct.unpack_from(">qhii", recs, pos + 43)
                out.append(BatchHeader(base, base + lod, pid, epoch, seq, count))
                pos += 12 + length
                offset = base + lod + 1
            expect(len(out) > before, f"raw fetch {topic}-{partition}@{offset}: no whole batch "
                                      f"in {len(recs)} bytes below the high watermark {hw}")


def check_sequences(port, topic):
    """Each stored batch is an idempotent producer's; per (producer id, partition) the epochs
    never go down and, within an epoch, base sequences start at 0 and follow each other.
    Returns {producer_id: records}."""
    per_pid = collections.Counter()
    for p in range(PARTITIONS):
        state = {}  # pid -> (epoch, next sequence)
        for h in stored_batches(port, topic, p):
            where = f"{topic}-{p} batch at offset {h.base_offset} ({h})"
            expect(h.producer_id >= 0 and h.producer_epoch >= 0 and h.base_sequence >= 0,
                   f"{where}: expected an idempotent batch (producer id, epoch, sequence set)")
            expect_eq(h.last_offset - h.base_offset + 1, h.count, f"{where}: offsets vs count")
            epoch, nxt = state.get(h.producer_id, (h.producer_epoch, 0))
            expect(h.producer_epoch >= epoch, f"{where}: epoch went down from {epoch}")
            if h.producer_epoch > epoch:
                epoch, nxt = h.producer_epoch, 0
            expect_eq(h.base_sequence, nxt, f"{where}: base sequence (a gap or a duplicate)")
            state[h.producer_id] = (epoch, nxt + h.count)
            per_pid[h.producer_id] += h.count
    return dict(per_pid)


def check_broker_log(b):
    """No WARN/ERROR line, and no produce refused (the broker logs each refusal with the
    sequence numbers it expected); a healthy run has none."""
    bad = [line for line in b.stderr_text().splitlines()
           if " WARN " in line or " ERROR " in line or " [produce] " in line]
    expect(not bad, f"broker log: {len(bad)} unexpected line(s):\n  " + "\n  ".join(bad[:20]))


# ---- 1. confluent-kafka ----------------------------------------------------------------------

def check_confluent(b):
    topic, n = "idem-ck", 2000
    create_topics(b, topic)
    errors = []
    p = idempotent_producer(b, errors)
    acks = ck.AckLog()
    sent = [(f"key-{i % 61}".encode(), f"ck-{i}".encode()) for i in range(n)]
    produce_all(p, acks, topic, sent)
    expect(not errors, f"{topic}: client errors on a healthy broker: {errors[:5]}")
    log, marks = ck.read_all(b, topic, PARTITIONS)
    check_exactly_once(log, marks, sent, topic, acks)
    pids = check_sequences(b.port, topic)
    expect_eq(len(pids), 1, f"{topic}: producer ids in the stored batches ({pids})")
    expect_eq(sum(pids.values()), n, f"{topic}: records under the producer id")
    return set(pids)


# ---- 2. kcat ---------------------------------------------------------------------------------

def check_kcat(ctx, b):
    topic, n = "idem-kcat", 300
    create_topics(b, topic)
    lines = [f"kc-{i % 7}:line {i}" for i in range(n)]
    base = ["kcat", "-b", b.bootstrap, "-m", "10", "-X", "broker.address.family=v4"]
    r = ctx.run(base + ["-P", "-t", topic, "-K:", "-X", "enable.idempotence=true",
                        "-X", "linger.ms=5"], input="\n".join(lines) + "\n", timeout=60)
    expect("ERROR" not in r.stderr, f"kcat -P stderr:\n{r.stderr[-3000:]}")
    out = ctx.run(base + ["-C", "-t", topic, "-e", "-q", "-f", "%p|%o|%k|%s\n"],
                  timeout=60).stdout
    rows = [line.split("|", 3) for line in out.splitlines()]
    expect_eq(sorted(f"{k}:{s}" for _p, _o, k, s in rows), sorted(lines),
              "kcat -C: the lines kcat -P sent, each once")
    by_part = collections.defaultdict(list)
    for part, off, k, s in rows:
        by_part[int(part)].append((int(off), k, int(s.split()[1])))
    for part, recs in by_part.items():
        recs.sort()
        expect_eq([o for o, _k, _i in recs], list(range(len(recs))), f"{topic}-{part}: offsets")
        idx = [i for _o, _k, i in recs]
        expect_eq(idx, sorted(idx), f"{topic}-{part}: line order")
    pids = check_sequences(b.port, topic)
    expect_eq(sum(pids.values()), n, f"{topic}: records under producer ids ({pids})")
    return set(pids)


# ---- 3. kafkajs ------------------------------------------------------------------------------

def check_kafkajs(ctx, b):
    topic = "idem-js"
    create_topics(b, topic)
    result = harness.run_kafkajs(ctx, "kafkajs_idempotence.js", b)  # may raise Skip
    sent = result["sent"]
    expect_eq(len(sent), 12 * 40 + 3, "records the kafkajs producer reported")
    expect_eq(result["consumed"], len(sent), "records kafkajs's consumer read")
    log, marks = ck.read_all(b, topic, PARTITIONS)
    stored = {(p, r[0]): r[2] for p, recs in log.items() for r in recs}
    expect_eq(len(stored), len(sent), f"records in {topic}")
    for s in sent:
        at = (s["partition"], s["offset"])
        expect_eq(stored.get(at), s["value"].encode(), f"{topic}-{at[0]}@{at[1]}")
    values = collections.Counter(stored.values())
    expect_eq(max(values.values()), 1, f"{topic}: most copies of one value")
    pids = check_sequences(b.port, topic)
    expect_eq(len(pids), 1, f"{topic}: producer ids in the stored batches ({pids})")
    return set(pids)


# ---- 4. restart ------------------------------------------------------------------------------

def check_restart(b, earlier_pids):
    topic = "idem-restart"
    create_topics(b, topic)
    acks = ck.AckLog()
    sent = [(f"r{i % 31}".encode(), f"restart-{i}".encode()) for i in range(2000)]
    errors = []
    a = idempotent_producer(b, errors)
    produce_all(a, acks, topic, sent[:1000])
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM (clean shutdown)")
    expect("stopped cleanly" in b.stderr_text(), "broker log: expected 'stopped cleanly'")
    b.start()
    # The same producer goes on: its next sequences must follow what the log holds.
    produce_all(a, acks, topic, sent[1000:1500])
    check_client_errors(errors, f"{topic}: producer A")
    # A new producer: a new producer id, sequences from 0.
    errors_b = []
    bp = idempotent_producer(b, errors_b)
    produce_all(bp, acks, topic, sent[1500:])
    expect(not errors_b, f"{topic}: producer B client errors: {errors_b[:5]}")
    log, marks = ck.read_all(b, topic, PARTITIONS)
    check_exactly_once(log, marks, sent, topic, acks)
    pids = check_sequences(b.port, topic)
    expect_eq(sorted(pids.values()), [500, 1500],
              f"{topic}: records per producer id (A 1,500 across the restart, B 500)")
    # Producer ids are never handed out twice, also not after a restart.
    expect(not set(pids) & earlier_pids,
           f"{topic}: producer ids {sorted(pids)} already used by the earlier producers "
           f"{sorted(earlier_pids)}")


# ---- 5. retries through a proxy that drops Produce responses ----------------------------------

class DroppingProxy:
    """A loopback TCP proxy to the broker that reads Kafka frames both ways and, for every
    `every`-th Produce response (up to `limit` times), closes both connections instead of
    forwarding it: the broker has appended the batch, the client never hears so. At the
    `hold_at`-th drop it also stops letting connections through (they are closed at once)
    until release(): the test restarts the broker meanwhile, so that the client's retry meets
    a broker that knows the batch only from its log."""

    def __init__(self, every, limit, hold_at):
        self.target_port = None  # set once the broker is up
        self.every, self.limit, self.hold_at = every, limit, hold_at
        self.lock = threading.Lock()
        self.produce_responses = 0
        self.dropped = []  # [(partition, error_code, base_offset)] of the lost responses
        self.held = threading.Event()
        self.holding = False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self):
        with self.lock:
            self.holding = False

    def close(self):
        self.closed = True
        self.listener.close()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                holding = self.holding
            try:
                if holding:
                    raise OSError("holding")
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                server.settimeout(None)
            except OSError:
                self._close(client)
                continue
            versions = {}  # correlation id -> Produce request version
            threading.Thread(target=self._upstream, args=(client, server, versions),
                             daemon=True).start()
            threading.Thread(target=self._downstream, args=(client, server, versions),
                             daemon=True).start()

    @staticmethod
    def _frame(sock):
        data = b""
        while len(data) < 4:
            chunk = sock.recv(4 - len(data))
            if not chunk:
                return None
            data += chunk
        size, = struct.unpack(">i", data)
        body = bytearray()
        while len(body) < size:
            chunk = sock.recv(min(1 << 20, size - len(body)))
            if not chunk:
                return None
            body += chunk
        return data + bytes(body)

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _upstream(self, client, server, versions):
        try:
            while (frame := self._frame(client)) is not None:
                api_key, version, corr = struct.unpack_from(">hhi", frame, 4)
                if api_key == kwire.API_PRODUCE:
                    versions[corr] = version
                server.sendall(frame)
        except OSError:
            pass
        self._close(client, server)

    @staticmethod
    def _parse_produce_response(body, version):
        """-> [(partition, error_code, base_offset)] of a Produce response v3..v7."""
        r = kwire.Reader(body)
        out = []
        for _ in range(r.i32()):
            r.string()
            for _ in range(r.i32()):
                index, err, base = r.i32(), r.i16(), r.i64()
                r.i64()  # log_append_time
                if version >= 5:
                    r.i64()  # log_start_offset
                out.append((index, err, base))
        return out

    def _downstream(self, client, server, versions):
        try:
            while (frame := self._frame(server)) is not None:
                corr, = struct.unpack_from(">i", frame, 4)
                version = versions.pop(corr, None)
                if version is not None:
                    with self.lock:
                        self.produce_responses += 1
                        drop = (self.produce_responses % self.every == 0 and
                                len(self.dropped) < self.limit)
                        if drop:
                            self.dropped += self._parse_produce_response(frame[8:], version)
                            if len(self.dropped) == self.hold_at:
                                self.holding = True
                                self.held.set()
                    if drop:
                        break
                client.sendall(frame)
        except OSError:
            pass
        self._close(client, server)


def check_retries(ctx):
    # The broker advertises the proxy's port, so that librdkafka's connection to the
    # advertised address (after the bootstrap) goes through the proxy too.
    proxy = DroppingProxy(every=7, limit=6, hold_at=3)
    try:
        b = ctx.broker("proxied", start=False,
                       overrides=[f"advertised.listeners=PLAINTEXT://127.0.0.1:{proxy.port}"])
        b.start()
        proxy.target_port = b.port
        topic = "idem-retry"
        create_topics(b, topic)
        errors = []
        p = idempotent_producer(b, errors, bootstrap=f"127.0.0.1:{proxy.port}",
                                **{"linger.ms": 20, "batch.num.messages": 100})
        acks = ck.AckLog()
        sent = [(f"x{i % 17}".encode(), f"retry-{i}".encode()) for i in range(3000)]
        for key, value in sent:  # 3,000 fit in librdkafka's queue: no BufferError
            p.produce(topic, key=key, value=value, on_delivery=acks.on_delivery)
        # At the hold_at-th lost response, restart the broker while the proxy keeps the client
        # out. (In this thread: the harness's children die with the thread that started them.)
        restarted = []
        deadline = time.monotonic() + 60
        while len(p) > 0 and time.monotonic() < deadline:
            p.poll(0.05)
            if proxy.held.is_set() and not restarted:
                try:
                    restarted.append(b.stop())
                    b.start()
                finally:
                    proxy.release()
        expect_eq(p.flush(10), 0, f"{topic}: messages still queued after 60 s")
        expect(not acks.errors, f"{topic}: delivery errors: {acks.errors[:5]}")
        check_client_errors(errors, topic)
        del p  # no reconnect attempts once the broker stops
        expect(restarted == [0],
               f"{topic}: expected one clean broker restart while the proxy held the "
               f"connections (exit statuses {restarted}, {len(proxy.dropped)} dropped)")
        dropped = list(proxy.dropped)
        expect(len(dropped) >= proxy.hold_at,
               f"proxy: expected at least {proxy.hold_at} dropped Produce responses, saw "
               f"{len(dropped)} of {proxy.produce_responses}")
        # The lost responses said the broker had written those batches: the client's retries
        # were duplicates, and its acknowledgement must name the offset the lost response had.
        for part, err, base in dropped:
            expect_eq(err, 0, f"{topic}-{part}: error in a dropped Produce response")
            expect((part, base) in acks.acked,
                   f"{topic}-{part}: the lost response put a batch at offset {base}, but the "
                   f"client's acknowledgements do not start a record there")
        log, marks = ck.read_all(b, topic, PARTITIONS)
        check_exactly_once(log, marks, sent, topic, acks)
        pids = check_sequences(b.port, topic)
        expect_eq(len(pids), 1, f"{topic}: producer ids in the stored batches ({pids})")
        check_broker_log(b)
        expect_eq(b.stop(), 0, "proxied broker exit status after SIGTERM")
        return len(dropped), proxy.produce_responses
    finally:
        proxy.release()
        proxy.close()


# ---- the test --------------------------------------------------------------------------------

def test(ctx):
    if ck is None:
        raise Skip(f"python3-confluent-kafka is not importable ({IMPORT_ERROR})")
    ctx.extra.setdefault("js-dir", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "js"))
    missing = []
    b = ctx.broker()
    t = time.monotonic()
    pids = check_confluent(b)
    print(f"  confluent-kafka: 2000 records exactly once ({time.monotonic() - t:.1f}s)")
    t = time.monotonic()
    if shutil.which("kcat"):
        pids |= check_kcat(ctx, b)
        print(f"  kcat: 300 lines exactly once ({time.monotonic() - t:.1f}s)")
    else:
        missing.append("kcat is not installed")
    t = time.monotonic()
    try:
        pids |= check_kafkajs(ctx, b)
        print(f"  kafkajs: 483 records exactly once ({time.monotonic() - t:.1f}s)")
    except Skip as s:
        missing.append(str(s))
    t = time.monotonic()
    check_restart(b, pids)
    print(f"  restart: 2000 records from two producers exactly once "
          f"({time.monotonic() - t:.1f}s)")
    check_broker_log(b)
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")
    t = time.monotonic()
    dropped, responses = check_retries(ctx)
    print(f"  retries: {dropped} of {responses} Produce responses dropped, 3000 records "
          f"exactly once ({time.monotonic() - t:.1f}s)")
    if missing:
        raise Skip("the other parts passed, but " + "; ".join(missing))


if __name__ == "__main__":
    harness.main(test)
