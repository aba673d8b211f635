#include "sensor_handle.h"

#include "bpf_error.h"
#include "libbpf_log.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/types.h>
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "records.h"

namespace proctrail {
namespace {

constexpr const char *kBtfPath = "/sys/kernel/btf/vmlinux";

// Handles still open, shut down when the environment exits (a worker, or the main thread).
std::set<SensorHandle *> live_handles;

bool StartsWith(const char *text, const char *prefix) {
    return text && strncmp(text, prefix, strlen(prefix)) == 0;
}

uint32_t RequireUint(const Napi::Object &options, const char *name, uint32_t fallback) {
    Napi::Value value = options.Get(name);
    if (value.IsUndefined()) {
        return fallback;
    }
    if (!value.IsNumber() || value.As<Napi::Number>().DoubleValue() < 0 ||
        value.As<Napi::Number>().DoubleValue() > UINT32_MAX) {
        throw Napi::TypeError::New(options.Env(),
                                   std::string("options.") + name + " must be a uint32");
    }
    return value.As<Napi::Number>().Uint32Value();
}

struct bpf_map *RequireMap(Napi::Env env, struct bpf_object *object, const char *name) {
    struct bpf_map *map = bpf_object__find_map_by_name(object, name);
    if (!map) {
        throw MakeBpfError(env, std::string("find map ") + name, ENOENT);
    }
    return map;
}

// The program a failed load is about, from libbpf's "prog 'name': ..." lines.
std::string FailedProgram(const std::string &log) {
    size_t at = log.find("prog '");
    if (at == std::string::npos) {
        return "";
    }
    size_t start = at + 6;
    size_t end = log.find('\'', start);
    return end == std::string::npos ? "" : log.substr(start, end - start);
}

} // namespace

Napi::Function SensorHandle::Define(Napi::Env env) {
    env.AddCleanupHook([] {
        std::set<SensorHandle *> handles = live_handles;
        for (SensorHandle *handle : handles) {
            handle->Shutdown();
        }
    });
    return DefineClass(env, "SensorHandle",
                       {
                           InstanceMethod<&SensorHandle::Load>("load"),
                           InstanceMethod<&SensorHandle::Attach>("attach"),
                           InstanceMethod<&SensorHandle::Start>("start"),
                           InstanceMethod<&SensorHandle::Stop>("stop"),
                           InstanceMethod<&SensorHandle::ReadCounters>("readCounters"),
                           InstanceMethod<&SensorHandle::SetWatchPatterns>("setWatchPatterns"),
                           InstanceMethod<&SensorHandle::UpdatePolicyMap>("updatePolicyMap"),
                           InstanceMethod<&SensorHandle::ProgramNames>("programNames"),
                           InstanceMethod<&SensorHandle::PollError>("pollError"),
                           InstanceMethod<&SensorHandle::EnableRunTimeStats>("enableRunTimeStats"),
                           InstanceMethod<&SensorHandle::ProgramStats>("programStats"),
                       });
}

SensorHandle::SensorHandle(const Napi::CallbackInfo &info) : Napi::ObjectWrap<SensorHandle>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        throw Napi::TypeError::New(env, "objectPath must be a string");
    }
    if (info.Length() < 2 || !info[1].IsObject()) {
        throw Napi::TypeError::New(env, "options must be an object");
    }
    std::string path = info[0].As<Napi::String>();

    if (access(kBtfPath, R_OK) != 0) {
        throw MakeBpfError(env, "btf", ENOENT);
    }
    InstallLibbpfLogCapture();
    ClearLibbpfLog();
    object_ = bpf_object__open_file(path.c_str(), nullptr);
    if (!object_) {
        int err = errno;
        throw MakeBpfError(env, "open " + path, err, TakeLibbpfLog());
    }
    // A constructor that throws never runs the destructor: clean up here.
    try {
        Configure(env, info[1].As<Napi::Object>());
    } catch (...) {
        Shutdown();
        throw;
    }
    live_handles.insert(this);
}

SensorHandle::~SensorHandle() {
    Shutdown();
    live_handles.erase(this);
}

