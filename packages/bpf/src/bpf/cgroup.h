/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The task's cgroup path, for container ids later: kernfs names walked up to the hierarchy root
 * into path_scratch, the same backwards layout as path.h.
 */
#ifndef PROCTRAIL_CGROUP_H
#define PROCTRAIL_CGROUP_H

#include "path.h"

#define PT_CGROUP_DEPTH_MAX 64

struct kernfs_walk {
    struct kernfs_node *node;
    __u32 pos;
    bool truncated;
    bool failed;
};

/* kernfs_node->parent became __parent (RCU-protected) in 6.15; read whichever exists. */
struct kernfs_node___old {
    struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *node) {
    if (bpf_core_field_exists(node->__parent))
        return BPF_CORE_READ(node, __parent);
    return BPF_CORE_READ((struct kernfs_node___old *)node, parent);
}

static long kernfs_walk_step(__u32 index, struct kernfs_walk *w) {
    __u32 zero = 0;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);
    struct kernfs_node *node = w->node;
    struct kernfs_node *parent = kernfs_parent(node);
    const char *name = BPF_CORE_READ(node, name);
    char part[128];
    long len;

    if (!buf) {
        w->failed = true;
        return 1;
    }
    /* The hierarchy's root has no parent and its name is not part of the path. */
    if (!parent)
        return 1;

    /* Components are short, the longest usual ones being a runtime's scope (85 bytes:
     * "cri-containerd-" + 64 hex + ".scope") and kubelet's pod slice (64 bytes with a
     * burstable QoS prefix); longer ones are cut at sizeof(part) and the path is flagged
     * truncated. */
    len = bpf_probe_read_kernel_str(part, sizeof(part), name);
    if (len <= 0) {
        w->failed = true;
        return 1;
    }
    if (len == sizeof(part))
        w->truncated = true;
    if (!prepend_name(buf, &w->pos, (const unsigned char *)part, len - 1)) {
        w->truncated = true;
        return 1;
    }
    w->node = parent;
    return 0;
}

/*
 * The default (v2) hierarchy's cgroup; on a hybrid host where that is the root, the memory
 * controller's v1 cgroup, where container runtimes put their containers.
 */
static __always_inline struct kernfs_node *task_cgroup_node(struct task_struct *task) {
    struct css_set *cgroups = BPF_CORE_READ(task, cgroups);
    struct kernfs_node *node = BPF_CORE_READ(cgroups, dfl_cgrp, kn);
    int memory_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

    if (node && kernfs_parent(node))
        return node;
    if (memory_id < 0 || memory_id >= 12)
        return node;

    struct cgroup_subsys_state *css = NULL;
    if (bpf_core_read(&css, sizeof(css), &cgroups->subsys[memory_id]) || !css)
        return node;
    struct kernfs_node *v1 = BPF_CORE_READ(css, cgroup, kn);
    return v1 ? v1 : node;
}

/* Returns the start offset of the path in path_scratch, or a negative value on failure. */
static __always_inline long walk_cgroup(struct task_struct *task, bool *truncated) {
    struct kernfs_walk w = {.node = task_cgroup_node(task), .pos = PT_PATH_MAX};
    long loops;

    if (!w.node)
        return -1;
    loops = bpf_loop(PT_CGROUP_DEPTH_MAX, kernfs_walk_step, &w, 0);
    if (loops < 0 || w.failed)
        return -1;
    *truncated = w.truncated || loops == PT_CGROUP_DEPTH_MAX;

    return path_start_or_root(w.pos);
}

#endif
