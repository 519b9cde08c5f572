// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq_trace.bpf.c: conntrack events as the agents that left ctnetlink
 * read them, from the functions that deliver them.
 *
 *   nf_ct_deliver_cached_events()  NEW and UPDATE: the events cached on
 *                                  the entry, read before the function
 *                                  clears them (the hook agents use)
 *   nf_ct_delete()                 DESTROY: taken by the call that marks
 *                                  the entry dying, emitted on return (the
 *                                  stop timestamp is set by then), also
 *                                  when ctnetlink failed to deliver it and
 *                                  the event cache will retry
 *
 * fentry/fexit by default; the kprobe form (ctevq-trace -K) attaches a
 * kprobe and a kretprobe to the same functions.  The same conditions as
 * the netlink path decide whether an event exists: a confirmed entry with
 * an event cache extension whose mask lets the event through.  Not seen at
 * these hooks: events reported without the cache (an entry created or
 * changed through ctnetlink, a helper removed), and a DESTROY retried
 * later counts once, when it first happened.  In the kprobe form a
 * softirq that deletes an entry inside another nf_ct_delete() on the
 * same CPU takes the outer one's slot: that DESTROY is not emitted.
 *
 * Selection is what a BPF program can read from struct nf_conn: the netns
 * (its inode number) and ct mark, which an nft rule sets for the
 * connections wanted.  Records that find the ring buffer full are counted
 * in "lost", by CPU.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ctevq_trace.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 netns_ino;		/* 0: every netns */
const volatile __u32 want_mark;		/* 0: every entry */
const volatile bool with_acct;		/* counters and timestamps */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 64);	/* ctevq-trace -b sets it */
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/*
 * Entries inside nf_ct_delete(), by address: only the call that finds the
 * entry not dying and inserts it first emits its DESTROY, once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} deleting SEC(".maps");

/* the kretprobe has no arguments: the entry its kprobe claimed, by CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} claimed SEC(".maps");

static __always_inline void *ct_ext(struct nf_conn *ct, int id)
{
	struct nf_ct_ext *ext = BPF_CORE_READ(ct, ext);
	__u8 off;

	if (!ext)
		return NULL;
	if (bpf_probe_read_kernel(&off, sizeof(off), &ext->offset[id]) || !off)
		return NULL;
	return (void *)ext + off;
}

static __always_inline bool selected(struct nf_conn *ct)
{
	if (netns_ino && BPF_CORE_READ(ct, ct_net.net, ns.inum) != netns_ino)
		return false;
	return !want_mark || BPF_CORE_READ(ct, mark) == want_mark;
}

static __always_inline void emit(struct nf_conn *ct, __u32 events)
{
	struct nf_conntrack_tuple *t;
	struct ctevq_trace_rec *r;
	__u32 zero = 0;
	__u64 *n;

	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r) {
		n = bpf_map_lookup_elem(&lost, &zero);
		if (n)
			(*n)++;
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->events = events;
	if (events & (1 << IPCT_DESTROY))
		r->type = CTEVQ_TRACE_DESTROY;
	else if (events & ((1 << IPCT_NEW) | (1 << IPCT_RELATED)))
		r->type = CTEVQ_TRACE_NEW;
	else
		r->type = CTEVQ_TRACE_UPDATE;
	r->status = BPF_CORE_READ(ct, status);
	r->mark = BPF_CORE_READ(ct, mark);
	t = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	r->l3 = BPF_CORE_READ(t, src.l3num);
	r->proto = BPF_CORE_READ(t, dst.protonum);
	bpf_probe_read_kernel(r->src, sizeof(r->src), &t->src.u3);
	bpf_probe_read_kernel(r->dst, sizeof(r->dst), &t->dst.u3);
	r->sport = BPF_CORE_READ(t, src.u.all);
	r->dport = BPF_CORE_READ(t, dst.u.all);
	/* ctnetlink carries the state with IPCT_PROTOINFO, and at DESTROY */
	if (r->proto == IPPROTO_TCP &&
	    (events & ((1 << IPCT_PROTOINFO) | (1 << IPCT_DESTROY)))) {
		r->tcp_state = BPF_CORE_READ(ct, proto.tcp.state);
		r->has_state = 1;
	}
	if (with_acct) {
		struct nf_conn_acct *acct = ct_ext(ct, bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_ACCT));
		struct nf_conn_tstamp *ts = ct_ext(ct, bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_TSTAMP));

		if (acct) {
			r->packets[0] = BPF_CORE_READ(acct, counter[0].packets.counter);
			r->bytes[0] = BPF_CORE_READ(acct, counter[0].bytes.counter);
			r->packets[1] = BPF_CORE_READ(acct, counter[1].packets.counter);
			r->bytes[1] = BPF_CORE_READ(acct, counter[1].bytes.counter);
		}
		if (ts) {
			r->start = BPF_CORE_READ(ts, start);
			r->stop = BPF_CORE_READ(ts, stop);
		}
	}
	bpf_ringbuf_submit(r, 0);
}

