// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq-trace: conntrack events from BPF tracing (ctevq_trace.bpf.c), the
 * way agents read them without ctnetlink, for comparison with a ct event
 * queue (make bench-bpf, tests/bpf/).
 *
 * Selection happens in BPF on what struct nf_conn holds: this process's
 * netns and, with -m, ct mark (an nft rule sets the mark of the wanted
 * connections, as a "ct event queue" rule selects them).  Records come
 * through a BPF ring buffer.
 *
 * Needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in the initial user
 * namespace, ctnetlink in the kernel (events are cached only while it is
 * registered for them) and net.netfilter.nf_conntrack_events=1 in the netns
 * traced: with the default (2) entries get the event cache only while a
 * ctnetlink listener exists, and a tracer alone sees nothing.
 *
 * With -j every record is a JSON line with the keys ctevq-listen -j uses
 * where they exist (src is "bpf"; no netlink header fields, no ctnetlink
 * id).  At exit (SIGTERM/SIGINT, -t or -c) one line goes to stdout, as
 * ctevq-bench-listen prints it:
 *   mode=bpf_tracing received=N wanted=N unwanted=N rb_lost=N rb_backlog=N
 *   wakeups=N busy=S cpu_user=S cpu_sys=S [work_us=N worked=S]
 * rb_lost is the records the ring buffer had no room for (the counterpart
 * of a netlink socket's ENOBUFS), summed over CPUs; rb_backlog the records
 * still unread when the tracer was told to stop (then read, without -w).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ctevq_trace.h"
#include "ctevq_trace.skel.h"
#include "../nlutil.h"
#include "../benchutil.h"

#define PROG "ctevq-trace"

static volatile sig_atomic_t stop;
static unsigned long received, wanted, unwanted, wakeups, count;
static unsigned long drained_after_stop;
static double busy, worked;
static long work_us;
static int want_port = -1;
static bool json, counters;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [options]\n"
"  -m MARK    keep the entries whose ct mark is MARK (default: all)\n"
"  -A         every netns (default: this process's only)\n"
"  -p PORT    count records of TCP/UDP connections to PORT as wanted\n"
"  -a         records carry counters and timestamps (acct, tstamp)\n"
"  -d         DESTROY only (no program on the NEW/UPDATE path)\n"
"  -b BYTES   ring buffer size (a power of 2, at least a page; default 262144)\n"
"  -K         attach kprobes instead of fentry/fexit\n"
"  -j         print every record as a JSON line\n"
"  -w USEC    sleep USEC after each record (a slow consumer)\n"
"  -c N       exit after N records\n"
"  -t S       exit after S seconds\n"
"  -r FILE    create FILE once the programs are attached\n");
}

static void print_json(const struct ctevq_trace_rec *r)
{
	static const char *const types[] = {
		[CTEVQ_TRACE_NEW] = "new",
		[CTEVQ_TRACE_UPDATE] = "update",
		[CTEVQ_TRACE_DESTROY] = "destroy",
	};
	char s[INET6_ADDRSTRLEN] = "", d[INET6_ADDRSTRLEN] = "";
	int af = r->l3 == AF_INET6 ? AF_INET6 : AF_INET;

	inet_ntop(af, r->src, s, sizeof(s));
	inet_ntop(af, r->dst, d, sizeof(d));
	printf("{\"src\":\"bpf\",\"type\":\"%s\",\"events\":%u,\"l3\":\"%s\","
	       "\"proto\":%u,\"orig_src\":\"%s\",\"orig_dst\":\"%s\","
	       "\"sport\":%u,\"dport\":%u,\"status\":%u,\"mark\":%u",
	       r->type < 4 && types[r->type] ? types[r->type] : "unknown",
	       r->events, r->l3 == AF_INET ? "ipv4" : r->l3 == AF_INET6 ? "ipv6" : "unknown",
	       r->proto, s, d, ntohs(r->sport), ntohs(r->dport), r->status,
	       r->mark);
	if (r->has_state)
		printf(",\"tcp_state\":\"%s\"", tcp_state_name(r->tcp_state));
	if (counters)
		printf(",\"orig_packets\":%llu,\"orig_bytes\":%llu,"
		       "\"reply_packets\":%llu,\"reply_bytes\":%llu,"
		       "\"start\":%llu,\"stop\":%llu",
		       (unsigned long long)r->packets[0],
		       (unsigned long long)r->bytes[0],
		       (unsigned long long)r->packets[1],
		       (unsigned long long)r->bytes[1],
		       (unsigned long long)r->start,
		       (unsigned long long)r->stop);
	printf("}\n");
}

static int on_record(void *ctx, void *data, size_t len)
{
	const struct ctevq_trace_rec *r = data;
	bool late = stop;

	(void)ctx;
	if (len < sizeof(*r))
		return 0;
	received++;
	if (late)
		drained_after_stop++;
	if ((r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) &&
	    ntohs(r->dport) == want_port)
		wanted++;
	else
		unwanted++;
	if (json)
		print_json(r);
	if (work_us > 0 && !late)
		worked += bench_work(work_us, &stop);
	if (count && received >= count) {
		stop = 1;
		/* a negative value makes libbpf stop consuming */
		return -EINTR;
	}
	return 0;
}

