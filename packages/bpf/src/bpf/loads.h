/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Library loads: opens of shared objects and of the archives language runtimes load code from,
 * for the software inventory.
 *
 * Why the open, not the mmap: kprobes, fentry and LSM hooks do not load on this kernel, and the
 * dynamic loader, dlopen() and the JVM all open the file before they map or read it. A library
 * is told apart by the end of its name: the open's exit looks at the last bytes of the opened
 * dentry's name first, and walks the path only for a name that may be a library's. Records
 * are pt_open with PT_FLAG_LIBRARY; deduplication per process is left to user space, which sees
 * every record.
 */
#ifndef PROCTRAIL_LOADS_H
#define PROCTRAIL_LOADS_H

#include "common.h"
#include "path.h"

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

/*
 * The quick test before the path walk: may this file's path be a library's, by the last bytes of
 * its name? Never says no to a name that is_library_path would accept on the whole path; says
 * yes when unsure (a bind-mounted file, whose path ends with its mount point's name).
 */
#define PT_NAME_TAIL 16

static __always_inline bool name_may_be_library(struct file *file) {
    const unsigned char *name = NULL;
    char tail[PT_NAME_TAIL] = {};
    __u32 len = 0, n, i;

    if (!last_component(file, &name, &len))
        return true;
    n = len < PT_NAME_TAIL ? len : PT_NAME_TAIL;
    if (n < 3)
        return false;
    barrier_var(n);
    if (n > PT_NAME_TAIL)
        return true;
    if (bpf_probe_read_kernel(tail, n, name + len - n))
        return true;

    /* tail holds the name's last n bytes, from tail[0]. */
    i = n;
    if (n >= 4 && tail[(n - 4) & (PT_NAME_TAIL - 1)] == '.') {
        char a = tail[(n - 3) & (PT_NAME_TAIL - 1)], b = tail[(n - 2) & (PT_NAME_TAIL - 1)],
             c = tail[(n - 1) & (PT_NAME_TAIL - 1)];

        if ((a == 'j' || a == 'w' || a == 'e') && b == 'a' && c == 'r')
            return true;
    }
    if (n >= 5 && tail[(n - 5) & (PT_NAME_TAIL - 1)] == '.' &&
        tail[(n - 4) & (PT_NAME_TAIL - 1)] == 'n' && tail[(n - 3) & (PT_NAME_TAIL - 1)] == 'o' &&
        tail[(n - 2) & (PT_NAME_TAIL - 1)] == 'd' && tail[(n - 1) & (PT_NAME_TAIL - 1)] == 'e')
        return true;

    /* As is_library_path: skip a version (".6", ".1.2.3") back to what should be ".so". */
    for (int k = 0; k < PT_SO_VERSION_MAX; k++) {
        char c;

        if (i == 0)
            break;
        c = tail[(i - 1) & (PT_NAME_TAIL - 1)];
        if (!((c >= '0' && c <= '9') || c == '.'))
            break;
        i--;
    }
    if (i < 3)
        return n == PT_NAME_TAIL; /* the tail ran out: the name is longer, be safe */
    return tail[(i - 3) & (PT_NAME_TAIL - 1)] == '.' && tail[(i - 2) & (PT_NAME_TAIL - 1)] == 's' &&
           tail[(i - 1) & (PT_NAME_TAIL - 1)] == 'o';
}

#endif
