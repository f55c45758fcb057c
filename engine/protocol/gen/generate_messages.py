#!/usr/bin/env python3
"""Generates strata's Kafka message codecs from engine/protocol/schema/*.schema.

Usage: generate_messages.py --out DIR SCHEMA...   (writes DIR/messages.h and DIR/messages.cc)

The schema format is ours; engine/protocol/README.md describes it. In short, one file per API:

    api Produce key=0 versions=3-7 flexible=9+
    request
      transactional_id  string        versions=3+ nullable=3+ default=null
      topic_data        []TopicData
        name            string
        partition_data  []PartitionData
          index         int32
          records       records       nullable=0+
    response
      ...

Indentation (two spaces a level) nests the fields of a struct array under it. Field options:
versions=RANGE (default: all), nullable=RANGE, tag=N (a tagged field in flexible versions),
default=VALUE. A RANGE is N, N+, N-M or none. Python 3 standard library only, so the build
needs nothing beyond a Python interpreter.
"""

import argparse
import os
import shlex
import sys

VERSION_MAX = 32767  # "N+" is open-ended; int16 bounds every Kafka version
NO_FLEX = 'kNoFlexibleVersion'

# type -> (C++ type, ByteReader/ByteWriter method or None, zero value)
PRIMITIVES = {
    'bool': ('bool', 'boolean', 'false'),
    'int8': ('int8_t', 'i8', '0'),
    'int16': ('int16_t', 'i16', '0'),
    'int32': ('int32_t', 'i32', '0'),
    'int64': ('int64_t', 'i64', '0'),
    'uint16': ('uint16_t', 'u16', '0'),
    'float64': ('double', 'f64', '0.0'),
}
VARIABLE = {'string', 'bytes', 'records', 'uuid'}


class SchemaError(Exception):
    pass


def parse_range(text, where):
    """'3+' -> (3, max); '0-4' -> (0, 4); '2' -> (2, 2); 'none' -> None."""
    try:
        if text == 'none':
            return None
        if text.endswith('+'):
            return (int(text[:-1]), VERSION_MAX)
        if '-' in text:
            lo, hi = text.split('-', 1)
            return (int(lo), int(hi))
        return (int(text), int(text))
    except ValueError:
        raise SchemaError('%s: bad version range %r' % (where, text))


