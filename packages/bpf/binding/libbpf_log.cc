#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace proctrail {
namespace {

// Verifier logs of big programs run to megabytes; the end says why the program was refused.
constexpr size_t kMaxLogBytes = 256 * 1024;

std::mutex log_mutex;
std::string log_text;

int CaptureLibbpfPrint(enum libbpf_print_level level, const char *format, va_list args) {
    if (level == LIBBPF_DEBUG) {
        return 0;
    }
    char line[4096];
    int n = vsnprintf(line, sizeof(line), format, args);
    if (n < 0) {
        return 0;
    }
    std::lock_guard<std::mutex> lock(log_mutex);
    log_text.append(line);
    if (log_text.size() > kMaxLogBytes) {
        log_text.erase(0, log_text.size() - kMaxLogBytes);
    }
    return n;
}

} // namespace

void InstallLibbpfLogCapture() {
    libbpf_set_print(CaptureLibbpfPrint);
}

void ClearLibbpfLog() {
    std::lock_guard<std::mutex> lock(log_mutex);
    log_text.clear();
}

std::string TakeLibbpfLog() {
    std::lock_guard<std::mutex> lock(log_mutex);
    std::string text;
    text.swap(log_text);
    return text;
}

} // namespace proctrail
