// Delayed operations (Kafka's DelayedOperation purgatory): a request that cannot be answered
// yet — a Fetch waiting for min_bytes, later an acks=all Produce waiting for the high
// watermark — is parked here as an explicit object, watched under the keys (partitions) whose
// progress may complete it, with a deadline on Runtime time. The GUI can list them; a
// simulated crash destroys them with the node.
//
// Lifetime: the purgatory owns parked operations. Each completes exactly once, by
// try_complete() returning true after a check, by expiry, or by cancel_all().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/base/limits.h"
#include "engine/runtime/runtime.h"

namespace strata::broker {

class DelayedOperation {
 public:
  virtual ~DelayedOperation() = default;
  // Answers if it can; returns true when the operation is done.
  virtual bool try_complete() = 0;
  // The deadline passed: answer with what is there.
  virtual void on_expire() = 0;
  // The broker is shutting down or the connection went away: drop without answering.
  virtual void on_cancel() {}
  virtual std::string describe() const = 0;
};

class Purgatory {
 public:
  Purgatory(Runtime& runtime, std::string name) : runtime_(runtime), name_(std::move(name)) {}
  ~Purgatory() { cancel_all(); }
  Purgatory(const Purgatory&) = delete;
  Purgatory& operator=(const Purgatory&) = delete;

  // Tries the operation once; if not done, parks it under `keys` until `timeout`.
  // When the purgatory is full the operation is expired at once (answered with what there
  // is) and false is returned.
  bool try_complete_else_watch(std::unique_ptr<DelayedOperation> op,
                               const std::vector<std::string>& keys, Duration timeout);
  // Progress on `key` (e.g. an append to a partition): re-check the operations watching it.
  void check_and_complete(const std::string& key);
  void cancel_all();
  size_t size() const { return ops_.size(); }
  const std::string& name() const { return name_; }
  std::vector<std::string> describe_all() const;

 private:
  struct Parked {
    std::unique_ptr<DelayedOperation> op;
    std::vector<std::string> keys;
    TimerId timer;
  };
  void finish(uint64_t id);

  Runtime& runtime_;
  std::string name_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Parked> ops_;
  std::map<std::string, std::set<uint64_t>> watchers_;
};

}  // namespace strata::broker
