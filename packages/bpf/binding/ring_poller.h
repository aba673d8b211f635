// Polls the BPF ring buffer on a native thread and hands batches of records to JavaScript.
//
// A batch is one Buffer holding several records back to back, exactly as the kernel wrote
// them: one JavaScript call per batch, not per record. Decoding is left to TypeScript.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

struct ring_buffer;

namespace proctrail {

class RingPoller {
  public:
    using Batch = std::vector<uint8_t>;

    RingPoller() = default;
    RingPoller(const RingPoller &) = delete;
    RingPoller &operator=(const RingPoller &) = delete;
    ~RingPoller();

    // Opens the ring buffer of map `map_fd`; returns 0 or a negative errno.
    int Open(int map_fd);

    // Starts the poll thread; `on_batch(buffer)` runs on the JavaScript thread.
    void Start(Napi::Env env, Napi::Function on_batch);

    // Stops and joins the thread. Safe from inside `on_batch` and when never started.
    void Stop();

    // The errno that ended polling early, or 0.
    int PollError() const {
        return poll_error_.load();
    }

  private:
    static void CallJs(Napi::Env env, Napi::Function on_batch, std::nullptr_t *context,
                       Batch *batch);
    using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Batch, CallJs>;

    static int OnSample(void *context, void *data, size_t size);
    void Run();
    bool Flush();

    ring_buffer *ring_ = nullptr;
    Tsfn tsfn_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> poll_error_{0};
    bool started_ = false;
    Batch *batch_ = nullptr;
};

} // namespace proctrail
