#include "engine/broker/purgatory.h"

namespace strata::broker {

bool Purgatory::try_complete_else_watch(std::unique_ptr<DelayedOperation> op,
                                        const std::vector<std::string>& keys,
                                        Duration timeout) {
  STRATA_ASSERT(op != nullptr);
  if (op->try_complete()) return true;
  if (ops_.size() >= limits::kPendingOperationsMax) {
    op->on_expire();  // full: answer with what there is now rather than park without bound
    return false;
  }
  uint64_t id = next_id_++;
  TimerId timer = runtime_.schedule(timeout, [this, id] {
    auto it = ops_.find(id);
    if (it == ops_.end()) return;
    std::unique_ptr<DelayedOperation> expired = std::move(it->second.op);
    finish(id);
    expired->on_expire();
  });
  for (const auto& k : keys) watchers_[k].insert(id);
  ops_.emplace(id, Parked{std::move(op), keys, timer});
  return true;
}

void Purgatory::check_and_complete(const std::string& key) {
  auto w = watchers_.find(key);
  if (w == watchers_.end()) return;
  // Copy: completing an operation edits the watcher sets.
  std::vector<uint64_t> ids(w->second.begin(), w->second.end());
  for (uint64_t id : ids) {
    auto it = ops_.find(id);
    if (it == ops_.end()) continue;
    if (it->second.op->try_complete()) {
      runtime_.cancel(it->second.timer);
      finish(id);
    }
  }
}

void Purgatory::finish(uint64_t id) {
  auto it = ops_.find(id);
  STRATA_ASSERT(it != ops_.end(), "finishing an operation that is not parked");
  for (const auto& k : it->second.keys) {
    auto w = watchers_.find(k);
    if (w == watchers_.end()) continue;
    w->second.erase(id);
    if (w->second.empty()) watchers_.erase(w);
  }
  ops_.erase(it);
}

void Purgatory::cancel_all() {
  while (!ops_.empty()) {
    auto it = ops_.begin();
    runtime_.cancel(it->second.timer);
    std::unique_ptr<DelayedOperation> op = std::move(it->second.op);
    finish(it->first);
    op->on_cancel();
  }
  STRATA_ASSERT(watchers_.empty(), "watchers left after cancelling every operation");
}

std::vector<std::string> Purgatory::describe_all() const {
  std::vector<std::string> out;
  out.reserve(ops_.size());
  for (const auto& [id, p] : ops_) out.push_back(p.op ? p.op->describe() : "(completing)");
  return out;
}

}  // namespace strata::broker
