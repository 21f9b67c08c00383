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

bool on_caller_thread(std::thread::id caller) noexcept {
    return std::this_thread::get_id() == caller;
}

} // namespace bb
