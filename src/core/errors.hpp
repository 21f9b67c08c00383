// The one exception type the core throws. Its kind maps one to one onto a SQLSTATE in the
// PostgreSQL glue, so every failure reaches the user as a specific, actionable error.
#pragma once
#include "no_postgres.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace bb {

enum class ErrorKind {
    InvalidData,      // empty, truncated, corrupt or unrecognised bytes: 22P03
    Unsupported,      // a valid image of a kind we do not process: 0A000
    TooLarge,         // over the pixel limit or an output too large for bytea: 54000
    OutOfMemory,      // an allocation failed: 53200
    InvalidParameter, // sigma or quality out of range: 22023
    Interrupted,      // the host asked us to stop (cancel, timeout): 57014
};

class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, const std::string &message, const std::string &detail = std::string())
        : std::runtime_error(message), kind_(kind), detail_(detail) {}

    ErrorKind kind() const noexcept { return kind_; }
    const std::string &detail() const noexcept { return detail_; }

  private:
    ErrorKind kind_;
    std::string detail_;
};

// Polled by long loops. Returns true when the host wants the work abandoned; the core then
// unwinds with ErrorKind::Interrupted and the host raises its own error.
using InterruptPoll = bool (*)();

// What every loop throws when its poll says stop.
[[noreturn]] inline void throw_interrupted() {
    throw Error(ErrorKind::Interrupted, "image processing was interrupted");
}

// How many rows of pixels a loop works through between two polls: a few milliseconds of work at
// most on the widest rows the limits allow. Even, so that a strip of a 4:2:0 picture starts on
// a chroma row.
constexpr uint32_t kPollRows = 64;

// The row loops' cancel check: asks poll once every kPollRows rows and throws when it says stop.
inline void poll_every_rows(uint32_t y, InterruptPoll poll) {
    if (poll && (y + 1) % kPollRows == 0 && poll())
        throw_interrupted();
}

} // namespace bb
