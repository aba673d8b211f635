// The native side of a Sensor: one libbpf object, its links and its ring buffer poller.
//
// JavaScript drives the steps one by one (constructor: open and configure; load; attach;
// start; stop), so that an error names the step that failed.
#pragma once

#include "ring_poller.h"

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

struct bpf_object;
struct bpf_program;
struct bpf_link;

namespace proctrail {

class SensorHandle : public Napi::ObjectWrap<SensorHandle> {
  public:
    static Napi::Function Define(Napi::Env env);

    // new SensorHandle(objectPath, { ringBufferBytes, argvLimitBytes, selfPid, hooks,
    //                                disabledPrograms })
    explicit SensorHandle(const Napi::CallbackInfo &info);
    ~SensorHandle() override;

    // Stops polling, destroys links and closes the object; idempotent. Also run at env exit.
    void Shutdown();

  private:
    void Configure(Napi::Env env, const Napi::Object &options);
    void SetConfig(Napi::Env env, uint32_t self_pid, uint32_t argv_limit, uint32_t hooks);
    void AttachProgram(Napi::Env env, struct bpf_program *program, int cgroup_fd);

    Napi::Value Load(const Napi::CallbackInfo &info);
    Napi::Value Attach(const Napi::CallbackInfo &info);
    Napi::Value Start(const Napi::CallbackInfo &info);
    Napi::Value Stop(const Napi::CallbackInfo &info);
    Napi::Value ReadCounters(const Napi::CallbackInfo &info);
    Napi::Value SetWatchPatterns(const Napi::CallbackInfo &info);
    Napi::Value UpdatePolicyMap(const Napi::CallbackInfo &info);
    Napi::Value ProgramNames(const Napi::CallbackInfo &info);
    Napi::Value PollError(const Napi::CallbackInfo &info);
    Napi::Value EnableRunTimeStats(const Napi::CallbackInfo &info);
    Napi::Value ProgramStats(const Napi::CallbackInfo &info);

    struct bpf_object *object_ = nullptr;
    std::vector<struct bpf_link *> links_;
    std::unique_ptr<RingPoller> poller_;
    bool loaded_ = false;
    // Held while the kernel times every BPF program run (BPF_ENABLE_STATS); -1 when off.
    int stats_fd_ = -1;
};

} // namespace proctrail
