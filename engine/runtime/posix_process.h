// run_in_processes: runs independent tasks in a few forked worker processes and hands each
// task's result (a string the worker writes back over a pipe) to the parent.
//
// For `strata sim sweep --jobs N`: a simulation is single-threaded and deterministic by
// design, so a sweep's seeds run side by side in whole processes (as FoundationDB's and
// TigerBeetle's simulators do), never as threads inside one simulation. Worker w of N runs
// tasks w, w + N, w + 2N, ... in order, so it reuses its warm heap from one task to the next
// (a fresh process per task would page-fault its whole memory in again). A worker starts as
// a copy of the parent at fork time, shares nothing with its siblings, and exits without
// running destructors or flushing the parent's stdio buffers.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "engine/base/status.h"

namespace strata {

struct ProcessTasks {
  size_t count = 0;  // tasks 0 .. count-1
  int jobs = 1;      // worker processes, 1 ≤ jobs ≤ kProcessJobsMax
  // Runs in a worker; its return value is the task's result.
  std::function<std::string(size_t task)> work;
  // Runs in the parent, once per task, in the order results arrive. `result` is an error if
  // the worker died before finishing the task (a crash, a failed assertion).
  std::function<void(size_t task, Result<std::string> result)> done;
};

inline constexpr int kProcessJobsMax = 256;

// Fails only if the kernel refuses a pipe or a fork (workers already started still finish
// and are reported first).
Status run_in_processes(const ProcessTasks& tasks);

}  // namespace strata
