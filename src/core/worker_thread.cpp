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
    std::mutex mutex;
    std::condition_variable ready;
    bool done = false;
    std::exception_ptr beside_error, here_error;
    std::thread thread = start_worker_thread([&] {
        try {
            beside();
        } catch (...) {
            beside_error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex);
        done = true;
        ready.notify_all();
    });
    if (!thread.joinable()) {
        beside();
        here();
        return;
    }
    try {
        here();
    } catch (...) {
        here_error = std::current_exception();
    }
    {
        std::unique_lock<std::mutex> lock(mutex);
        try {
            wait_polling(
                ready, lock, [&] { return done; }, here_error ? nullptr : poll);
        } catch (...) { // a cancel: the worker still holds the caller's memory
            here_error = std::current_exception();
            ready.wait(lock, [&] { return done; });
        }
    }
    thread.join();
    if (here_error)
        std::rethrow_exception(here_error);
    if (beside_error)
        std::rethrow_exception(beside_error);
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
    std::mutex mutex;
    std::condition_variable ready;
    bool done = false;
    std::exception_ptr consume_error, produce_error;
    std::thread thread = start_worker_thread([&] {
        try {
            consume();
        } catch (...) {
            consume_error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex);
        done = true;
        ready.notify_all();
    });
    if (!thread.joinable()) {
        const bool produced = produce();
        if (!produced) {
            gate.abandon();
            return false;
        }
        consume();
        return true;
    }
    bool produced = false;
    try {
        produced = produce();
    } catch (...) {
        produce_error = std::current_exception();
    }
    if (produce_error || !produced)
        gate.abandon();
    {
        std::unique_lock<std::mutex> lock(mutex);
        try {
            wait_polling(
                ready, lock, [&] { return done; }, produce_error || !produced ? nullptr : poll);
        } catch (...) { // a cancel: the worker stops at its next row, still on the caller's memory
            produce_error = std::current_exception();
            gate.abandon();
            ready.wait(lock, [&] { return done; });
        }
    }
    thread.join();
    if (produce_error)
        std::rethrow_exception(produce_error);
    if (consume_error)
        std::rethrow_exception(consume_error);
    return produced;
}

bool on_caller_thread(std::thread::id caller) noexcept {
    return std::this_thread::get_id() == caller;
}

} // namespace bb
