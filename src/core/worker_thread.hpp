// The threads the core starts inside its host's process (a PostgreSQL backend, which is
// single-threaded by design): each runs plain computation on memory the core owns and calls
// nothing of the host's; it starts with every signal blocked, so that the host's handlers run
// on the host's thread only; the calling thread polls for interrupts while it waits for one,
// and joins it before it returns or throws, except run_abandonable's, which a cancel leaves to
// finish alone on memory it owns.
#pragma once
#include "no_postgres.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <csignal>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include <pthread.h>

#include "errors.hpp"

namespace bb {

// How often a thread that waits for a worker polls for interrupts.
constexpr std::chrono::milliseconds kWorkerWaitPoll{5};

// Waits on ready, under lock, until done() holds, polling every kWorkerWaitPoll. Throws
// Error(Interrupted) when poll says stop; the worker's owner then stops and joins it.
template <class Done>
void wait_polling(std::condition_variable &ready, std::unique_lock<std::mutex> &lock, Done done, InterruptPoll poll) {
    while (!ready.wait_for(lock, kWorkerWaitPoll, done)) {
        if (poll && poll())
            throw_interrupted();
    }
}

// For the tests: while set, start_worker_thread has no thread to give, as when the process is
// out of them, so that each caller's way without a worker runs.
inline std::atomic<bool> worker_threads_denied{false};

// Starts fn on a new thread with every signal blocked there. Returns a thread that is not
// joinable when none can be had (resource limits); the caller then does the work itself.
template <class Fn> std::thread start_worker_thread(Fn &&fn) noexcept {
    if (worker_threads_denied.load(std::memory_order_relaxed))
        return std::thread();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    std::thread thread;
    try {
        thread = std::thread(std::forward<Fn>(fn));
    } catch (const std::system_error &) {
        thread = std::thread(); // no thread to be had: the caller does the work itself
    } catch (const std::bad_alloc &) {
        thread = std::thread();
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return thread;
}

// Runs beside on a worker thread while here runs on this one, then waits for the worker,
// polling every kWorkerWaitPoll; for two halves of one job, each a bounded computation on
// memory the caller owns. The worker is always joined before this returns or throws: a cancel
// seen while waiting is thrown once the worker has finished (so beside must be short: one
// uninterruptible library call, as here must). An exception from either is thrown here, here's
// first. With no thread to be had, beside runs here first.
void run_beside(const std::function<void()> &beside, const std::function<void()> &here, InterruptPoll poll);

// Rows handed from the thread that produces them to one that consumes them, in order: the
// producer publishes how many rows from the top are ready (writing them before), or abandons
// them (an error, a cancel); the consumer waits for the rows it needs next.
class RowGate {
  public:
    void publish(uint32_t rows) noexcept;
    void abandon() noexcept;
    bool abandoned() const noexcept { return abandoned_.load(std::memory_order_acquire); }
    // Waits until at least rows are ready (true) or the producer has abandoned them (false).
    bool wait_for(uint32_t rows);

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::atomic<uint32_t> ready_{0};
    std::atomic<bool> abandoned_{false};
};

// A pipeline of two steps over the rows of one image: consume runs on a worker thread, waiting
// at gate for the rows that produce, here, publishes. The gate is abandoned when produce
// throws or returns false, or when a cancel is seen while this thread then waits for the
// worker (polling every kWorkerWaitPoll): consume must then end within one of its rows. The
// worker is always joined before this returns or throws. Returns produce's result; an
// exception from produce is thrown first, then one from consume. With no thread to be had,
// produce runs here, then consume (once every row is ready).
bool run_pipelined(RowGate &gate, const std::function<void()> &consume, const std::function<bool()> &produce,
                   InterruptPoll poll);

// For a library call that has no hook for a cancel and may run long (libavif's AV1 decoder and
// encoder; libwebp's encoder, whose hook fires rarely): runs work on a worker thread and waits
// for it, polling every kWorkerWaitPoll. On a cancel, sets *stop (when given: a hook in work
// may read it to end early) and throws Error(Interrupted) at once, without waiting: the worker
// is left to finish alone. work must therefore own, through the shared pointers it captures,
// everything it touches, and call nothing of the host's. At most one such worker is left
// running per process: the next call waits for it first. With no thread to be had, work runs
// on this thread (its hook must then poll itself: see on_caller_thread).
void run_abandonable(std::function<void()> work, InterruptPoll poll,
                     const std::shared_ptr<std::atomic<bool>> &stop = nullptr);

// Whether this is the thread that called run_abandonable for the work now running here (no
// worker could be had), so that a hook may call poll, which only that thread may.
bool on_caller_thread(std::thread::id caller) noexcept;

} // namespace bb
