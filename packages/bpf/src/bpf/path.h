/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Full paths walked in the kernel: bpf_d_path is refused on this kernel, so the dentry chain is
 * walked by hand, crossing mount points, up to the task's root (as d_path does).
 *
 * Why bpf_loop: a bounded loop over path components, unrolled or not, blew the verifier's
 * instruction budget; a bpf_loop callback is verified once. Components are prepended backwards
 * into a per-CPU scratch buffer: the path ends at PT_PATH_MAX and starts at `pos`.
 */
#ifndef PROCTRAIL_PATH_H
#define PROCTRAIL_PATH_H

#include "common.h"

#define PT_PATH_DEPTH_MAX 512
#define PT_NAME_MAX 255

struct path_walk {
    struct dentry *dentry;
    struct vfsmount *vfsmnt;
    struct dentry *root_dentry;
    struct vfsmount *root_mnt;
    __u32 pos;
    bool truncated;
    bool failed;
};

static __always_inline struct mount *real_mount_of(struct vfsmount *vfsmnt) {
    return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/* Prepends "/<name>" to the path being built; false when it does not fit (truncation). */
static __always_inline bool prepend_name(struct pt_path_scratch *buf, __u32 *pos,
                                         const unsigned char *name, __u32 len) {
    if (len > PT_NAME_MAX)
        len = PT_NAME_MAX;
    if (*pos < len + 2)
        return false;

    *pos -= len;
    if (bpf_probe_read_kernel(&buf->bytes[*pos & (PT_PATH_MAX - 1)], len & PT_NAME_MAX, name))
        return false;
    *pos -= 1;
    buf->bytes[*pos & (PT_PATH_MAX - 1)] = '/';
    return true;
}

static long path_walk_step(__u32 index, struct path_walk *w) {
    __u32 zero = 0;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);
    /* Locals, not w->...: BPF_CORE_READ would relocate the access to our own struct too. */
    struct dentry *dentry = w->dentry;
    struct vfsmount *vfsmnt = w->vfsmnt;
    struct dentry *parent;
    struct qstr name;

    if (!buf) {
        w->failed = true;
        return 1;
    }
    if (dentry == w->root_dentry && vfsmnt == w->root_mnt)
        return 1;

    if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
        struct mount *mnt = real_mount_of(vfsmnt);
        struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

        /* The root of the mount tree (or a detached mount): nothing above it. */
        if (!up || up == mnt)
            return 1;
        w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
        w->vfsmnt = (struct vfsmount *)((void *)up + bpf_core_field_offset(struct mount, mnt));
        return 0;
    }

    parent = BPF_CORE_READ(dentry, d_parent);
    if (!parent || parent == dentry)
        return 1;
    if (bpf_core_read(&name, sizeof(name), &dentry->d_name)) {
        w->failed = true;
        return 1;
    }
    if (!prepend_name(buf, &w->pos, name.name, name.len)) {
        w->truncated = true;
        return 1;
    }
    w->dentry = parent;
    return 0;
}

/*
 * Where a walk's path starts in path_scratch. A walk that added no name was at the root:
 * its path is "/", written here so that both path walks and cgroup walks end the same way.
 */
static __always_inline long path_start_or_root(__u32 pos) {
    __u32 zero = 0;
    struct pt_path_scratch *buf;

    if (pos != PT_PATH_MAX)
        return pos;
    buf = bpf_map_lookup_elem(&path_scratch, &zero);
    if (!buf)
        return -1;
    buf->bytes[PT_PATH_MAX - 1] = '/';
    return PT_PATH_MAX - 1;
}

/*
 * Walks `path` up to `root` into path_scratch. Returns the offset where the path starts (it ends
 * at PT_PATH_MAX), or a negative value when the walk failed.
 */
static __always_inline long walk_path(struct path *path, struct path *root, bool *truncated) {
    struct path_walk w = {
        .dentry = BPF_CORE_READ(path, dentry),
        .vfsmnt = BPF_CORE_READ(path, mnt),
        .root_dentry = BPF_CORE_READ(root, dentry),
        .root_mnt = BPF_CORE_READ(root, mnt),
        .pos = PT_PATH_MAX,
    };
    long loops = bpf_loop(PT_PATH_DEPTH_MAX, path_walk_step, &w, 0);

    if (loops < 0 || w.failed || !w.dentry || !w.vfsmnt)
        return -1;
    if (loops == PT_PATH_DEPTH_MAX)
        w.truncated = true;
    *truncated = w.truncated;

    return path_start_or_root(w.pos);
}

