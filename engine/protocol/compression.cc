#include "engine/protocol/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <string>

namespace strata {
namespace {

// Output grows geometrically from this size, so small batches do not allocate much.
constexpr size_t kOutputChunkBytes = 64 * 1024;

// The snappy-java (Xerial) stream header: magic, then version and compatible version.
constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderBytes = 16;

Status too_large(std::string_view codec, size_t max_out_bytes) {
  return Status::corruption(std::string(codec) + ": decompressed size exceeds the limit of " +
                            std::to_string(max_out_bytes) + " bytes");
}

Status truncated(std::string_view codec) {
  return Status::corruption(std::string(codec) + ": compressed data is truncated");
}

// Enlarges `out` for a streaming decoder. Capacity stops at max_out_bytes + 1 so that a
// stream producing more than the limit is detected without ever allocating beyond it.
// Returns false when `out` is already at that cap (the output is too large).
bool grow_output(Bytes& out, size_t max_out_bytes) {
  size_t cap = max_out_bytes == std::numeric_limits<size_t>::max() ? max_out_bytes
                                                                    : max_out_bytes + 1;
  if (out.size() >= cap) return false;
  size_t want = std::max(out.size() * 2, kOutputChunkBytes);
  out.resize(std::min(want, cap));
  return true;
}

Result<Bytes> finish_output(Bytes out, size_t used, std::string_view codec, size_t max_out) {
  if (used > max_out) return too_large(codec, max_out);
  out.resize(used);
  return out;
}

// ---- gzip -------------------------------------------------------------------------------

Result<Bytes> gzip_compress(ByteSpan in) {
  if (in.size() > UINT_MAX) return Status::invalid_argument("gzip: input over 4 GiB");
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper rather than zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return Status::resource_exhausted("gzip: deflateInit2 failed");
  }
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t used = zs.total_out;
  deflateEnd(&zs);
  // deflateBound guarantees one Z_FINISH call suffices.
  if (rc != Z_STREAM_END) return Status::resource_exhausted("gzip: deflate did not finish");
  out.resize(used);
  return out;
}

struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

Result<Bytes> gzip_decompress(ByteSpan in, size_t max_out) {
  if (in.size() > UINT_MAX) return Status::corruption("gzip: input over 4 GiB");
  z_stream zs{};
  // 15 + 32: detect a gzip or zlib header automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    return Status::resource_exhausted("gzip: inflateInit2 failed");
  }
  InflateGuard guard{&zs};
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  Bytes out;
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (!grow_output(out, max_out)) return too_large("gzip", max_out);
    }
    size_t room = std::min<size_t>(out.size() - used, UINT_MAX);
    zs.next_out = out.data() + used;
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    used += room - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Concatenated gzip members are one logical stream (RFC 1952 §2.2).
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b &&
          inflateReset(&zs) == Z_OK) {
        continue;
      }
      return Status::corruption("gzip: trailing bytes after the end of the stream");
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_out != 0) return truncated("gzip");
    return Status::corruption(std::string("gzip: ") + (zs.msg ? zs.msg : "inflate failed"));
  }
  return finish_output(std::move(out), used, "gzip", max_out);
}

// ---- snappy -----------------------------------------------------------------------------

Result<Bytes> snappy_compress(ByteSpan in) {
  Bytes out(snappy::MaxCompressedLength(in.size()));
  size_t used = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(),
                      reinterpret_cast<char*>(out.data()), &used);
  out.resize(used);
  return out;
}

// Appends one raw snappy block to `out`, keeping the total within max_out.
Status snappy_append_block(ByteSpan block, Bytes& out, size_t max_out) {
  const char* p = reinterpret_cast<const char*>(block.data());
  size_t n = 0;
  if (!snappy::GetUncompressedLength(p, block.size(), &n)) {
    return Status::corruption("snappy: bad block header");
  }
  if (n > max_out || out.size() > max_out - n) return too_large("snappy", max_out);
  size_t at = out.size();
  out.resize(at + n);
  if (!snappy::RawUncompress(p, block.size(), reinterpret_cast<char*>(out.data() + at))) {
    return Status::corruption("snappy: corrupt block");
  }
  return ok_status();
}

Result<Bytes> snappy_xerial_decompress(ByteSpan in, size_t max_out) {
  if (in.size() < kXerialHeaderBytes) return truncated("snappy-java");
  ByteReader r(in.subspan(kXerialHeaderBytes));
  Bytes out;
  while (!r.at_end()) {
    int32_t len = r.i32();
    if (!r.ok() || len < 0 || static_cast<size_t>(len) > r.remaining()) {
      return Status::corruption("snappy-java: block length runs past the end of the data");
    }
    ByteSpan block = r.take(static_cast<size_t>(len));
    if (block.empty()) continue;  // an empty block carries no data; tolerate it
    STRATA_RETURN_IF_ERROR(snappy_append_block(block, out, max_out));
  }
  return out;
}