void SensorHandle::Configure(Napi::Env env, const Napi::Object &options) {
    uint32_t ring_bytes = RequireUint(options, "ringBufferBytes", 4u << 20);
    uint32_t argv_limit = RequireUint(options, "argvLimitBytes", 4096);
    uint32_t self_pid = RequireUint(options, "selfPid", 0);
    uint32_t hooks = RequireUint(options, "hooks", PT_HOOK_NETWORK | PT_HOOK_FILES | PT_HOOK_LOADS);

    // The kernel wants a power of two, a multiple of the page size.
    if (ring_bytes < 4096 || (ring_bytes & (ring_bytes - 1)) != 0) {
        throw Napi::TypeError::New(env, "options.ringBufferBytes must be a power of two >= 4096");
    }
    if (argv_limit == 0 || argv_limit > PT_ARGS_MAX) {
        throw Napi::TypeError::New(env, "options.argvLimitBytes must be within 1.." +
                                            std::to_string(PT_ARGS_MAX));
    }
    bpf_map__set_max_entries(RequireMap(env, object_, "events"), ring_bytes);
    // One record scratch slot per possible CPU (see maps.h).
    bpf_map__set_max_entries(RequireMap(env, object_, "record_scratch"),
                             libbpf_num_possible_cpus());
    if (hooks & ~(PT_HOOK_NETWORK | PT_HOOK_FILES | PT_HOOK_LOADS)) {
        throw Napi::TypeError::New(env, "options.hooks holds unknown PT_HOOK_* bits");
    }
    SetConfig(env, self_pid, argv_limit, hooks);

    Napi::Value disabled = options.Get("disabledPrograms");
    if (disabled.IsUndefined()) {
        return;
    }
    if (!disabled.IsArray()) {
        throw Napi::TypeError::New(env, "options.disabledPrograms must be an array of strings");
    }
    Napi::Array names = disabled.As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) {
        Napi::Value name = names.Get(i);
        struct bpf_program *program =
            name.IsString() ? bpf_object__find_program_by_name(
                                  object_, name.As<Napi::String>().Utf8Value().c_str())
                            : nullptr;
        if (!program) {
            throw Napi::TypeError::New(env, "options.disabledPrograms[" + std::to_string(i) +
                                                "] is not a program of this object");
        }
        bpf_program__set_autoload(program, false);
    }
}

// pt_config lives in .rodata: found through the object's BTF, written before load.
void SensorHandle::SetConfig(Napi::Env env, uint32_t self_pid, uint32_t argv_limit,
                             uint32_t hooks) {
    struct bpf_map *rodata = RequireMap(env, object_, ".rodata");
    const struct btf *btf = bpf_object__btf(object_);
    int sec_id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -1;
    if (sec_id < 0) {
        throw MakeBpfError(env, "config: no .rodata in the object's BTF", ENOENT);
    }
    const struct btf_type *sec = btf__type_by_id(btf, sec_id);
    const struct btf_var_secinfo *vars = btf_var_secinfos(sec);
    size_t size = 0;
    const auto *initial = static_cast<const uint8_t *>(bpf_map__initial_value(rodata, &size));

    for (int i = 0; i < btf_vlen(sec); i++) {
        const struct btf_type *var = btf__type_by_id(btf, vars[i].type);
        if (strcmp(btf__name_by_offset(btf, var->name_off), "pt_config") != 0) {
            continue;
        }
        if (!initial || vars[i].size != sizeof(struct pt_config) ||
            vars[i].offset + sizeof(struct pt_config) > size) {
            break;
        }
        struct pt_config config = {};
        config.self_tgid = self_pid;
        config.argv_limit = argv_limit;
        config.hooks = hooks;
        std::vector<uint8_t> data(initial, initial + size);
        memcpy(data.data() + vars[i].offset, &config, sizeof(config));
        int err = bpf_map__set_initial_value(rodata, data.data(), data.size());
        if (err) {
            throw MakeBpfError(env, "config: set .rodata", -err);
        }
        return;
    }
    throw MakeBpfError(env, "config: pt_config not found in .rodata", ENOENT);
}

Napi::Value SensorHandle::Load(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!object_ || loaded_) {
        throw Napi::Error::New(env, "load: the sensor is closed or already loaded");
    }
    ClearLibbpfLog();
    int err = bpf_object__load(object_);
    if (err) {
        std::string log = TakeLibbpfLog();
        std::string program = FailedProgram(log);
        throw MakeBpfError(env, program.empty() ? "load" : "load " + program, -err, log);
    }
    loaded_ = true;
    // libbpf parsed the kernel's BTF (tens of MB) for CO-RE and freed it after load; hand those
    // pages back to the system so the sensor's resident size stays small.
    malloc_trim(0);
    return env.Undefined();
}

void SensorHandle::AttachProgram(Napi::Env env, struct bpf_program *program, int cgroup_fd) {
    const char *name = bpf_program__name(program);
    bool is_cgroup = StartsWith(bpf_program__section_name(program), "cgroup/");
    ClearLibbpfLog();
    struct bpf_link *link =
        is_cgroup ? bpf_program__attach_cgroup(program, cgroup_fd) : bpf_program__attach(program);
    if (!link) {
        int err = errno;
        throw MakeBpfError(env, std::string("attach ") + name, err, TakeLibbpfLog());
    }
    links_.push_back(link);
}

