// The threads the core starts inside its host's process (a PostgreSQL backend, which is
// single-threaded by design): each runs plain computation on memory the core owns and calls
// nothing of the host's; it starts with every signal blocked, so that the host's handlers run
// on the host's thread only; the calling thread polls for interrupts while it waits for one,
// and joins it before it returns or throws.
#pragma once
#include "no_postgres.hpp"

#include <chrono>
#include <condition_variable>
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

// Starts fn on a new thread with every signal blocked there. Returns a thread that is not
// joinable when none can be had (resource limits); the caller then does the work itself.
template <class Fn> std::thread start_worker_thread(Fn &&fn) noexcept {
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

} // namespace bb
