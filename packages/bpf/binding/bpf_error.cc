#include "bpf_error.h"

#include <cerrno>
#include <cstring>

namespace proctrail {
namespace {

// Verifier logs are long; the message keeps the end, which says why, the property keeps all.
constexpr size_t kLogTailBytes = 3000;

std::string ErrnoName(int err) {
    const char *name = strerrorname_np(err);
    return name ? name : "E" + std::to_string(err);
}

bool StartsWith(const std::string &text, const char *prefix) {
    return text.rfind(prefix, 0) == 0;
}

std::string Advice(const std::string &step, int err) {
    const char *privileges = "Run as root, or grant CAP_BPF and CAP_PERFMON (and CAP_NET_ADMIN "
                             "for the cgroup socket hooks).";
    if (err == EPERM) {
        return privileges;
    }
    // The verifier answers EACCES for a program it refuses; without privileges it is EPERM.
    if (err == EACCES && StartsWith(step, "load")) {
        return "The verifier refused a program: its log follows (full text in libbpfLog).";
    }
    if (err == EACCES) {
        return privileges;
    }
    if (err == ENOENT && step == "btf") {
        return "This kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing): boot a kernel "
               "built with CONFIG_DEBUG_INFO_BTF=y.";
    }
    if (err == ENOENT && step == "open") {
        return "The BPF object is missing: run `npm run build:native -w @proctrail/bpf`.";
    }
    if (err == EINVAL && StartsWith(step, "load")) {
        return "The kernel refused a program or a map: see the libbpf log below.";
    }
    if (StartsWith(step, "attach")) {
        return "The hook could not be attached: check that the tracepoint or the cgroup exists "
               "on this kernel.";
    }
    return "";
}

std::string LogTail(const std::string &log) {
    if (log.size() <= kLogTailBytes) {
        return log;
    }
    return "..." + log.substr(log.size() - kLogTailBytes);
}

} // namespace

Napi::Error MakeBpfError(Napi::Env env, const std::string &step, int err,
                         const std::string &libbpf_log) {
    std::string message = step + ": " + strerror(err) + " (" + ErrnoName(err) + ").";
    std::string advice = Advice(step, err);
    if (!advice.empty()) {
        message += " " + advice;
    }
    if (!libbpf_log.empty()) {
        message += "\nlibbpf:\n" + LogTail(libbpf_log);
    }

    Napi::Error error = Napi::Error::New(env, message);
    error.Set("step", Napi::String::New(env, step));
    error.Set("errno", Napi::Number::New(env, err));
    error.Set("code", Napi::String::New(env, ErrnoName(err)));
    if (!libbpf_log.empty()) {
        error.Set("libbpfLog", Napi::String::New(env, libbpf_log));
    }
    return error;
}

} // namespace proctrail
