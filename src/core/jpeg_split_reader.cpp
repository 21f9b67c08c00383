#include "jpeg_split_reader.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include <pthread.h>

namespace bb {
namespace jpeg {
namespace {

// How often the calling thread polls for interrupts while it waits for the worker.
constexpr std::chrono::milliseconds kWaitPoll{5};

struct Worker {
    DecodeJob job{};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false; // under mutex
    Status status = Status::Ok;
};

// The worker's thread: every scan of its stream, one iMCU row at a time.
void consume_all(Worker *w) noexcept {
    Status status = Status::Ok;
    bool at_end = false;
    while (status == Status::Ok && !at_end) {
        if (w->stop.load(std::memory_order_relaxed))
            status = Status::Interrupted;
        else
            status = run_consume_input(&w->job, &at_end);
    }
    {
        std::lock_guard<std::mutex> lock(w->mutex);
        w->status = status;
        w->done = true;
    }
    w->finished.notify_one();
}

// A thread for consume_all with every signal blocked: the host's handlers (a PostgreSQL
// backend's) must run on its own thread. Not joinable when no thread could be started.
std::thread start_worker(Worker *w) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    std::thread thread;
    try {
        thread = std::thread(consume_all, w);
    } catch (const std::system_error &) {
        // no thread to be had (resource limits): the caller does the work in turn
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return thread;
}

// Stops and joins the worker's thread on every way out, exceptions included.
struct Joiner {
    Worker *worker;
    std::thread *thread;
    ~Joiner() {
        if (thread->joinable()) {
            worker->stop.store(true, std::memory_order_relaxed);
            thread->join();
        }
    }
};

// Waits for the worker, polling for interrupts every kWaitPoll.
void wait_for(Worker *w, InterruptPoll poll) {
    std::unique_lock<std::mutex> lock(w->mutex);
    while (!w->finished.wait_for(lock, kWaitPoll, [w] { return w->done; })) {
        if (poll && poll())
            throw_interrupted(); // the Joiner stops the worker
    }
}

} // namespace

Status read_scans_split(DecodeJob &main, const ScanSplit &split) {
    auto worker = std::make_unique<Worker>();
    DecodeJob &job = worker->job;
    DecodeGuard guard{&job};
    init_decode_job(job, main.data, main.size, nullptr);
    job.err.dc_elsewhere = true;
    job.scale_denom = main.scale_denom;
    job.ranges = &split.worker;
    job.buffered = true;
    job.lender = &main.coefficients;
    if (run_read_header(&job) != Status::Ok || run_start_raw(&job) != Status::Ok)
        return Status::Failed;

    std::thread thread = start_worker(worker.get());
    const Joiner joiner{worker.get(), &thread};
    if (!thread.joinable())
        consume_all(worker.get());
    bool at_end = false;
    while (!at_end) {
        if (main.poll && main.poll())
            throw_interrupted();
        const Status status = run_consume_input(&main, &at_end);
        if (status == Status::Interrupted)
            throw_interrupted();
        if (status != Status::Ok)
            return Status::Failed;
    }
    wait_for(worker.get(), main.poll);
    if (thread.joinable())
        thread.join();
    return worker->status == Status::Ok ? Status::Ok : Status::Failed;
}

} // namespace jpeg
} // namespace bb