// attach(cgroupRoot): every loaded program; cgroup programs on the given cgroup v2 directory.
Napi::Value SensorHandle::Attach(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        throw Napi::TypeError::New(env, "cgroupRoot must be a string");
    }
    if (!loaded_) {
        throw Napi::Error::New(env, "attach: the sensor is not loaded");
    }
    std::string cgroup_root = info[0].As<Napi::String>();
    int cgroup_fd = -1;
    struct bpf_program *program;

    bpf_object__for_each_program(program, object_) {
        if (!bpf_program__autoload(program)) {
            continue;
        }
        if (StartsWith(bpf_program__section_name(program), "cgroup/") && cgroup_fd < 0) {
            cgroup_fd = open(cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (cgroup_fd < 0) {
                throw MakeBpfError(env, "attach: open cgroup " + cgroup_root, errno);
            }
        }
        try {
            AttachProgram(env, program, cgroup_fd);
        } catch (...) {
            if (cgroup_fd >= 0) {
                close(cgroup_fd);
            }
            throw;
        }
    }
    if (cgroup_fd >= 0) {
        close(cgroup_fd);
    }
    return env.Undefined();
}

// start(onBatch): polls the ring buffer; onBatch(buffer) receives records back to back.
Napi::Value SensorHandle::Start(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
        throw Napi::TypeError::New(env, "onBatch must be a function");
    }
    if (!loaded_ || poller_) {
        throw Napi::Error::New(env, "start: the sensor is not loaded, or already started");
    }
    poller_ = std::make_unique<RingPoller>();
    int err = poller_->Open(bpf_map__fd(RequireMap(env, object_, "events")));
    if (err) {
        poller_.reset();
        throw MakeBpfError(env, "ringbuf", -err, TakeLibbpfLog());
    }
    poller_->Start(env, info[0].As<Napi::Function>());
    return env.Undefined();
}

void SensorHandle::Shutdown() {
    if (poller_) {
        poller_->Stop();
        poller_.reset();
    }
    for (struct bpf_link *link : links_) {
        bpf_link__destroy(link);
    }
    links_.clear();
    if (stats_fd_ >= 0) {
        close(stats_fd_);
        stats_fd_ = -1;
    }
    if (object_) {
        bpf_object__close(object_);
        object_ = nullptr;
    }
    loaded_ = false;
}

Napi::Value SensorHandle::Stop(const Napi::CallbackInfo &info) {
    Shutdown();
    return info.Env().Undefined();
}

// The per-CPU pt_counters values, one after the other; summed in TypeScript.
Napi::Value SensorHandle::ReadCounters(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!loaded_) {
        throw Napi::Error::New(env, "readCounters: the sensor is not loaded");
    }
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) {
        throw MakeBpfError(env, "readCounters: possible CPUs", -cpus);
    }
    std::vector<uint8_t> values(static_cast<size_t>(cpus) * sizeof(struct pt_counters));
    __u32 key = 0;
    int fd = bpf_map__fd(RequireMap(env, object_, "counters"));
    if (bpf_map_lookup_elem(fd, &key, values.data()) != 0) {
        throw MakeBpfError(env, "readCounters", errno);
    }
    return Napi::Buffer<uint8_t>::Copy(env, values.data(), values.size());
}

// setWatchPatterns(buffer): PT_WATCH_MAX pt_watch_pattern slots, then one pt_watch_tops, encoded
// in TypeScript. While the slots change, the tops say "any": an open is then matched against
// the patterns, never dropped by a filter of the old or the new list.
Napi::Value SensorHandle::SetWatchPatterns(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    constexpr size_t kSlot = sizeof(struct pt_watch_pattern);
    constexpr size_t kBytes = PT_WATCH_MAX * kSlot + sizeof(struct pt_watch_tops);
    if (info.Length() < 1 || !info[0].IsBuffer() ||
        info[0].As<Napi::Buffer<uint8_t>>().Length() != kBytes) {
        throw Napi::TypeError::New(env, "patterns must be a Buffer of " + std::to_string(kBytes) +
                                            " bytes");
    }
    if (!loaded_) {
        throw Napi::Error::New(env, "setWatchPatterns: the sensor is not loaded");
    }
    const uint8_t *data = info[0].As<Napi::Buffer<uint8_t>>().Data();
    struct bpf_map *map = RequireMap(env, object_, "watch_patterns");
    struct bpf_map *tops = RequireMap(env, object_, "watch_tops");
    __u32 zero = 0;
    struct pt_watch_tops any = {};
    any.any = 1;
    if (bpf_map__update_elem(tops, &zero, sizeof(zero), &any, sizeof(any), BPF_ANY)) {
        throw MakeBpfError(env, "setWatchPatterns tops", errno);
    }
    for (__u32 slot = 0; slot < PT_WATCH_MAX; slot++) {
        if (bpf_map__update_elem(map, &slot, sizeof(slot), data + slot * kSlot, kSlot, BPF_ANY)) {
            throw MakeBpfError(env, "setWatchPatterns slot " + std::to_string(slot), errno);
        }
    }
    if (bpf_map__update_elem(tops, &zero, sizeof(zero), data + PT_WATCH_MAX * kSlot,
                             sizeof(struct pt_watch_tops), BPF_ANY)) {
        throw MakeBpfError(env, "setWatchPatterns tops", errno);
    }
    return env.Undefined();
}

