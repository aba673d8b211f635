#include "ring_poller.h"

#include <bpf/libbpf.h>

#include <cerrno>

namespace proctrail {
namespace {

// A batch is sent once it holds this much, or when a poll round ends: about 5,000 small file
// records, large enough to amortise the thread hop, small enough to keep latency low.
constexpr size_t kBatchBytes = 256 * 1024;

// Batches waiting for the JavaScript thread. When they pile up the poll thread blocks, the
// ring buffer fills and the kernel counts drops: memory stays bounded.
constexpr size_t kMaxQueuedBatches = 16;

// How long a poll waits for a wakeup. The programs wake this thread only once 256 KiB are
// waiting (PT_WAKEUP_BYTES in common.h), so a timeout is when trickling records are read:
// the longest a record waits, and the longest a Stop() waits for the thread.
constexpr int kPollTimeoutMs = 10;

} // namespace

RingPoller::~RingPoller() {
    Stop();
    if (ring_) {
        ring_buffer__free(ring_);
    }
}

int RingPoller::Open(int map_fd) {
    ring_ = ring_buffer__new(map_fd, OnSample, this, nullptr);
    if (!ring_) {
        return -errno;
    }
    return 0;
}

void RingPoller::Start(Napi::Env env, Napi::Function on_batch) {
    tsfn_ = Tsfn::New(env, on_batch, "proctrail-ring-buffer", kMaxQueuedBatches, 1);
    started_ = true;
    thread_ = std::thread([this] { Run(); });
}

void RingPoller::Stop() {
    if (!started_) {
        return;
    }
    started_ = false;
    stopping_.store(true);
    // Abort before join: a thread blocked on a full queue would otherwise never return, and
    // when Stop() runs inside on_batch, the JavaScript thread that drains the queue is us.
    tsfn_.Abort();
    if (thread_.joinable()) {
        thread_.join();
    }
    delete batch_;
    batch_ = nullptr;
}

void RingPoller::CallJs(Napi::Env env, Napi::Function on_batch, std::nullptr_t *, Batch *batch) {
    // env is null when the function is torn down with batches still queued: free them.
    if (env == nullptr || on_batch.IsEmpty()) {
        delete batch;
        return;
    }
    Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(
        env, batch->data(), batch->size(), [](Napi::Env, uint8_t *, Batch *owned) { delete owned; },
        batch);
    // A throwing callback becomes an uncaught exception of the process (node-addon-api
    // rethrows it into JavaScript); the TypeScript side catches its listeners' errors itself.
    on_batch.Call({buffer});
}

int RingPoller::OnSample(void *context, void *data, size_t size) {
    auto *self = static_cast<RingPoller *>(context);
    if (self->stopping_.load()) {
        return -ECANCELED;
    }
    if (!self->batch_) {
        self->batch_ = new Batch();
        self->batch_->reserve(kBatchBytes + 4096);
    }
    const auto *bytes = static_cast<const uint8_t *>(data);
    self->batch_->insert(self->batch_->end(), bytes, bytes + size);
    if (self->batch_->size() >= kBatchBytes && !self->Flush()) {
        return -ECANCELED;
    }
    return 0;
}

// Hands the current batch to JavaScript; false once the function is closing (stopped).
bool RingPoller::Flush() {
    if (!batch_ || batch_->empty()) {
        return true;
    }
    Batch *batch = batch_;
    batch_ = nullptr;
    if (tsfn_.BlockingCall(batch) != napi_ok) {
        delete batch;
        return false;
    }
    return true;
}

void RingPoller::Run() {
    while (!stopping_.load()) {
        int n = ring_buffer__poll(ring_, kPollTimeoutMs);
        if (n == 0) {
            // Timed out without a wakeup: read what arrived below the wakeup threshold.
            n = ring_buffer__consume(ring_);
        }
        if (n == -EINTR) {
            continue;
        }
        if (n < 0) {
            if (n != -ECANCELED) {
                poll_error_.store(-n);
            }
            break;
        }
        if (!Flush()) {
            break;
        }
    }
}

} // namespace proctrail
