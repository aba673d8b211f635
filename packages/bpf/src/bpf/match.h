/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Watched paths, matched in the kernel so that unwatched opens cost no ring buffer space.
 * A pattern's trailing '/' makes it a prefix; a '*' matches exactly one non-empty component.
 * The path is in path_scratch between `start` and `end`.
 *
 * Each pattern is a bpf_loop over characters (one step advances the path or the pattern), so
 * the verifier checks one step instead of every character of a 4 KiB path.
 */
#ifndef PROCTRAIL_MATCH_H
#define PROCTRAIL_MATCH_H

#include "common.h"
#include "path.h"

/* pt_watch_pattern.reserved bits, set by user space (src/watch.ts). */
#define PT_WATCH_PREFIX 1
#define PT_WATCH_WILDCARD 2

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, PT_WATCH_MAX);
    __type(key, __u32);
    __type(value, struct pt_watch_pattern);
} watch_patterns SEC(".maps");

struct match_state {
    __u32 pattern;
    __u32 i;   /* position in the path (absolute in path_scratch) */
    __u32 end; /* end of the path */
    __u32 j;   /* position in the pattern */
    __u32 plen;
    bool in_star;
    int result; /* 0 undecided, 1 match, -1 no match */
};

static __always_inline long match_done(struct match_state *m, int result) {
    m->result = result;
    return 1;
}

static long match_step(__u32 index, struct match_state *m) {
    __u32 zero = 0;
    __u32 key = m->pattern;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);
    struct pt_watch_pattern *p = bpf_map_lookup_elem(&watch_patterns, &key);
    char pc, c;

    if (!buf || !p)
        return match_done(m, -1);
    if (m->j >= m->plen) {
        bool prefix = p->reserved & PT_WATCH_PREFIX;

        return match_done(m, (m->i == m->end || prefix) ? 1 : -1);
    }
    pc = p->text[m->j & (PT_WATCH_TEXT_MAX - 1)];

    if (m->i >= m->end) {
        /* A trailing '*' is satisfied by the component just consumed. */
        if (pc == '*' && m->in_star) {
            m->in_star = false;
            m->j++;
            return 0;
        }
        return match_done(m, -1);
    }
    c = buf->bytes[m->i & PT_PATH_SCRATCH_MASK];

    if (pc == '*') {
        if (c == '/') {
            if (!m->in_star)
                return match_done(m, -1);
            m->in_star = false;
            m->j++;
            return 0;
        }
        m->in_star = true;
        m->i++;
        return 0;
    }
    if (pc != c)
        return match_done(m, -1);
    m->i++;
    m->j++;
    return 0;
}

struct match_all {
    __u32 start;
    __u32 end;
    bool matched;
};

static long match_pattern(__u32 index, struct match_all *all) {
    __u32 key = index;
    struct pt_watch_pattern *p = bpf_map_lookup_elem(&watch_patterns, &key);
    struct match_state m = {.pattern = index, .i = all->start, .end = all->end};

    if (!p || p->len == 0 || p->len > PT_WATCH_TEXT_MAX)
        return 0;
    /* An exact pattern can only match a path of its own length: most opens stop here. */
    if (!(p->reserved & (PT_WATCH_PREFIX | PT_WATCH_WILDCARD)) && p->len != all->end - all->start)
        return 0;

    m.plen = p->len;
    bpf_loop(PT_PATH_MAX + PT_WATCH_TEXT_MAX + 1, match_step, &m, 0);
    if (m.result == 1) {
        all->matched = true;
        return 1;
    }
    return 0;
}

/*
 * The quick test before the matcher: a path can match a pattern only if it starts with the
 * pattern's literal text before its first '*'. Only the first 8 bytes of each are compared, as
 * one masked word, so most paths ("/usr/include/...", "/lib/x86_64...") leave after 32 array
 * reads instead of a character loop per pattern. Never says no to a path the matcher would
 * accept; bytes past the end of a short path may let a few through, which the matcher rejects.
 */
#define PT_LEAD_BYTES 8

struct lead_check {
    __u64 lead; /* the path's first 8 bytes */
    bool possible;
};