// updatePolicyMap(name, keys, values): entries of one of policy.h's maps, keys and values back
// to back in two Buffers, encoded in TypeScript (src/policy.ts). Only the policy maps: the
// sensor's own state is not for callers to write.
Napi::Value SensorHandle::UpdatePolicyMap(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    static const std::set<std::string> kPolicyMaps = {"policy_set", "policies", "policy_binaries",
                                                      "policy_scope", "policy_cidrs"};
    if (info.Length() < 1 || !info[0].IsString() ||
        kPolicyMaps.count(info[0].As<Napi::String>().Utf8Value()) == 0) {
        throw Napi::TypeError::New(env, "name must name a policy map");
    }
    if (info.Length() < 3 || !info[1].IsBuffer() || !info[2].IsBuffer()) {
        throw Napi::TypeError::New(env, "keys and values must be Buffers");
    }
    if (!loaded_) {
        throw Napi::Error::New(env, "updatePolicyMap: the sensor is not loaded");
    }
    std::string name = info[0].As<Napi::String>();
    struct bpf_map *map = RequireMap(env, object_, name.c_str());
    size_t key_size = bpf_map__key_size(map);
    size_t value_size = bpf_map__value_size(map);
    auto keys = info[1].As<Napi::Buffer<uint8_t>>();
    auto values = info[2].As<Napi::Buffer<uint8_t>>();
    size_t count = keys.Length() / key_size;
    if (keys.Length() % key_size != 0 || values.Length() != count * value_size) {
        throw Napi::TypeError::New(env, "keys and values of " + name + " must hold whole " +
                                            std::to_string(key_size) + "- and " +
                                            std::to_string(value_size) + "-byte entries, as many");
    }
    for (size_t i = 0; i < count; i++) {
        if (bpf_map__update_elem(map, keys.Data() + i * key_size, key_size,
                                 values.Data() + i * value_size, value_size, BPF_ANY)) {
            throw MakeBpfError(env, "updatePolicyMap " + name + " entry " + std::to_string(i),
                               errno);
        }
    }
    return env.Undefined();
}

Napi::Value SensorHandle::ProgramNames(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    Napi::Array names = Napi::Array::New(env);
    struct bpf_program *program;
    uint32_t i = 0;

    if (!object_) {
        return names;
    }
    bpf_object__for_each_program(program, object_) {
        names.Set(i++, Napi::String::New(env, bpf_program__name(program)));
    }
    return names;
}

Napi::Value SensorHandle::PollError(const Napi::CallbackInfo &info) {
    return Napi::Number::New(info.Env(), poller_ ? poller_->PollError() : 0);
}

// enableRunTimeStats(): the kernel times every BPF program run (two clock reads each) for as
// long as this handle lives, as `sysctl kernel.bpf_stats_enabled=1` would, without leaving the
// setting behind if the process dies.
Napi::Value SensorHandle::EnableRunTimeStats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (stats_fd_ >= 0) {
        return env.Undefined();
    }
    int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd < 0) {
        throw MakeBpfError(env, "enableRunTimeStats", errno);
    }
    stats_fd_ = fd;
    return env.Undefined();
}

// programStats(): [{ name, runTimeNs, runCount }] of every loaded program, since its load.
// The times only grow while run-time stats are enabled (here or by the sysctl).
Napi::Value SensorHandle::ProgramStats(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!loaded_) {
        throw Napi::Error::New(env, "programStats: the sensor is not loaded");
    }
    Napi::Array stats = Napi::Array::New(env);
    struct bpf_program *program;
    uint32_t i = 0;

    bpf_object__for_each_program(program, object_) {
        int fd = bpf_program__fd(program);
        if (fd < 0) {
            continue;
        }
        struct bpf_prog_info prog_info = {};
        __u32 len = sizeof(prog_info);
        if (bpf_obj_get_info_by_fd(fd, &prog_info, &len) != 0) {
            throw MakeBpfError(env, std::string("programStats ") + bpf_program__name(program),
                               errno);
        }
        Napi::Object entry = Napi::Object::New(env);
        entry.Set("name", bpf_program__name(program));
        entry.Set("runTimeNs", Napi::Number::New(env, static_cast<double>(prog_info.run_time_ns)));
        entry.Set("runCount", Napi::Number::New(env, static_cast<double>(prog_info.run_cnt)));
        stats.Set(i++, entry);
    }
    return stats;
}

} // namespace proctrail
