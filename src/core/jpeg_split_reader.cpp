#include "jpeg_split_reader.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "worker_thread.hpp"

namespace bb {
namespace jpeg {

class ScanWorker {
  public:
    DecodeJob job{};
    DecodeGuard guard{&job};
    int scans = 0; // in the worker's stream
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable progress;
    // under mutex: iMCU rows of the last scan decoded; at the end, all rows
    JDIMENSION rows_ready = 0;
    bool done = false;
    Status status = Status::Ok;
    std::thread thread;

    ~ScanWorker() {
        if (thread.joinable()) {
            stop.store(true, std::memory_order_relaxed);
            thread.join();
        }
    }

    // The thread's work: every scan of the worker's stream, one iMCU row at a time; in the
    // last scan each row is announced as it is done.
    void consume_all() noexcept {
        Status result = Status::Ok;
        bool at_end = false;
        while (result == Status::Ok && !at_end) {
            if (stop.load(std::memory_order_relaxed)) {
                result = Status::Interrupted;
                break;
            }
            result = run_consume_input(&job, &at_end);
            if (result == Status::Ok && !at_end && job.cinfo.input_scan_number == scans) {
                {
                    const std::lock_guard<std::mutex> lock(mutex);
                    rows_ready = job.cinfo.input_iMCU_row;
                }
                progress.notify_one();
            }
        }
        {
            const std::lock_guard<std::mutex> lock(mutex);
            status = result;
            done = true;
            rows_ready = JDIMENSION(-1);
        }
        progress.notify_one();
    }
};

void ScanWorkerDeleter::operator()(ScanWorker *worker) const noexcept {
    delete worker;
}

namespace {

// Starts the worker's thread (worker_thread.hpp); leaves it not joinable when no thread can be
// had.
void start_thread(ScanWorker *w) {
    w->thread = start_worker_thread([w] { w->consume_all(); });
}

// Waits until the worker has row (or is done), polling for interrupts; true when it failed.
bool wait_until(ScanWorker &w, JDIMENSION row, InterruptPoll poll) {
    std::unique_lock<std::mutex> lock(w.mutex);
    wait_polling(
        w.progress, lock, [&] { return w.rows_ready > row; }, poll);
    return w.done && w.status != Status::Ok;
}

} // namespace

Status read_scans_split(DecodeJob &main, const ScanSplit &split, ScanWorkerPtr *worker) {
    ScanWorkerPtr w(new ScanWorker);
    DecodeJob &job = w->job;
    init_decode_job(job, main.data, main.size, nullptr);
    job.err.dc_elsewhere = true;
    job.scale_denom = main.scale_denom;
    job.ranges = &split.worker;
    job.buffered = true;
    job.lender = &main.coefficients;
    w->scans = split.worker_scans;
    if (run_read_header(&job) != Status::Ok || run_start_raw(&job) != Status::Ok)
        return Status::Failed;
    // With no second thread to be had the split gains nothing, and the worker's scans would be
    // read here without a poll: one decoder reads the file instead (the caller's fallback).
    start_thread(w.get());
    if (!w->thread.joinable())
        return Status::Failed;
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
    {
        const std::lock_guard<std::mutex> lock(w->mutex);
        if (w->done && w->status != Status::Ok)
            return Status::Failed;
    }
    *worker = std::move(w);
    return Status::Ok;
}

void wait_for_row(ScanWorker &worker, JDIMENSION row, InterruptPoll poll) {
    if (wait_until(worker, row, poll)) {
        if (worker.thread.joinable())
            worker.thread.join();
        check_decode(worker.status, worker.job);
    }
}

void wait_for_end(ScanWorker &worker, InterruptPoll poll) {
    wait_for_row(worker, JDIMENSION(-2), poll);
    if (worker.thread.joinable())
        worker.thread.join();
}

} // namespace jpeg
} // namespace bb