Result<Bytes> snappy_decompress(ByteSpan in, size_t max_out) {
  if (in.size() >= sizeof(kXerialMagic) &&
      std::memcmp(in.data(), kXerialMagic, sizeof(kXerialMagic)) == 0) {
    return snappy_xerial_decompress(in, max_out);
  }
  Bytes out;
  STRATA_RETURN_IF_ERROR(snappy_append_block(in, out, max_out));
  return out;
}

// ---- lz4 frame --------------------------------------------------------------------------

Result<Bytes> lz4_compress(ByteSpan in) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  // Independent 64 KiB blocks: what the Java client writes and what its decoder requires.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  Bytes out(LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    return Status::resource_exhausted(std::string("lz4: ") + LZ4F_getErrorName(n));
  }
  out.resize(n);
  return out;
}

struct Lz4Guard {
  LZ4F_dctx* ctx = nullptr;
  ~Lz4Guard() {
    if (ctx) LZ4F_freeDecompressionContext(ctx);
  }
};

Result<Bytes> lz4_decompress(ByteSpan in, size_t max_out) {
  Lz4Guard guard;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&guard.ctx, LZ4F_VERSION))) {
    return Status::resource_exhausted("lz4: cannot create a decompression context");
  }
  Bytes out;
  size_t used = 0;
  size_t in_pos = 0;
  for (;;) {
    if (used == out.size() && !grow_output(out, max_out)) return too_large("lz4", max_out);
    size_t dst_n = out.size() - used;
    size_t src_n = in.size() - in_pos;
    size_t rc = LZ4F_decompress(guard.ctx, out.data() + used, &dst_n, in.data() + in_pos,
                                &src_n, nullptr);
    if (LZ4F_isError(rc)) return Status::corruption(std::string("lz4: ") + LZ4F_getErrorName(rc));
    used += dst_n;
    in_pos += src_n;
    // rc == 0: a frame ended; the context is ready for a concatenated next frame, if any.
    if (rc == 0 && in_pos == in.size()) break;
    if (src_n == 0 && dst_n == 0 && used < out.size()) return truncated("lz4");
  }
  return finish_output(std::move(out), used, "lz4", max_out);
}

// ---- zstd -------------------------------------------------------------------------------

Result<Bytes> zstd_compress(ByteSpan in) {
  Bytes out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n)) return Status::resource_exhausted(std::string("zstd: ") +
                                                         ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

struct ZstdGuard {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  ~ZstdGuard() { ZSTD_freeDCtx(ctx); }
};

Result<Bytes> zstd_decompress(ByteSpan in, size_t max_out) {
  ZstdGuard guard;
  if (guard.ctx == nullptr) return Status::resource_exhausted("zstd: cannot create a context");
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  Bytes out;
  size_t used = 0;
  for (;;) {
    if (used == out.size() && !grow_output(out, max_out)) return too_large("zstd", max_out);
    ZSTD_outBuffer ob{out.data() + used, out.size() - used, 0};
    size_t rc = ZSTD_decompressStream(guard.ctx, &ob, &ib);
    if (ZSTD_isError(rc)) return Status::corruption(std::string("zstd: ") + ZSTD_getErrorName(rc));
    used += ob.pos;
    // rc == 0: a frame is complete and flushed; further input would be a next frame.
    if (rc == 0 && ib.pos == ib.size) break;
    if (ib.pos == ib.size && ob.pos == 0 && used < out.size()) return truncated("zstd");
  }
  return finish_output(std::move(out), used, "zstd", max_out);
}

}  // namespace

std::optional<Codec> codec_from_id(int id) {
  if (id < 0 || id >= kCodecCount) return std::nullopt;
  return static_cast<Codec>(id);
}

std::string_view codec_name(Codec codec) {
  switch (codec) {
    case Codec::kNone: return "none";
    case Codec::kGzip: return "gzip";
    case Codec::kSnappy: return "snappy";
    case Codec::kLz4: return "lz4";
    case Codec::kZstd: return "zstd";
  }
  return "unknown";
}

Result<Bytes> compress(Codec codec, ByteSpan input) {
  switch (codec) {
    case Codec::kNone: return Bytes(input.begin(), input.end());
    case Codec::kGzip: return gzip_compress(input);
    case Codec::kSnappy: return snappy_compress(input);
    case Codec::kLz4: return lz4_compress(input);
    case Codec::kZstd: return zstd_compress(input);
  }
  STRATA_UNREACHABLE("codec outside the enum");
}

Result<Bytes> decompress(Codec codec, ByteSpan input, size_t max_out_bytes) {
  switch (codec) {
    case Codec::kNone:
      if (input.size() > max_out_bytes) return too_large("none", max_out_bytes);
      return Bytes(input.begin(), input.end());
    case Codec::kGzip: return gzip_decompress(input, max_out_bytes);
    case Codec::kSnappy: return snappy_decompress(input, max_out_bytes);
    case Codec::kLz4: return lz4_decompress(input, max_out_bytes);
    case Codec::kZstd: return zstd_decompress(input, max_out_bytes);
  }
  STRATA_UNREACHABLE("codec outside the enum");
}

}  // namespace strata
