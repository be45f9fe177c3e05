// /metrics (layer: host/serve): requests by endpoint and status, and the batch loop's counters,
// in Prometheus' text format.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "host/serve/batch_loop.h"

namespace vkg::serve {

class RequestCounters {
 public:
  // `endpoint`: a served path (anything else is counted as "other", so a scan of random paths
  // cannot grow the label set).
  void Count(const std::string& endpoint, int status);
  std::map<std::pair<std::string, int>, uint64_t> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> counts_;
};

std::string PrometheusText(const RequestCounters& requests, const BatchLoopStats& loop, int validation_messages);

}  // namespace vkg::serve
