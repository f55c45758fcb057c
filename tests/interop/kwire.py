"""A tiny, independent Kafka wire codec for the interop tests.

Written from the Kafka protocol documentation, not from strata's code, so that a test built
on it checks the broker against the protocol rather than against itself. It covers only what
the tests send by hand: request header v1, ApiVersions v0, Metadata v1, CreateTopics v0,
Produce v3, Fetch v4, record batch v2 (uncompressed) and CRC-32C.
"""

import socket
import struct

# ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) --------------------------------

_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value"

# ---- primitives ----------------------------------------------------------------------------


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def kbytes(b):
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items, enc=lambda x: x):
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(enc(x) for x in items)


def varint(v):
    """Zigzag varint, as record fields use."""
    z = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        if z & ~0x7F:
            out.append((z & 0x7F) | 0x80)
            z >>= 7
        else:
            out.append(z)
            return bytes(out)


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated: need {n} bytes at {self.pos} of {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def kbytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, dec):
        n = self.i32()
        return None if n < 0 else [dec(self) for _ in range(n)]

    def varint(self):
        shift = z = 0
        while True:
            b = self.take(1)[0]
            z |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")
        return (z >> 1) ^ -(z & 1)

    def remaining(self):
        return len(self.data) - self.pos


# ---- requests ------------------------------------------------------------------------------

API_PRODUCE, API_FETCH, API_LIST_OFFSETS, API_METADATA = 0, 1, 2, 3
API_API_VERSIONS, API_CREATE_TOPICS = 18, 19


def request(api_key, version, correlation_id, body, client_id="strata-interop"):
    """A whole size-prefixed request frame with request header v1."""
    payload = i16(api_key) + i16(version) + i32(correlation_id) + string(client_id) + body
    return i32(len(payload)) + payload


def api_versions_v0():
    return b""


def metadata_v1(topics):
    return array(topics, string)


def create_topics_v0(name, partitions, replication=1, timeout_ms=10000):
    topic = string(name) + i32(partitions) + i16(replication) + array([]) + array([])
    return array([topic]) + i32(timeout_ms)


def produce_v3(topic, partition, records, acks=-1, timeout_ms=10000):
    part = i32(partition) + kbytes(records)
    return string(None) + i16(acks) + i32(timeout_ms) + array([string(topic) + array([part])])


def fetch_v4(topic, partition, offset, max_bytes=1 << 20, max_wait_ms=100):
    part = i32(partition) + i64(offset) + i32(max_bytes)
    return (i32(-1) + i32(max_wait_ms) + i32(1) + i32(max_bytes) + i8(0) +
            array([string(topic) + array([part])]))


def list_offsets_v1(topic, partition, timestamp):
    return i32(-1) + array([string(topic) + array([i32(partition) + i64(timestamp)])])


# ---- record batch v2 -----------------------------------------------------------------------

def encode_record(offset_delta, key, value, headers=(), timestamp_delta=0):
    body = i8(0) + varint(timestamp_delta) + varint(offset_delta)
    for field in (key, value):
        body += varint(-1) if field is None else varint(len(field)) + field
    body += varint(len(headers))
    for hk, hv in headers:
        body += varint(len(hk)) + hk
        body += varint(-1) if hv is None else varint(len(hv)) + hv
    return varint(len(body)) + body