def overlap(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


class Field:
    def __init__(self, name, type_text, opts, where):
        self.name = name
        self.where = where
        self.is_array = type_text.startswith('[]')
        self.elem = type_text[2:] if self.is_array else type_text
        self.struct = None  # a Struct when elem names a struct
        self.versions = parse_range(opts.pop('versions', '0+'), where)
        self.nullable = parse_range(opts.pop('nullable', 'none'), where)
        tag = opts.pop('tag', None)
        self.tag = int(tag) if tag is not None else None
        self.default = opts.pop('default', None)
        if opts:
            raise SchemaError('%s: unknown options %s' % (where, ', '.join(sorted(opts))))
        if self.elem[:1].isupper():
            if not self.is_array:
                raise SchemaError('%s: a struct field must be an array ([]%s)' % (where, self.elem))
        elif self.elem not in PRIMITIVES and self.elem not in VARIABLE:
            raise SchemaError('%s: unknown type %r' % (where, self.elem))
        if self.is_array and self.elem == 'records':
            raise SchemaError('%s: records cannot be an array element' % where)


class Struct:
    def __init__(self, name, qual, versions):
        self.name = name  # C++ name within the message, e.g. TopicData
        self.qual = qual  # for error messages, e.g. ProduceRequest::TopicData
        self.versions = versions  # where the struct can appear at all
        self.fields = []


class Message:
    def __init__(self, api, kind, key, versions, flex, path):
        self.name = api + kind
        self.kind = kind
        self.key = key
        self.versions = versions
        self.flex = flex  # first flexible version, or None
        self.path = path
        self.root = Struct(self.name, self.name, versions)
        self.structs = []  # nested structs, children before parents


def tokenize(line, where):
    try:
        return shlex.split(line, comments=True, posix=True)
    except ValueError as e:
        raise SchemaError('%s: %s' % (where, e))


def split_opts(tokens, where):
    opts = {}
    for t in tokens:
        if '=' not in t:
            raise SchemaError('%s: expected key=value, got %r' % (where, t))
        k, v = t.split('=', 1)
        opts[k] = v
    return opts


def parse_file(path):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    api = None
    messages = []
    stack = []  # (indent, Struct)
    for no, raw in enumerate(lines, 1):
        where = '%s:%d' % (os.path.basename(path), no)
        tokens = tokenize(raw, where)
        if not tokens:
            continue
        indent = len(raw) - len(raw.lstrip(' '))
        if indent == 0:
            api, stack = parse_top(tokens, api, messages, path, where)
            continue
        if not stack:
            raise SchemaError('%s: field outside a request/response block' % where)
        if indent % 2:
            raise SchemaError('%s: indent by two spaces' % where)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not stack or stack[-1][0] != indent - 2:
            raise SchemaError('%s: unexpected indentation' % where)
        if len(tokens) < 2:
            raise SchemaError('%s: expected "name type [options]"' % where)
        field = Field(tokens[0], tokens[1], split_opts(tokens[2:], where), where)
        parent = stack[-1][1]
        # A field exists only where its struct does: intersect with the parent's versions.
        field.versions = overlap(field.versions, parent.versions)
        if field.versions is None:
            raise SchemaError('%s: field never present in its struct\'s versions' % where)
        parent.fields.append(field)
        if field.elem[:1].isupper():
            msg = messages[-1]
            field.struct = Struct(field.elem, msg.name + '::' + field.elem, field.versions)
            msg.structs.append(field.struct)
            stack.append((indent, field.struct))
    return messages


def parse_top(tokens, api, messages, path, where):
    if tokens[0] == 'api':
        if api is not None or len(tokens) < 2:
            raise SchemaError('%s: one "api NAME key=.. versions=.. flexible=.." per file' % where)
        opts = split_opts(tokens[2:], where)
        try:
            key = int(opts['key'])
            versions = parse_range(opts['versions'], where)
            flex = parse_range(opts['flexible'], where)
        except KeyError as e:
            raise SchemaError('%s: api line needs %s=' % (where, e.args[0]))
        return {'name': tokens[1], 'key': key, 'versions': versions,
                'flex': flex[0] if flex else None}, []
    if tokens[0] in ('request', 'response') and len(tokens) == 1:
        if api is None:
            raise SchemaError('%s: "api" line must come first' % where)
        msg = Message(api['name'], tokens[0].capitalize(), api['key'], api['versions'],
                      api['flex'], path)
        messages.append(msg)
        return api, [(0, msg.root)]
    raise SchemaError('%s: expected "api", "request" or "response"' % where)


# ---------------------------------------------------------------------------------------------
# Validation


def check_message(msg):
    lo, hi = msg.versions
    names = {s.name for s in msg.structs}
    if len(names) != len(msg.structs) or msg.name in names:
        raise SchemaError('%s: struct names must be unique within %s' % (msg.path, msg.name))
    for s in [msg.root] + msg.structs:
        seen_names, seen_tags = set(), set()
        for f in s.fields:
            if f.name in seen_names:
                raise SchemaError('%s: duplicate field %s' % (f.where, f.name))
            seen_names.add(f.name)
            if overlap(f.versions, msg.versions) is None:
                raise SchemaError('%s: field never present in versions %d-%d' % (f.where, lo, hi))
            if f.tag is not None:
                if f.tag in seen_tags:
                    raise SchemaError('%s: duplicate tag %d' % (f.where, f.tag))
                seen_tags.add(f.tag)
                if msg.flex is None or f.versions[0] < msg.flex:
                    raise SchemaError('%s: tagged fields exist only in flexible versions'
                                      % f.where)
            if f.struct is not None:
                check_nonempty(msg, f)
            check_nullability(msg, f)


def check_nullability(msg, f):
    """Null defaults (and records, which default to null) must be encodable in every version."""
    present = overlap(f.versions, msg.versions)
    if f.default == 'null' or f.elem == 'records':
        if overlap(f.nullable, present) != present:
            raise SchemaError('%s: a null default needs nullable= over all its versions'
                              % f.where)
    elif f.default is not None and f.is_array:
        raise SchemaError('%s: arrays take no default' % f.where)


def check_nonempty(msg, f):
    """An element must take at least one byte on the wire: read_array_length relies on it."""
    rng = overlap(f.versions, msg.versions)
    for v in range(rng[0], rng[1] + 1):
        flexible = msg.flex is not None and v >= msg.flex
        inline = [g for g in f.struct.fields if g.tag is None
                  and g.versions[0] <= v <= g.versions[1]]
        if not inline and not flexible:
            raise SchemaError('%s: %s is empty in v%d' % (f.where, f.struct.name, v))


# ---------------------------------------------------------------------------------------------
# C++ types and literals


def is_optional(f):
    return f.nullable is not None


def elem_cpp(f):
    if f.struct is not None:
        return f.struct.name
    if f.elem in PRIMITIVES:
        return PRIMITIVES[f.elem][0]
    return {'string': 'std::string', 'bytes': 'Bytes', 'uuid': 'Uuid'}[f.elem]


def field_cpp(f):
    if f.is_array:
        t = 'std::vector<%s>' % elem_cpp(f)
    elif f.elem == 'records':
        return 'std::optional<ByteSpan>'
    else:
        t = elem_cpp(f)
    return 'std::optional<%s>' % t if is_optional(f) else t


def cpp_string(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def default_literal(f):
    """The member initializer, or '' for a value-initialized member."""
    d = f.default
    if f.elem == 'records':
        return ''  # a view; null until the caller points it at a batch
    if d == 'null':
        return ''
    if d is None:
        if is_optional(f):
            # Like Kafka: a nullable field is null by default only when the schema says so,
            # otherwise empty, which every version can encode.
            return '{std::in_place}'
        return '' if (f.is_array or f.elem not in PRIMITIVES) else PRIMITIVES[f.elem][2]
    if f.is_array or f.elem in ('bytes', 'records', 'uuid'):
        raise SchemaError('%s: only scalars and strings take a default' % f.where)
    if f.elem == 'string':
        return cpp_string(d)
    if f.elem == 'bool':
        if d not in ('true', 'false'):
            raise SchemaError('%s: bool default must be true or false' % f.where)
        return d
    try:
        value = float(d) if f.elem == 'float64' else int(d, 0)
    except ValueError:
        raise SchemaError('%s: bad default %r' % (f.where, d))
    if f.elem == 'int32' and value == -2**31:
        return 'INT32_MIN'  # -2147483648 is not a literal C++ accepts without a warning
    if f.elem == 'int64' and value == -2**63:
        return 'INT64_MIN'
    return repr(value)


# ---------------------------------------------------------------------------------------------
# Version conditions


def version_cond(rng, within):
    """C++ condition that the version lies in rng, given that it lies in `within` (the range
    of the enclosing struct); None when always true."""
    lo, hi = within
    r = overlap(rng, within)
    if r is None:
        return 'false'
    parts = []
    if r[0] > lo:
        parts.append('version >= %d' % r[0])
    if r[1] < hi:
        parts.append('version <= %d' % r[1])
    return ' && '.join(parts) if parts else None


def nullable_expr(f, msg):
    """C++ bool expression: is null legal in the version at hand (within the field's range)?"""
    if f.nullable is None:
        return 'false'
    present = overlap(f.versions, msg.versions)
    nul = overlap(f.nullable, present)
    if nul is None:
        return 'false'
    if nul == present:
        return 'true'
    return '(' + version_cond(nul, present) + ')'


def flex_expr(msg):
    return 'version >= %s' % (msg.flex if msg.flex is not None else NO_FLEX)


# ---------------------------------------------------------------------------------------------
# Decode


def decode_scalar(elem, var, rd, label, nullable, optional):
    """Statements reading one non-array value of type `elem` into `var`."""
    if elem in PRIMITIVES:
        return ['%s = %s.%s();' % (var, rd, PRIMITIVES[elem][1]),
                'if (!%s.ok()) return wire::truncated(%s);' % (rd, label)]
    if elem == 'uuid':
        return ['STRATA_RETURN_IF_ERROR(wire::read_uuid(%s, %s, %s));' % (rd, var, label)]
    if elem == 'records':
        return ['STRATA_RETURN_IF_ERROR(wire::read_records(%s, flex, %s, %s, %s));'
                % (rd, nullable, var, label)]
    kind = 'string' if elem == 'string' else 'bytes'
    if optional:
        return ['STRATA_RETURN_IF_ERROR(wire::read_nullable_%s(%s, flex, %s, %s, %s));'
                % (kind, rd, nullable, var, label)]
    return ['STRATA_RETURN_IF_ERROR(wire::read_%s(%s, flex, %s, %s));' % (kind, rd, var, label)]


def decode_field(f, msg, rd, label):
    """Statements decoding field f (present in this version) from reader `rd`."""
    nullable = nullable_expr(f, msg)
    if not f.is_array:
        return decode_scalar(f.elem, f.name, rd, label, nullable, is_optional(f))
    head = ['int32_t n = 0;',
            'STRATA_RETURN_IF_ERROR(wire::read_array_length(%s, flex, %s, n, %s));'
            % (rd, nullable, label)]
    # Elements are appended one by one (no resize(n)): memory grows only with bytes that
    # actually arrived, whatever count a hostile peer claims.
    loop = ['for (int32_t i = 0; i < n; ++i) {', '  auto& item = items.emplace_back();']
    if f.struct is not None:
        loop += ['  STRATA_RETURN_IF_ERROR(item.decode(%s, version));' % rd]
    else:
        loop += ['  ' + x for x in decode_scalar(f.elem, 'item', rd, label, 'false', False)]
    loop += ['}']
    if not is_optional(f):
        return head + ['auto& items = %s;' % f.name, 'items.clear();'] + loop
    return head + ['if (n < 0) {', '  %s.reset();' % f.name, '} else {',
                   '  auto& items = %s.emplace();' % f.name] + ['  ' + x for x in loop] + ['}']


def wrap(cond, body):
    if cond is None:
        return ['{'] + ['  ' + s for s in body] + ['}']
    return ['if (%s) {' % cond] + ['  ' + s for s in body] + ['}']


def decode_tags(s, msg):
    tagged = sorted((f for f in s.fields if f.tag is not None), key=lambda f: f.tag)
    where = cpp_string(s.qual)
    if not tagged:
        return ['if (flex) STRATA_RETURN_IF_ERROR(wire::skip_tagged_fields(r, %s));' % where]
    out = ['if (flex) {',
           '  uint32_t count = 0;',
           '  STRATA_RETURN_IF_ERROR(wire::read_tagged_count(r, count, %s));' % where,
           '  for (uint32_t t = 0; t < count; ++t) {',
           '    uint32_t tag = 0;',
           '    ByteSpan payload;',
           '    STRATA_RETURN_IF_ERROR(wire::read_tagged_field(r, tag, payload, %s));' % where,
           '    ByteReader tr(payload);',
           '    switch (tag) {']
    for f in tagged:
        label = cpp_string('%s.%s' % (s.qual, f.name))
        body = decode_field(f, msg, 'tr', label)
        out += ['      case %d: %s' % (f.tag, '{')]
        out += ['        ' + x for x in wrap(version_cond(f.versions, s.versions), body)]
        out += ['        break;', '      }']
    out += ['      default:',
            '        break;  // unknown tags are skipped: newer peers may add fields',
            '    }',
            '  }',
            '}']
    return out


def decode_body(s, msg):
    out = ['[[maybe_unused]] const bool flex = %s;' % flex_expr(msg)]
    for f in s.fields:
        if f.tag is not None:
            continue
        label = cpp_string('%s.%s' % (s.qual, f.name))
        body = decode_field(f, msg, 'r', label)
        cond = version_cond(f.versions, s.versions)
        out += body if (cond is None and not f.is_array) else wrap(cond, body)
    return out + decode_tags(s, msg)


# ---------------------------------------------------------------------------------------------
# Encode


def encode_scalar(elem, var, wr, nullable, optional, label):
    if elem in PRIMITIVES:
        return ['%s.%s(%s);' % (wr, PRIMITIVES[elem][1], var)]
    if elem == 'uuid':
        return ['wire::write_uuid(%s, %s);' % (wr, var)]
    if elem == 'records':
        return ['wire::write_records(%s, flex, %s, %s, %s);' % (wr, nullable, var, label)]
    kind = 'string' if elem == 'string' else 'bytes'
    if optional:
        return ['wire::write_nullable_%s(%s, flex, %s, %s, %s);'
                % (kind, wr, nullable, var, label)]
    if kind == 'bytes':
        return ['wire::write_bytes(%s, flex, ByteSpan(%s));' % (wr, var)]
    return ['wire::write_string(%s, flex, %s);' % (wr, var)]


def encode_field(f, msg, wr, label):
    nullable = nullable_expr(f, msg)
    if not f.is_array:
        return encode_scalar(f.elem, f.name, wr, nullable, is_optional(f), label)
    if f.struct is not None:
        item = ['item.encode(%s, version);' % wr]
    else:
        item = encode_scalar(f.elem, 'item', wr, 'false', False, label)
    loop = ['wire::write_array_length(%s, flex, static_cast<int64_t>(items.size()));' % wr,
            'for (const auto& item : items) {'] + ['  ' + s for s in item] + ['}']
    if not is_optional(f):
        return ['const auto& items = %s;' % f.name] + loop
    return ['if (!%s) {' % f.name,
            '  STRATA_ASSERT(%s, "null array in a non-nullable version");' % nullable,
            '  wire::write_array_length(%s, flex, -1);' % wr,
            '} else {',
            '  const auto& items = *%s;' % f.name] + ['  ' + s for s in loop] + ['}']


def tag_present(f):
    """C++ expression: does tagged field f differ from its default (so it must be sent)?"""
    if is_optional(f) and (f.default == 'null' or f.elem == 'records'):
        return '%s.has_value()' % f.name
    if is_optional(f):  # defaults to empty: send when null or non-empty
        return '(!%s.has_value() || !%s->empty())' % (f.name, f.name)
    if f.is_array or f.elem == 'bytes':
        return '!%s.empty()' % f.name
    if f.elem == 'uuid':
        return '%s != Uuid{}' % f.name
    lit = default_literal(f)
    if f.elem == 'bool':
        return ('!%s' if lit == 'true' else '%s') % f.name
    if f.elem == 'string':
        return '%s != %s' % (f.name, lit or '""')
    return '%s != %s' % (f.name, lit)


def encode_tags(s, msg):
    tagged = sorted((f for f in s.fields if f.tag is not None), key=lambda f: f.tag)
    if not tagged:
        return ['if (flex) w.uvarint(0);  // no tagged fields set']
    out = ['if (flex) {', '  uint32_t count = 0;']
    for f in tagged:
        cond = version_cond(f.versions, s.versions)
        present = tag_present(f) if cond is None else '(%s) && %s' % (cond, tag_present(f))
        out += ['  const bool has_%s = %s;' % (f.name, present),
                '  count += has_%s ? 1 : 0;' % f.name]
    out += ['  w.uvarint(count);']
    for f in tagged:
        label = cpp_string('%s.%s' % (s.qual, f.name))
        body = ['Bytes payload;', 'ByteWriter tw(payload);'] + \
            encode_field(f, msg, 'tw', label) + \
            ['wire::write_tagged_field(w, %d, payload);' % f.tag]
        out += ['  ' + x for x in wrap('has_%s' % f.name, body)]
    return out + ['}']


def encode_body(s, msg):
    out = ['[[maybe_unused]] const bool flex = %s;' % flex_expr(msg)]
    for f in s.fields:
        if f.tag is not None:
            continue
        label = cpp_string('%s.%s' % (s.qual, f.name))
        body = encode_field(f, msg, 'w', label)
        cond = version_cond(f.versions, s.versions)
        out += body if (cond is None and len(body) == 1) else wrap(cond, body)
    return out + encode_tags(s, msg)


# ---------------------------------------------------------------------------------------------
# Output


def range_text(r):
    if r is None:
        return 'none'
    if r[1] == VERSION_MAX:
        return '%d+' % r[0]
    return '%d' % r[0] if r[0] == r[1] else '%d-%d' % r


def field_comment(f):
    bits = ['v' + range_text(f.versions)]
    if f.nullable is not None:
        bits.append('nullable v' + range_text(f.nullable))
    if f.tag is not None:
        bits.append('tag %d' % f.tag)
    return ', '.join(bits)


def declare_struct(s, msg, ind, extra=()):
    p = ' ' * ind
    out = ['%sstruct %s {' % (p, s.name)]
    out += [('%s  %s' % (p, x)) if x else '' for x in extra]
    for f in s.fields:
        init = default_literal(f)
        if init.startswith('{'):
            decl = '%s %s%s;' % (field_cpp(f), f.name, init)
        else:
            decl = '%s %s%s;' % (field_cpp(f), f.name, (' = ' + init) if init else '')
        out.append('%s  %s  // %s' % (p, decl, field_comment(f)))
    out += ['',
            '%s  Status decode(ByteReader& r, int16_t version);' % p,
            '%s  void encode(ByteWriter& w, int16_t version) const;' % p]
    # Generic access for tests, debug printers and fuzzers: f(name, member) for every field.
    for const in ('', ' const'):
        out.append('%s  template <class F>' % p)
        out.append('%s  void for_each_field([[maybe_unused]] F&& f)%s {' % (p, const))
        out += ['%s    f("%s", %s);' % (p, g.name, g.name) for g in s.fields]
        out.append('%s  }' % p)
    out.append('%s};' % p)
    return out


def declare_message(msg):
    flex = str(msg.flex) if msg.flex is not None else NO_FLEX
    consts = ['static constexpr int16_t kApiKey = %d;' % msg.key,
              'static constexpr int16_t kMinVersion = %d;' % msg.versions[0],
              'static constexpr int16_t kMaxVersion = %d;' % msg.versions[1],
              'static constexpr int16_t kFirstFlexibleVersion = %s;' % flex,
              'static constexpr std::string_view kName = "%s";' % msg.name,
              'static constexpr bool kIsRequest = %s;' % str(msg.kind == 'Request').lower(),
              '']
    for s in reversed(msg.structs):  # children before the structs that hold them
        consts += declare_struct(s, msg, 0) + ['']
    out = ['// %s: from %s' % (msg.name, os.path.basename(msg.path))]
    return out + declare_struct(msg.root, msg, 0, consts)


def define_struct(s, msg, top):
    qual = s.qual
    out = ['Status %s::decode(ByteReader& r, int16_t version) {' % qual]
    if top:
        out += ['  if (version < kMinVersion || version > kMaxVersion) {',
                '    return Status::unsupported("%s v" + std::to_string(version));' % msg.name,
                '  }',
                '  *this = %s{};  // fields absent in this version keep their defaults' % qual]
    out += ['  ' + x for x in decode_body(s, msg)]
    out += ['  return ok_status();', '}', '']
    out += ['void %s::encode(ByteWriter& w, int16_t version) const {' % qual]
    if top:
        out += ['  STRATA_ASSERT(version >= kMinVersion && version <= kMaxVersion,',
                '                "%s: version outside the supported range");' % msg.name]
    out += ['  ' + x for x in encode_body(s, msg)]
    out += ['}', '']
    return out


HEADER_PROLOGUE = '''\
// Generated by engine/protocol/gen/generate_messages.py from engine/protocol/schema/*.schema.
// Do not edit: change the schema and rebuild. engine/protocol/README.md explains the format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/base/status.h"
#include "engine/protocol/wire.h"

namespace strata::proto {
'''


def write_header(messages):
    out = [HEADER_PROLOGUE]
    for msg in messages:
        out += declare_message(msg) + ['']
    out += ['// Decodes (and discards) the body of any request we know; for fuzzers and for',
            '// validating a frame before dispatch. Unknown keys or versions: kUnsupported.',
            'Status decode_request_body(int16_t api_key, int16_t version, ByteReader& r);',
            '',
            '// X(Message) for every generated message, e.g. to test each one.',
            '#define STRATA_PROTO_FOR_EACH_MESSAGE(X) \\']
    out += ['  X(%s) \\' % m.name for m in messages]
    out += ['', '}  // namespace strata::proto', '']
    return '\n'.join(out)


def write_source(messages):
    out = ['// Generated by engine/protocol/gen/generate_messages.py. Do not edit.',
           '#include "engine/protocol/messages.h"', '',
           '#include <climits>', '#include <string>', '',
           'namespace strata::proto {', '']
    for msg in messages:
        for s in reversed(msg.structs):
            out += define_struct(s, msg, False)
        out += define_struct(msg.root, msg, True)
    out += ['Status decode_request_body(int16_t api_key, int16_t version, ByteReader& r) {',
            '  switch (api_key) {']
    for msg in messages:
        if msg.kind == 'Request':
            out += ['    case %s::kApiKey: {' % msg.name,
                    '      %s m;' % msg.name,
                    '      return m.decode(r, version);',
                    '    }']
    out += ['    default:',
            '      return Status::unsupported("unknown api key " + std::to_string(api_key));',
            '  }', '}', '', '}  // namespace strata::proto', '']
    return '\n'.join(out)


def write_if_changed(path, text):
    """Leave an unchanged file alone so that its timestamp does not trigger rebuilds."""
    try:
        with open(path, encoding='utf-8') as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('schemas', nargs='+')
    args = ap.parse_args()
    messages = []
    try:
        for path in sorted(args.schemas):
            for msg in parse_file(path):
                check_message(msg)
                messages.append(msg)
        keys = [(m.key, m.kind) for m in messages]
        if len(set(keys)) != len(keys):
            raise SchemaError('two schema files define the same api key')
    except SchemaError as e:
        print('generate_messages.py: error: %s' % e, file=sys.stderr)
        return 1
    messages.sort(key=lambda m: (m.key, m.kind != 'Request'))
    os.makedirs(args.out, exist_ok=True)
    write_if_changed(os.path.join(args.out, 'messages.h'), write_header(messages))
    write_if_changed(os.path.join(args.out, 'messages.cc'), write_source(messages))
    return 0


if __name__ == '__main__':
    sys.exit(main())
