// Record-batch compression codecs, as selected by bits 0-2 of a v2 batch's attributes.
//
// The payloads are those real Kafka clients exchange:
//   gzip   - an RFC 1952 gzip stream (Java GZIPOutputStream, librdkafka deflate with gzip
//            header); decoding also accepts a zlib header and concatenated gzip members.
//   snappy - encode: one raw snappy block, as librdkafka does. Decode: a raw block, or the
//            Xerial snappy-java framed stream the Java client writes (magic "\x82SNAPPY\0",
//            two big-endian int32 versions, then [int32 length][raw block]...).
//   lz4    - the LZ4 frame format (not the raw block format), independent 64 KiB blocks so
//            that the Java client's block-at-a-time decoder can read what we write.
//   zstd   - a zstd frame; decoding streams because the content size may be absent.
//
// decompress() treats its input as untrusted: malformed input, or output larger than
// max_out_bytes (a zip bomb), yields Status::corruption; it never asserts or grows past the
// limit. Pure functions: no state, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/base/bytes.h"
#include "engine/base/status.h"

namespace strata {

enum class Codec : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

inline constexpr int kCodecCount = 5;

// Maps the 3-bit attributes field to a codec; nullopt for the unassigned values 5-7.
std::optional<Codec> codec_from_id(int id);
std::string_view codec_name(Codec codec);

// kNone copies the input. Fails only if a library refuses (out of memory, input over 4 GiB).
Result<Bytes> compress(Codec codec, ByteSpan input);

// kNone copies the input (still bounded by max_out_bytes).
Result<Bytes> decompress(Codec codec, ByteSpan input, size_t max_out_bytes);

}  // namespace strata
