#include "jpeg_read_ahead.hpp"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "worker_thread.hpp"

namespace bb {
namespace jpeg {

class ReadAhead {
  public:
    struct Slot {
        std::vector<uint8_t> buffer[4];
        std::vector<JSAMPROW> rows[4];
        JSAMPARRAY arrays[4] = {};
    };

    DecodeJob *job = nullptr;
    Slot slots[kReadAheadRows];
    std::mutex mutex;
    std::condition_variable produced, released;
    // under mutex
    uint32_t filled = 0;   // iMCU rows decoded
    uint32_t returned = 0; // handed to the caller
    uint32_t taken = 0;    // done with: their slots are free again
    bool stop = false;
    bool done = false;
    Status status = Status::Ok;
    std::thread thread;

    ~ReadAhead() {
        {
            const std::lock_guard<std::mutex> lock(mutex);
            stop = true;
        }
        released.notify_one();
        if (thread.joinable())
            thread.join();
    }

    // The thread's work: every output row into a free slot, then the rest of the file. Once
    // every slot is full it waits until half are free, not one, to wake less often.
    void run() noexcept {
        Status result = Status::Ok;
        for (uint32_t n = 0;; n++) {
            {
                std::unique_lock<std::mutex> lock(mutex);
                if (n - taken >= uint32_t(kReadAheadRows))
                    released.wait(lock, [&] { return stop || n - taken <= uint32_t(kReadAheadRows / 2); });
                if (stop) {
                    result = Status::Interrupted;
                    break;
                }
            }
            if (job->cinfo.output_scanline >= job->cinfo.output_height) {
                result = run_finish_decompress(job);
                break;
            }
            const Slot &slot = slots[n % kReadAheadRows];
            for (int c = 0; c < 4; c++)
                job->raw_rows[c] = slot.arrays[c];
            result = run_read_imcu(job);
            if (result != Status::Ok)
                break;
            {
                const std::lock_guard<std::mutex> lock(mutex);
                filled = n + 1;
            }
            produced.notify_one();
        }
        {
            const std::lock_guard<std::mutex> lock(mutex);
            status = result;
            done = true;
        }
        produced.notify_one();
    }
};

void ReadAheadDeleter::operator()(ReadAhead *ahead) const noexcept {
    delete ahead;
}

ReadAheadPtr start_read_ahead(DecodeJob &job, const size_t stride[4], const uint32_t rows[4]) {
    ReadAheadPtr ahead(new ReadAhead);
    ahead->job = &job;
    for (ReadAhead::Slot &slot : ahead->slots)
        for (int c = 0; c < job.cinfo.num_components && c < 4; c++) {
            slot.buffer[c].resize(stride[c] * rows[c]);
            slot.rows[c].resize(rows[c]);
            for (uint32_t r = 0; r < rows[c]; r++)
                slot.rows[c][r] = slot.buffer[c].data() + stride[c] * r;
            slot.arrays[c] = slot.rows[c].data();
        }
    ReadAhead *raw = ahead.get();
    ahead->thread = start_worker_thread([raw] { raw->run(); });
    if (!ahead->thread.joinable())
        return nullptr;
    return ahead;
}

const JSAMPARRAY *next_rows(ReadAhead &ahead, InterruptPoll poll) {
    std::unique_lock<std::mutex> lock(ahead.mutex);
    if (ahead.taken != ahead.returned) { // the caller is done with the row it had
        ahead.taken = ahead.returned;
        ahead.released.notify_one();
    }
    wait_polling(
        ahead.produced, lock, [&] { return ahead.filled > ahead.returned || ahead.done; }, poll);
    if (ahead.filled > ahead.returned)
        return ahead.slots[ahead.returned++ % kReadAheadRows].arrays;
    lock.unlock();
    if (ahead.thread.joinable())
        ahead.thread.join(); // done: the job is the caller's again
    check_decode(ahead.status, *ahead.job);
    return nullptr;
}

} // namespace jpeg
} // namespace bb
