// TopicManager's log cleaner: which compacted partition to clean, and one step of its pass.
// Like Kafka's LogCleanerManager, it picks the log with the highest dirty ratio among those at
// or above their min.cleanable.dirty.ratio (a log past max.compaction.lag.ms goes first).
#include "engine/broker/topic_manager.h"

namespace strata::broker {

PartitionReplica* TopicManager::dirtiest_log(int64_t now_ms) {
  PartitionReplica* best = nullptr;
  bool best_overdue = false;
  double best_ratio = -1;
  for (auto& [name, t] : topics_) {
    for (auto& p : t.partitions) {
      if (!p || uncleanable_.count(p->key()) != 0) continue;
      std::optional<CleanableRange> r = p->log->cleanable_range(now_ms);
      if (!r) continue;
      double ratio = r->dirty_ratio();
      if (!r->overdue && ratio < p->log->config().min_cleanable_dirty_ratio) continue;
      if (best == nullptr || (r->overdue && !best_overdue) ||
          (r->overdue == best_overdue && ratio > best_ratio)) {
        best = p.get();
        best_overdue = r->overdue;
        best_ratio = ratio;
      }
    }
  }
  return best;
}

bool TopicManager::clean_step(int64_t now_ms, uint64_t key_map_bytes_max) {
  PartitionReplica* p = cleaning_ ? find(cleaning_->first, cleaning_->second) : nullptr;
  if (p == nullptr) {
    p = dirtiest_log(now_ms);
    if (p == nullptr) return false;
    cleaning_ = std::make_pair(p->topic, p->index);
    pass_stats_ = {};
  }
  CleanOptions options;
  options.key_map_bytes_max = key_map_bytes_max;
  // Kafka keeps the last batch of every producer it still tracks, even emptied, so that the
  // producer's sequence survives a restart that rebuilds the table from the log.
  options.keep_empty_batch = [p](int64_t producer_id, Offset last) {
    const ProducerEntry* e = p->producers.find(producer_id);
    return e != nullptr && !e->batches.empty() && e->batches.back().last_offset == last.value();
  };
  Result<CleanStats> step = p->log->clean_step(now_ms, options);
  if (!step.is_ok()) {
    rt_.error("cleaner", p->key() + ": " + step.status().to_string() +
                             "; the partition is not cleaned again until a restart");
    uncleanable_.insert(p->key());
    cleaning_.reset();
    return true;
  }
  pass_stats_.add(*step);
  if (step->pass_done) {
    const CleanStats& s = pass_stats_;
    if (s.segments_in > 0) {
      rt_.info("cleaner", p->key() + ": cleaned up to offset " +
                              std::to_string(p->log->cleaner_point().value()) + ": " +
                              std::to_string(s.segments_in) + " segments (" +
                              std::to_string(s.bytes_in) + " bytes) into " +
                              std::to_string(s.segments_out) + " (" + std::to_string(s.bytes_out) +
                              " bytes), " + std::to_string(s.records_removed) + " of " +
                              std::to_string(s.records_in) + " records removed (" +
                              std::to_string(s.tombstones_removed) + " tombstones), " +
                              std::to_string(s.keys_mapped) + " keys mapped");
    }
    cleaning_.reset();
  }
  return true;
}

}  // namespace strata::broker