static long lead_step(__u32 index, struct lead_check *c) {
    __u32 key = index;
    struct pt_watch_pattern *p = bpf_map_lookup_elem(&watch_patterns, &key);
    __u64 text = 0, mask = 0;

    if (!p || p->len == 0)
        return 0;
    __builtin_memcpy(&text, p->text, PT_LEAD_BYTES);
    for (int k = 0; k < PT_LEAD_BYTES; k++) {
        if (k >= p->len || p->text[k] == '*')
            break;
        mask |= 0xffULL << (k * 8);
    }
    if ((c->lead & mask) == (text & mask)) {
        c->possible = true;
        return 1;
    }
    return 0;
}

static __always_inline bool lead_may_match(__u64 lead) {
    struct lead_check c = {.lead = lead};

    if (bpf_loop(PT_WATCH_MAX, lead_step, &c, 0) < 0)
        return true;
    return c.possible;
}

/* The patterns' first components (records.h), written by user space with watch_patterns. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct pt_watch_tops);
} watch_tops SEC(".maps");

#define PT_FNV_OFFSET 2166136261u
#define PT_FNV_PRIME 16777619u

/* Whether a path whose first component is `top` (its first bytes, `len` its whole length) may
 * match a pattern; keep the hash in sync with src/watch.ts. */
static __always_inline bool top_may_match(const char top[PT_WATCH_TOP_BYTES], __u32 len) {
    __u32 zero = 0;
    struct pt_watch_tops *tops = bpf_map_lookup_elem(&watch_tops, &zero);
    __u32 hash = PT_FNV_OFFSET;
    __u32 bit;

    if (!tops)
        return true;
    if (tops->any)
        return true;
    hash = (hash ^ (len > PT_WATCH_TOP_BYTES ? PT_WATCH_TOP_BYTES + 1 : len)) * PT_FNV_PRIME;
    for (int k = 0; k < PT_WATCH_TOP_BYTES; k++) {
        if (k >= len)
            break;
        hash = (hash ^ (__u8)top[k]) * PT_FNV_PRIME;
    }
    /* murmur3's finalizer: FNV alone left "usr" and "home" on one bit. */
    hash ^= hash >> 16;
    hash *= 0x85ebca6bu;
    hash ^= hash >> 13;
    hash *= 0xc2b2ae35u;
    hash ^= hash >> 16;
    bit = hash & 0xff;
    if (!(tops->bloom[(bit >> 6) & 3] & (1ULL << (bit & 63))))
        return false;
    bit = (hash >> 8) & 0xff;
    return tops->bloom[(bit >> 6) & 3] & (1ULL << (bit & 63));
}

/* The same for an opened file, whose first component is found by walking its dentries. */
static __always_inline bool file_top_may_match(struct file *file) {
    char top[PT_WATCH_TOP_BYTES] = {};
    const unsigned char *name = NULL;
    __u32 len = 0;

    if (!top_component(file, &name, &len))
        return true;
    if (len && bpf_probe_read_kernel(top, sizeof(top), name))
        return true;
    return top_may_match(top, len);
}

/*
 * The same for a name as given to open (a failed open has no file), read from user memory:
 * false for a relative name, which a failed open is never matched by. `lead`: the name's first
 * 8 bytes, for lead_may_match.
 */
static __always_inline bool requested_top_may_match(__u64 filename, __u64 *lead) {
    char head[PT_WATCH_TOP_BYTES + 8] = {};
    __u32 len = 0;

    if (bpf_probe_read_user_str(head, sizeof(head), (void *)filename) <= 0)
        return false;
    if (head[0] != '/')
        return false;
    for (int k = 1; k <= PT_WATCH_TOP_BYTES + 1; k++) {
        if (head[k] == '/' || head[k] == 0)
            break;
        len++;
    }
    __builtin_memcpy(lead, head, sizeof(*lead));
    return top_may_match(&head[1], len);
}

static __always_inline bool path_is_watched(__u32 start, __u32 end) {
    struct match_all all = {.start = start, .end = end};
    __u32 zero = 0;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);
    __u64 lead = 0;

    if (!buf)
        return false;
    __builtin_memcpy(&lead, &buf->bytes[start & PT_PATH_SCRATCH_MASK], PT_LEAD_BYTES);
    if (!lead_may_match(lead))
        return false;

    if (bpf_loop(PT_WATCH_MAX, match_pattern, &all, 0) < 0)
        return false;
    return all.matched;
}

#endif
