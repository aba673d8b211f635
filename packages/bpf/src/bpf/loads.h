/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Library loads: opens of shared objects and of the archives language runtimes load code from,
 * for the software inventory.
 *
 * Why the open, not the mmap: kprobes, fentry and LSM hooks do not load on this kernel, and the
 * dynamic loader, dlopen() and the JVM all open the file before they map or read it. The open's
 * exit already walks the opened file's path (file.h); a library is told apart by the end of that
 * path, so the cost over the file hooks is a look at its last bytes. Records are pt_open with
 * PT_FLAG_LIBRARY; deduplication per process is left to user space, which sees every record.
 */
#ifndef PROCTRAIL_LOADS_H
#define PROCTRAIL_LOADS_H

#include "common.h"

/* Characters of a shared object's version after ".so" (".so.1.2.3"), at most. */
#define PT_SO_VERSION_MAX 12

static __always_inline bool ends_with4(const char *tail, char a, char b, char c, char d) {
    return tail[0] == a && tail[1] == b && tail[2] == c && tail[3] == d;
}

/*
 * A library: a name ending ".so", ".so.<digits and dots>", ".jar", ".war", ".ear" or ".node".
 * The path is in path_scratch between `start` and `end`.
 */
static __always_inline bool is_library_path(__u32 start, __u32 end) {
    __u32 zero = 0;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);
    char tail[5];
    __u32 i = end;

    if (!buf || end < start + 5 || end > PT_PATH_MAX)
        return false;
    for (int k = 0; k < 5; k++)
        tail[k] = buf->bytes[(end - 5 + k) & PT_PATH_SCRATCH_MASK];
    if (ends_with4(&tail[1], '.', 'j', 'a', 'r') || ends_with4(&tail[1], '.', 'w', 'a', 'r') ||
        ends_with4(&tail[1], '.', 'e', 'a', 'r'))
        return true;
    if (tail[0] == '.' && ends_with4(&tail[1], 'n', 'o', 'd', 'e'))
        return true;

    /* Skip a version (".6", ".1.2.3") back to what should be ".so". */
    for (int k = 0; k < PT_SO_VERSION_MAX; k++) {
        char c = buf->bytes[(i - 1) & PT_PATH_SCRATCH_MASK];

        if (!((c >= '0' && c <= '9') || c == '.'))
            break;
        i--;
    }
    if (i < start + 4)
        return false;
    if (i != end && buf->bytes[i & PT_PATH_SCRATCH_MASK] != '.')
        return false;
    return buf->bytes[(i - 3) & PT_PATH_SCRATCH_MASK] == '.' &&
           buf->bytes[(i - 2) & PT_PATH_SCRATCH_MASK] == 's' &&
           buf->bytes[(i - 1) & PT_PATH_SCRATCH_MASK] == 'o';
}

#endif