static __always_inline struct nf_conntrack_ecache *ecache(struct nf_conn *ct)
{
	return ct_ext(ct, bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_ECACHE));
}

/*
 * What nf_ct_deliver_cached_events() is about to report: the cached
 * events and the missed ones, if any of them passes the entry's mask
 * (__nf_conntrack_eventmask_report() hands ctnetlink the unmasked set).
 */
static __always_inline void deliver(struct nf_conn *ct)
{
	struct nf_conntrack_ecache *e;
	unsigned long status;
	__u32 events, missed;
	__u16 mask;

	status = BPF_CORE_READ(ct, status);
	if (!(status & IPS_CONFIRMED) || (status & IPS_DYING))
		return;
	if (!selected(ct))
		return;
	e = ecache(ct);
	if (!e)
		return;
	events = BPF_CORE_READ(e, cache);
	missed = BPF_CORE_READ(e, missed);
	mask = BPF_CORE_READ(e, ctmask);
	if (events && ((events | missed) & mask))
		emit(ct, events | missed);
}

/* nf_ct_delete() is about to mark CT dying: claim its DESTROY */
static __always_inline bool claim_destroy(struct nf_conn *ct)
{
	unsigned long status = BPF_CORE_READ(ct, status);
	struct nf_conntrack_ecache *e;
	__u64 key = (__u64)ct;
	__u8 one = 1;

	if ((status & IPS_DYING) || !(status & IPS_CONFIRMED) || !selected(ct))
		return false;
	/* nf_conntrack_eventmask_report(): no cache extension, no event */
	e = ecache(ct);
	if (!e || !(((1 << IPCT_DESTROY) | BPF_CORE_READ(e, missed)) &
		    BPF_CORE_READ(e, ctmask)))
		return false;
	return !bpf_map_update_elem(&deleting, &key, &one, BPF_NOEXIST);
}

static __always_inline void destroyed(struct nf_conn *ct)
{
	__u64 key = (__u64)ct;

	if (!bpf_map_delete_elem(&deleting, &key))
		emit(ct, 1 << IPCT_DESTROY);
}

SEC("fentry/nf_ct_deliver_cached_events")
int BPF_PROG(fentry_deliver, struct nf_conn *ct)
{
	deliver(ct);
	return 0;
}

SEC("fentry/nf_ct_delete")
int BPF_PROG(fentry_delete, struct nf_conn *ct)
{
	claim_destroy(ct);
	return 0;
}

SEC("fexit/nf_ct_delete")
int BPF_PROG(fexit_delete, struct nf_conn *ct)
{
	/* whatever it returned: false also when the event is to be retried */
	destroyed(ct);
	return 0;
}

SEC("kprobe/nf_ct_deliver_cached_events")
int BPF_KPROBE(kprobe_deliver, struct nf_conn *ct)
{
	deliver(ct);
	return 0;
}

SEC("kprobe/nf_ct_delete")
int BPF_KPROBE(kprobe_delete, struct nf_conn *ct)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&claimed, &zero);

	if (slot)
		*slot = claim_destroy(ct) ? (__u64)ct : 0;
	return 0;
}

SEC("kretprobe/nf_ct_delete")
int BPF_KRETPROBE(kretprobe_delete)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&claimed, &zero);

	if (slot && *slot) {
		destroyed((struct nf_conn *)*slot);
		*slot = 0;
	}
	return 0;
}
