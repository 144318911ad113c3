// DeadlineSweeper: the timeouts of one worker's connections — header read, idle keep-alive,
// connect, per try, request, drain. Instead of one Asio timer per connection re-armed at every
// step (a timerfd update each time the earliest deadline changes), each connection keeps a plain
// deadline and a 100 ms tick walks them and fires those that passed, as nginx's coarse timers do.
// Precision is the tick. Used only on its worker's thread.
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

namespace meshgate::dp {

using SteadyTime = std::chrono::steady_clock::time_point;

// Something with a deadline; unlinks itself on destruction.
class Deadline : public boost::intrusive::list_base_hook<
                     boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  virtual ~Deadline() = default;

  void arm(SteadyTime when) { when_ = when; }
  void disarm() { when_ = SteadyTime::max(); }
  bool armed() const { return when_ != SteadyTime::max(); }
  SteadyTime when() const { return when_; }

  // Called on the worker's thread once the deadline passed; the deadline is disarmed first. Must
  // not destroy any Deadline synchronously: cancel I/O, and let the owners finish afterwards.
  virtual void onDeadline() = 0;

 private:
  SteadyTime when_ = SteadyTime::max();
};

class DeadlineSweeper {
 public:
  explicit DeadlineSweeper(boost::asio::io_context& context) : timer_(context) {}

  void add(Deadline& deadline) { deadlines_.push_back(deadline); }
  void start() { tick(); }
  void stop() { timer_.cancel(); }
  size_t size() const { return deadlines_.size(); }

 private:
  void tick();

  boost::asio::steady_timer timer_;
  boost::intrusive::list<Deadline, boost::intrusive::constant_time_size<false>> deadlines_;
};

inline void DeadlineSweeper::tick() {
  timer_.expires_after(std::chrono::milliseconds(100));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const SteadyTime now = std::chrono::steady_clock::now();
    for (auto it = deadlines_.begin(); it != deadlines_.end();) {
      Deadline& d = *it++;
      if (d.when() <= now) {
        d.disarm();
        d.onDeadline();
      }
    }
    tick();
  });
}

}  // namespace meshgate::dp
