// Fifo<T>: a first-in first-out queue in one vector, for queues that are drained often (a
// consumer's fetched records, a producer's window of uncompleted records). Unlike std::deque
// it allocates only when it grows past its largest size so far: popped elements stay in the
// vector (moved-from) until the queue empties, or until they are more than half of it, when
// they are erased in one move of the live ones.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "engine/base/assert.h"

namespace strata {

template <class T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    return items_.emplace_back(std::forward<Args>(args)...);
  }
  void push_back(T v) { items_.push_back(std::move(v)); }

  T& front() {
    STRATA_ASSERT(!empty(), "front() of an empty Fifo");
    return items_[head_];
  }
  const T& front() const {
    STRATA_ASSERT(!empty(), "front() of an empty Fifo");
    return items_[head_];
  }
  void pop_front() {
    STRATA_ASSERT(!empty(), "pop_front() of an empty Fifo");
    ++head_;
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + std::ptrdiff_t(head_));
      head_ = 0;
    }
  }
  // Element i from the front.
  T& operator[](size_t i) { return items_[head_ + i]; }
  const T& operator[](size_t i) const { return items_[head_ + i]; }

  void clear() {
    items_.clear();
    head_ = 0;
  }
  // Removes the elements for which `pred` holds, keeping the order of the others.
  template <class Pred>
  size_t erase_if(Pred pred) {
    auto first = items_.begin() + std::ptrdiff_t(head_);
    auto kept = std::remove_if(first, items_.end(), pred);
    size_t n = size_t(items_.end() - kept);
    items_.erase(kept, items_.end());
    if (empty()) clear();
    return n;
  }

  auto begin() { return items_.begin() + std::ptrdiff_t(head_); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin() + std::ptrdiff_t(head_); }
  auto end() const { return items_.end(); }

 private:
  static constexpr size_t kCompactAfter = 1024;
  std::vector<T> items_;
  size_t head_ = 0;  // items_[0, head_) were popped
};

}  // namespace strata
