// WorkQueue is the controller's queue of `namespace/name` keys, the C++ counterpart of client-go's
// workqueue: informer event handlers add() keys, worker threads get() a key, reconcile it and call
// done(). DelayingQueue and RateLimitingQueue build on it for requeue-after and retry backoff.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

#include "kube/clock.h"
#include "kube/queue_metrics.h"

namespace kube {

/**
 * A FIFO of keys with three guarantees controllers rely on:
 *  - a key added while it is already pending is collapsed into the pending entry (dirty set);
 *  - a key is never handed to two workers at once: a key added while a worker holds it is
 *    queued again only when that worker calls done(key), and then exactly once;
 *  - a key never handed out before goes ahead of every key that was (two FIFO lanes): after a
 *    bulk apply or a restart, every object gets its first reconcile before the re-reconciles
 *    its neighbours' writes cause, so the time until all are Ready is not spent on objects that
 *    already are. forget()-ing a key of a deleted object is not needed: a key seen once is
 *    remembered (one string per object the controller ever reconciled).
 *
 * All methods are thread-safe. The owner must shut the queue down and join every thread that
 * uses it before destroying it.
 */
class WorkQueue {
 public:
  // clock must outlive the queue; name labels the queue's metrics.
  explicit WorkQueue(Clock& clock, std::string name = "");
  virtual ~WorkQueue() = default;
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Marks key as needing processing. Ignored after shutdown.
  void add(const std::string& key);

  /**
   * Blocks until a key is available and hands it to the caller, who must call done(key) when
   * finished. Keys queued before shutdown are still handed out; returns std::nullopt once the
   * queue is shut down and empty.
   */
  std::optional<std::string> get();

  // Ends the processing of a key returned by get(); re-queues it if it was added meanwhile.
  // Ignored for a key that is not being processed.
  void done(const std::string& key);

  // Number of keys ready to be handed out (not counting keys held by workers or still delayed).
  std::size_t len();

  // Stops accepting keys and wakes blocked get() callers; returns immediately.
  void shutDown();

  // As shutDown(), then blocks until no key is held by a worker (every get() matched by done()).
  void shutDownWithDrain();

  bool shuttingDown() const;

  // Shared so an exporter can keep reading it independently of the queue's lifetime.
  const QueueMetricsSharedPtr& metrics() const { return metrics_; }

 protected:
  // Extension points for DelayingQueue; called with mutex_ held.
  // Moves keys whose delay has elapsed into the queue (through addLocked()).
  virtual void promoteReadyLocked() {}
  // The earliest time at which promoteReadyLocked() would have something to move.
  virtual std::optional<Clock::TimePoint> nextReadyAtLocked() const { return std::nullopt; }
  // Lets the subclass drop state that can no longer become work.
  virtual void onShutDownLocked() {}

  void addLocked(const std::string& key);
  bool shuttingDownLocked() const { return shuttingDown_; }

  Clock& clock_;
  mutable std::mutex mutex_;
  // Signalled when a key becomes ready, at shutdown, and when delayed work changes its deadline.
  std::condition_variable ready_;
  const QueueMetricsSharedPtr metrics_;

 private:
  // All guarded by mutex_.
  std::deque<std::string> firstQueue_;          // ready keys never handed out, in order
  std::deque<std::string> queue_;               // ready keys handed out before, in order
  std::unordered_set<std::string> handedOut_;   // every key get() ever returned
  std::unordered_set<std::string> dirty_;       // keys needing processing
  std::unordered_set<std::string> processing_;  // keys held by workers
  bool shuttingDown_ = false;
  std::condition_variable drained_;  // signalled when processing_ becomes empty
};
using WorkQueuePtr = std::unique_ptr<WorkQueue>;

}  // namespace kube
