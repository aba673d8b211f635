// Captures what libbpf prints, the verifier log among it, so that errors can carry it: the
// addon never writes to the process's stderr.
#pragma once

#include <string>

namespace proctrail {

// Routes libbpf's messages into the capture buffer; idempotent.
void InstallLibbpfLogCapture();

// Forgets what was captured so far: call before a step whose failure should carry its log.
void ClearLibbpfLog();

// What libbpf printed since the last clear (the last 256 KiB of it at most).
std::string TakeLibbpfLog();

} // namespace proctrail
