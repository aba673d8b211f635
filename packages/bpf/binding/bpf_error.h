// Native failures as JavaScript errors that name the step, carry the errno and say what to do.
#pragma once

#include <napi.h>

#include <string>

namespace proctrail {

// An Error whose message names `step` (open, load <program>, attach <program>, ringbuf, ...)
// and says what to do about `err` (a positive errno); it carries `step`, `errno`, `code` and,
// when libbpf printed one, `libbpfLog` (with the verifier's log of a refused program).
Napi::Error MakeBpfError(Napi::Env env, const std::string &step, int err,
                         const std::string &libbpf_log = "");

} // namespace proctrail