/*
 * The first component of a file's path, found without building the path: a walk of the same
 * dentry and mount chain as walk_path, by plain guarded loads through BTF-typed pointers (no
 * helper call, no name copied per step), so that an open can be dropped in a few tens of ns.
 * bpf_rdonly_cast gives a BTF type back to a pointer kept as a number (the verifier inlines it
 * as a move).
 */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;

#define PT_TOP_WALK_MAX 64

struct top_walk {
    __u64 dentry;
    __u64 vfsmnt;
    __u64 root_dentry;
    __u64 root_mnt;
    __u64 top; /* the last named dentry passed: the path's first component so far */
    bool done;
};

static long top_walk_step(__u32 index, struct top_walk *w) {
    struct dentry *dentry =
        bpf_rdonly_cast((void *)w->dentry, bpf_core_type_id_kernel(struct dentry));
    struct vfsmount *vfsmnt =
        bpf_rdonly_cast((void *)w->vfsmnt, bpf_core_type_id_kernel(struct vfsmount));
    struct dentry *parent;

    if (w->dentry == w->root_dentry && w->vfsmnt == w->root_mnt) {
        w->done = true;
        return 1;
    }
    if (dentry == vfsmnt->mnt_root) {
        struct mount *mnt =
            bpf_rdonly_cast((void *)(w->vfsmnt - bpf_core_field_offset(struct mount, mnt)),
                            bpf_core_type_id_kernel(struct mount));
        struct mount *up = mnt->mnt_parent;

        if (!up || up == mnt) {
            w->done = true;
            return 1;
        }
        w->dentry = (__u64)mnt->mnt_mountpoint;
        w->vfsmnt = (__u64)up + bpf_core_field_offset(struct mount, mnt);
        return 0;
    }
    parent = dentry->d_parent;
    if (!parent || parent == dentry) {
        w->done = true;
        return 1;
    }
    w->top = w->dentry;
    w->dentry = (__u64)parent;
    return 0;
}

/*
 * The first component of the path walk_path would build for `file` (relative to the task's
 * root, across mounts): *name and *len; *len is 0 for the root itself. False when it could not
 * be told (a chain deeper than PT_TOP_WALK_MAX): the caller must then assume any path.
 */
static __always_inline bool top_component(struct file *file, const unsigned char **name,
                                          __u32 *len) {
    struct task_struct *task = bpf_get_current_task_btf();
    struct file *typed = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
    struct top_walk w = {
        .dentry = (__u64)typed->f_path.dentry,
        .vfsmnt = (__u64)typed->f_path.mnt,
        .root_dentry = (__u64)task->fs->root.dentry,
        .root_mnt = (__u64)task->fs->root.mnt,
    };
    struct dentry *top;

    if (bpf_loop(PT_TOP_WALK_MAX, top_walk_step, &w, 0) < 0 || !w.done)
        return false;
    *len = 0;
    if (!w.top)
        return true;
    top = bpf_rdonly_cast((void *)w.top, bpf_core_type_id_kernel(struct dentry));
    *name = top->d_name.name;
    *len = top->d_name.len;
    return true;
}

/*
 * The last component of a file's path: its dentry's name, unless the file is the root of a
 * mount (a bind-mounted file), whose path ends with the name of its mount point instead. False
 * when it is such a root.
 */
static __always_inline bool last_component(struct file *file, const unsigned char **name,
                                           __u32 *len) {
    struct file *typed = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
    struct dentry *dentry = typed->f_path.dentry;

    if (dentry == typed->f_path.mnt->mnt_root)
        return false;
    *name = dentry->d_name.name;
    *len = dentry->d_name.len;
    return true;
}

/*
 * Copies `len` bytes of path_scratch from `start` into `dst` at `offset`. Returns the number of
 * bytes copied, or 0 on failure.
 */
static __always_inline __u32 copy_scratch_path(void *dst, __u32 offset, __u32 start, __u32 len) {
    __u32 zero = 0;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);

    if (!buf || len == 0 || len >= PT_PATH_MAX)
        return 0;
    /* The compiler drops a mask it can prove useless; the verifier still needs to see it. */
    barrier_var(len);
    if (bpf_probe_read_kernel(dst + (offset & PT_SCRATCH_MASK), len & (PT_PATH_MAX - 1),
                              &buf->bytes[start & PT_PATH_SCRATCH_MASK]))
        return 0;
    return len;
}

/* Copies a walked path (it ends at PT_PATH_MAX) into `dst` at `offset`. */
static __always_inline __u32 copy_walked_path(void *dst, __u32 offset, long start) {
    if (start <= 0 || start >= PT_PATH_MAX)
        return 0;
    return copy_scratch_path(dst, offset, start, PT_PATH_MAX - (__u32)start);
}

#endif
