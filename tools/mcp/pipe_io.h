// Writing to a child's stdin pipe: the whole buffer before a deadline (the fd is non-
// blocking, so a server that stops reading cannot hang the caller), and without the
// SIGPIPE that writing to a dead server would otherwise raise in the whole process.
// Thread-safe for distinct fds; callers serialise writes to one fd.
#pragma once

#include <string_view>

#include "engine/clock.h"
#include "engine/status.h"

namespace keel::tools::mcp {

// OK, kUnavailable (the reader is gone: EPIPE, or fd < 0), kDeadlineExceeded.
Status WriteAll(int fd, std::string_view data, Time deadline, Clock& clock);

}  // namespace keel::tools::mcp