static unsigned long long sum_lost(struct ctevq_trace_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long total = 0;
	__u64 *v;
	__u32 key = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.lost), &key, v))
		for (int i = 0; i < ncpu; i++)
			total += v[i];
	free(v);
	return total;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int main(int argc, char **argv)
{
	struct ctevq_trace_bpf *skel;
	struct ring_buffer *rb = NULL;
	unsigned long ringsz = 262144;
	const char *ready = NULL;
	bool all_netns = false, kprobe = false, destroy_only = false;
	double timeout = -1, deadline = 0;
	struct rusage r0, r1;
	unsigned long mark = 0;
	struct stat st;
	int c, err, efd, rc = 0;

	while ((c = getopt(argc, argv, "m:Ap:adb:Kjw:c:t:r:h")) != -1) {
		switch (c) {
		case 'm': mark = strtoul(optarg, NULL, 0); break;
		case 'A': all_netns = true; break;
		case 'p': want_port = atoi(optarg); break;
		case 'a': counters = true; break;
		case 'd': destroy_only = true; break;
		case 'b': ringsz = strtoul(optarg, NULL, 0); break;
		case 'K': kprobe = true; break;
		case 'j': json = true; break;
		case 'w': work_us = atol(optarg); break;
		case 'c': count = strtoul(optarg, NULL, 0); break;
		case 't': timeout = atof(optarg); break;
		case 'r': ready = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || mark > UINT32_MAX || !ringsz ||
	    (ringsz & (ringsz - 1))) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_quiet);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	skel = ctevq_trace_bpf__open();
	if (!skel) {
		fprintf(stderr, PROG ": cannot open the BPF object: %s\n",
			strerror(errno));
		return 1;
	}
	if (!all_netns) {
		if (stat("/proc/self/ns/net", &st)) {
			perror(PROG ": /proc/self/ns/net");
			return 1;
		}
		skel->rodata->netns_ino = st.st_ino;
	}
	skel->rodata->want_mark = mark;
	skel->rodata->with_acct = counters;
	bpf_map__set_max_entries(skel->maps.records, ringsz);
	bpf_program__set_autoload(skel->progs.fentry_deliver, !kprobe && !destroy_only);
	bpf_program__set_autoload(skel->progs.fentry_delete, !kprobe);
	bpf_program__set_autoload(skel->progs.fexit_delete, !kprobe);
	bpf_program__set_autoload(skel->progs.kprobe_deliver, kprobe && !destroy_only);
	bpf_program__set_autoload(skel->progs.kprobe_delete, kprobe);
	bpf_program__set_autoload(skel->progs.kretprobe_delete, kprobe);
	err = ctevq_trace_bpf__load(skel);
	if (err) {
		fprintf(stderr, PROG ": cannot load the BPF programs: %s (%s)%s\n",
			strerror(-err), nl_errname(-err),
			-err == EPERM ? ": tracing needs CAP_BPF and CAP_PERFMON in the initial user namespace, and a kernel that allows it" : "");
		ctevq_trace_bpf__destroy(skel);
		return 1;
	}
	err = ctevq_trace_bpf__attach(skel);
	if (err) {
		fprintf(stderr, PROG ": cannot attach the BPF programs: %s (%s)\n",
			strerror(-err), nl_errname(-err));
		ctevq_trace_bpf__destroy(skel);
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.records), on_record, NULL, NULL);
	if (!rb) {
		fprintf(stderr, PROG ": ring buffer: %s\n", strerror(errno));
		ctevq_trace_bpf__destroy(skel);
		return 1;
	}
	if (json)
		setvbuf(stdout, NULL, _IOLBF, 0);
	getrusage(RUSAGE_SELF, &r0);
	if (write_ready(ready)) {
		perror(PROG ": ready file");
		return 1;
	}
	if (timeout >= 0)
		deadline = now_mono() + timeout;

	efd = ring_buffer__epoll_fd(rb);
	while (!stop) {
		struct epoll_event ev;
		int ms = -1, n;
		double t0;

		if (timeout >= 0) {
			double left = deadline - now_mono();

			if (left <= 0)
				break;
			ms = (int)(left * 1000) + 1;
		}
		n = epoll_wait(efd, &ev, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror(PROG ": epoll_wait");
			rc = 1;
			break;
		}
		if (n == 0)
			continue;
		t0 = now_mono();
		wakeups++;
		/* what came in meanwhile too, then sleep again */
		while (!stop && (n = ring_buffer__consume(rb)) > 0)
			;
		busy += now_mono() - t0;
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, PROG ": ring buffer: %s\n", strerror(-n));
			rc = 1;
			break;
		}
	}
	/*
	 * What the ring still held when told to stop: the consumer's backlog
	 * (drained without the -w work, so that the count is complete).
	 */
	stop = 1;
	if (!count || received < count)
		ring_buffer__consume(rb);

	getrusage(RUSAGE_SELF, &r1);
	printf("mode=bpf_tracing received=%lu wanted=%lu unwanted=%lu rb_lost=%llu "
	       "rb_backlog=%lu wakeups=%lu busy=%.6f cpu_user=%.6f cpu_sys=%.6f",
	       received, wanted, unwanted, sum_lost(skel), drained_after_stop,
	       wakeups, busy,
	       tv_s(r1.ru_utime) - tv_s(r0.ru_utime),
	       tv_s(r1.ru_stime) - tv_s(r0.ru_stime));
	if (work_us > 0)
		printf(" work_us=%ld worked=%.6f", work_us, worked);
	putchar('\n');
	ring_buffer__free(rb);
	ctevq_trace_bpf__destroy(skel);
	return rc;
}