def record_batch(records, base_offset=0, timestamp_ms=1_700_000_000_000, attributes=0,
                 records_count=None, last_offset_delta=None, raw_records=None):
    """records: list of (key, value, headers). Knobs let a test build consistent lies."""
    recs = raw_records if raw_records is not None else b"".join(
        encode_record(i, k, v, h) for i, (k, v, h) in enumerate(records))
    n = len(records) if records_count is None else records_count
    lod = len(records) - 1 if last_offset_delta is None else last_offset_delta
    after_crc = (i16(attributes) + i32(lod) + i64(timestamp_ms) + i64(timestamp_ms) +
                 i64(-1) + i16(-1) + i32(-1) + i32(n) + recs)
    after_length = i32(-1) + i8(2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return i64(base_offset) + i32(len(after_length)) + after_length


def decode_batches(data: bytes):
    """Yields (offset, key, value, headers) from uncompressed v2 batches; stops at a partial
    trailing batch, as a client must."""
    pos = 0
    while len(data) - pos >= 61:
        base_offset, length = struct.unpack(">qi", data[pos:pos + 12])
        end = pos + 12 + length
        if end > len(data):
            break
        r = Reader(data[pos + 12:end])
        r.i32()  # partition leader epoch
        magic = r.i8()
        crc = r.u32()
        if magic != 2:
            raise ValueError(f"magic {magic} at offset {base_offset}")
        if crc32c(data[pos + 21:end]) != crc:
            raise ValueError(f"CRC mismatch in the batch at offset {base_offset}")
        attrs = r.i16()
        if attrs & 7:
            raise ValueError("compressed batches are not decoded here")
        r.i32(); r.i64(); r.i64(); r.i64(); r.i16(); r.i32()
        count = r.i32()
        for _ in range(count):
            r.varint()  # length
            r.i8()
            r.varint()
            delta = r.varint()
            kl = r.varint()
            key = None if kl < 0 else r.take(kl)
            vl = r.varint()
            value = None if vl < 0 else r.take(vl)
            headers = []
            for _ in range(r.varint()):
                hk = r.take(r.varint())
                hl = r.varint()
                headers.append((hk, None if hl < 0 else r.take(hl)))
            yield base_offset + delta, key, value, headers
        pos = end


# ---- responses -----------------------------------------------------------------------------

def parse_api_versions_v0(body):
    r = Reader(body)
    err = r.i16()
    apis = r.array(lambda r: (r.i16(), r.i16(), r.i16()))
    return err, apis


def parse_produce_v3(body):
    """-> {(topic, partition): (error_code, base_offset)}"""
    r = Reader(body)
    out = {}
    for name, parts in r.array(lambda r: (r.string(), r.array(
            lambda r: (r.i32(), r.i16(), r.i64(), r.i64())))):
        for index, err, base, _log_append_time in parts:
            out[(name, index)] = (err, base)
    r.i32()  # throttle
    return out


def parse_fetch_v4(body):
    """-> {(topic, partition): (error_code, high_watermark, records_bytes or None)}"""
    r = Reader(body)
    r.i32()  # throttle
    out = {}

    def part(r):
        index, err, hw, _lso = r.i32(), r.i16(), r.i64(), r.i64()
        r.array(lambda r: (r.i64(), r.i64()))
        return index, err, hw, r.kbytes()  # None if the broker sent null records
    for name, parts in r.array(lambda r: (r.string(), r.array(part))):
        for index, err, hw, recs in parts:
            out[(name, index)] = (err, hw, recs)
    return out


def parse_create_topics_v0(body):
    r = Reader(body)
    return r.array(lambda r: (r.string(), r.i16()))


def parse_metadata_v1(body):
    """-> (brokers, {topic: (error_code, [partition ids])})"""
    r = Reader(body)
    brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
    r.i32()  # controller
    topics = {}

    def topic(r):
        err, name, _internal = r.i16(), r.string(), r.i8()
        parts = r.array(lambda r: (r.i16(), r.i32(), r.i32(),
                                   r.array(lambda r: r.i32()), r.array(lambda r: r.i32())))
        topics[name] = (err, sorted(p[1] for p in parts))
    r.array(topic)
    return brokers, topics


# ---- a blocking connection -----------------------------------------------------------------

class Closed(Exception):
    """The broker closed the connection."""


class Conn:
    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.next_id = 1

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError as e:
                raise Closed(f"connection reset after {len(buf)} of {n} bytes") from e
            if not chunk:
                raise Closed(f"connection closed after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def recv_frame(self):
        """-> (correlation_id, body) assuming response header v0."""
        size = struct.unpack(">i", self.recv_exact(4))[0]
        if size < 4 or size > 200 * 1024 * 1024:
            raise ValueError(f"response frame size {size}")
        frame = self.recv_exact(size)
        return struct.unpack(">i", frame[:4])[0], frame[4:]

    def call(self, api_key, version, body):
        cid = self.next_id
        self.next_id += 1
        self.send_raw(request(api_key, version, cid, body))
        got, resp = self.recv_frame()
        if got != cid:
            raise ValueError(f"correlation id: expected {cid}, got {got}")
        return resp

    def wait_closed(self, timeout=5.0):
        """True if the peer closes within `timeout` (any bytes received first are returned
        as the second element)."""
        self.sock.settimeout(timeout)
        received = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True, received
                received += chunk
        except ConnectionResetError:
            return True, received
        except socket.timeout:
            return False, received


def fetch_first_batch_attributes(port, topic, partition):
    """Attributes of the first stored batch of a partition, read with a raw Fetch v4: shows
    whether the broker kept the producer's compression."""
    with Conn(port) as c:
        resp = parse_fetch_v4(c.call(API_FETCH, 4, fetch_v4(topic, partition, 0)))
    err, _hw, recs = resp[(topic, partition)]
    if err != 0 or recs is None or len(recs) < 61:
        raise ValueError(f"fetch {topic}-{partition}: error {err}, {len(recs)} bytes")
    return struct.unpack(">h", recs[21:23])[0]
