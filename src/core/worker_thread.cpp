#include "worker_thread.hpp"

#include <exception>

namespace bb {
namespace {

// One run_abandonable call's work, shared by the caller and the worker.
struct Abandonable {
    std::mutex mutex;
    std::condition_variable ready;
    bool done = false;
    std::function<void()> work; // owns, through its captures, everything it touches
};

// The work a cancel left running, if it still is. Only the host's thread touches it.
std::weak_ptr<Abandonable> g_abandoned;

void wait_done(Abandonable &job, InterruptPoll poll) {
    std::unique_lock<std::mutex> lock(job.mutex);
    wait_polling(
        job.ready, lock, [&] { return job.done; }, poll);
}

// A worker for run_beside and run_pipelined: runs fn once on a thread of its own, keeping its
// exception for the caller, who always calls finish.
class JoinedWorker {
  public:
    explicit JoinedWorker(const std::function<void()> &fn)
        : thread_(start_worker_thread([this, &fn] {
              try {
                  fn();
              } catch (...) {
                  error_ = std::current_exception();
              }
              std::lock_guard<std::mutex> lock(mutex_);
              done_ = true;
              ready_.notify_all();
          })) {}
    JoinedWorker(const JoinedWorker &) = delete;
    JoinedWorker &operator=(const JoinedWorker &) = delete;
    bool started() const noexcept { return thread_.joinable(); }

    // Waits for the worker, polling unless the caller already has an error, and joins it; then
    // throws the caller's error, or a cancel seen while waiting (after on_cancel, which may tell
    // the worker to end early: it still works on the caller's memory), or the worker's.
    void finish(std::exception_ptr caller_error, InterruptPoll poll, const std::function<void()> &on_cancel = nullptr) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            try {
                wait_polling(
                    ready_, lock, [&] { return done_; }, caller_error ? nullptr : poll);
            } catch (...) {
                caller_error = std::current_exception();
                if (on_cancel)
                    on_cancel();
                ready_.wait(lock, [&] { return done_; });
            }
        }
        thread_.join();
        if (caller_error)
            std::rethrow_exception(caller_error);
        if (error_)
            std::rethrow_exception(error_);
    }

  private:
    std::mutex mutex_;
    std::condition_variable ready_;
    bool done_ = false;
    std::exception_ptr error_;
    std::thread thread_; // last: started once the members above exist
};

} // namespace

void run_abandonable(std::function<void()> work, InterruptPoll poll, const std::shared_ptr<std::atomic<bool>> &stop) {
    if (const std::shared_ptr<Abandonable> previous = g_abandoned.lock())
        wait_done(*previous, poll);
    if (poll && poll())
        throw_interrupted();
    auto job = std::make_shared<Abandonable>();
    job->work = std::move(work);
    std::thread thread = start_worker_thread([job] {
        job->work();
        std::lock_guard<std::mutex> lock(job->mutex);
        job->done = true;
        job->ready.notify_all();
    });
    if (!thread.joinable()) {
        job->work();
        return;
    }
    try {
        wait_done(*job, poll);
    } catch (...) {
        if (stop)
            stop->store(true);
        thread.detach();
        g_abandoned = job;
        throw;
    }
    thread.join();
}

void run_beside(const std::function<void()> &beside, const std::function<void()> &here, InterruptPoll poll) {
    JoinedWorker worker(beside);
    if (!worker.started()) {
        beside();
        here();
        return;
    }
    std::exception_ptr here_error;
    try {
        here();
    } catch (...) {
        here_error = std::current_exception();
    }
    worker.finish(here_error, poll);
}

void RowGate::publish(uint32_t rows) noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.store(rows, std::memory_order_release);
    }
    changed_.notify_all();
}

void RowGate::abandon() noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        abandoned_.store(true, std::memory_order_release);
    }
    changed_.notify_all();
}

bool RowGate::wait_for(uint32_t rows) {
    if (abandoned())
        return false;
    if (ready_.load(std::memory_order_acquire) >= rows)
        return true;
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return abandoned() || ready_.load(std::memory_order_acquire) >= rows; });
    return !abandoned();
}

bool run_pipelined(RowGate &gate, const std::function<void()> &consume, const std::function<bool()> &produce,
                   InterruptPoll poll) {
    JoinedWorker worker(consume);
    if (!worker.started()) {
        const bool produced = produce();
        if (!produced) {
            gate.abandon();
            return false;
        }
        consume();
        return true;
    }
    bool produced = false;
    std::exception_ptr produce_error;
    try {
        produced = produce();
    } catch (...) {
        produce_error = std::current_exception();
    }
    if (produce_error || !produced)
        gate.abandon();
    worker.finish(produce_error, produce_error || !produced ? nullptr : poll, [&] { gate.abandon(); });
    return produced;
}

bool on_caller_thread(std::thread::id caller) noexcept {
    return std::this_thread::get_id() == caller;
}

} // namespace bb
