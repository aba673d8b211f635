/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maps shared by every hook family. Each .bpf.c includes this header; the definitions are
 * weak so that `bpftool gen object` merges them into one map when it links the objects.
 */
#ifndef PROCTRAIL_MAPS_H
#define PROCTRAIL_MAPS_H

#include "records.h"

/* Size is set from user space before load (ringBufferBytes); this is only the default. */
struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4 << 20);
} events SEC(".maps") __weak;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct pt_counters);
} counters SEC(".maps") __weak;

/* Variable-length records (exec, open) are built here and copied out with
 * bpf_ringbuf_output, so the ring buffer only holds the bytes actually used. The buffer is
 * twice the largest record so that masked offsets plus bounded lengths stay inside it.
 * Per-CPU arrays cap values at 32 KiB, so this is a plain array with one slot per possible CPU
 * (user space sets max_entries before load), indexed by the current CPU. */
#define PT_RECORD_MAX 40960
#define PT_SCRATCH_SIZE 65536
#define PT_SCRATCH_MASK 0x7fff
struct pt_scratch {
    __u8 bytes[PT_SCRATCH_SIZE];
};
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct pt_scratch);
} record_scratch SEC(".maps") __weak;

/* Where a path is assembled backwards, one component at a time (see path.h): the walked path
 * ends at PT_PATH_MAX; a path read from user memory starts there. A third page keeps masked
 * offsets plus bounded lengths inside the buffer. */
#define PT_USER_PATH_START PT_PATH_MAX
#define PT_PATH_SCRATCH_MASK (PT_PATH_MAX * 2 - 1)
struct pt_path_scratch {
    char bytes[PT_PATH_MAX * 3];
};
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct pt_path_scratch);
} path_scratch SEC(".maps") __weak;

extern const volatile struct pt_config pt_config;

#endif
