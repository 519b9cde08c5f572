// SPDX-License-Identifier: GPL-2.0
/*
 * ctevq-bench-gen: traffic for the benchmark (scripts/bench.sh), in C so
 * that the generator's own cost stays small and steady in the UML guest.
 *
 *   server BASE NPORTS [READY]        UDP echo + TCP accept-and-close on ports
 *                                     BASE..BASE+NPORTS-1, until SIGTERM
 *   conns ADDR BASE NPORTS RATE SECS  short connections at a fixed rate:
 *                                     i-th one is UDP if i is even, TCP if
 *                                     odd, to port BASE + (i/2) % NPORTS.
 *                                     UDP: send, wait for the echo, close;
 *                                     TCP: connect, close with RST (no
 *                                     TIME_WAIT socket left behind)
 *     ... MARK_EVERY MARK LOG         also: every MARK_EVERY-th pair gets
 *                                     SO_MARK MARK, its "PROTO SPORT DPORT"
 *                                     logged to LOG
 *   sink PORT [READY]                 UDP: echo the first datagram, then
 *                                     never read again (the socket drops)
 *   flood ADDR PORT COUNT             one UDP flow: handshake with sink,
 *                                     one more datagram, 100 ms pause, then
 *                                     COUNT datagrams as fast as possible
 *   fill ADDR BASE COUNT              COUNT datagrams to ports BASE..65535
 *                                     (another source port for each round),
 *                                     one conntrack entry each
 * Results go to stdout as key=value pairs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "benchutil.h"

#define PROG "ctevq-bench-gen"
#define MAXPORTS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in addr_of(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, PROG ": bad IPv4 address %s\n", ip);
		exit(2);
	}
	return a;
}

static void signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int cmd_server(int base, int nports, const char *ready)
{
	struct pollfd pfd[2 * MAXPORTS];
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1;

	if (nports < 1 || nports > MAXPORTS)
		return 2;
	signals();
	for (int i = 0; i < nports; i++) {
		int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (u < 0 || t < 0)
			die("socket");
		a.sin_port = htons(base + i);
		setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(u, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    bind(t, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind");
		if (listen(t, 1024) < 0)
			die("listen");
		pfd[2 * i] = (struct pollfd){ .fd = u, .events = POLLIN };
		pfd[2 * i + 1] = (struct pollfd){ .fd = t, .events = POLLIN };
	}
	if (write_ready(ready) < 0)
		die("ready file");
	while (!stop) {
		if (poll(pfd, 2 * nports, 1000) <= 0)
			continue;
		for (int i = 0; i < 2 * nports; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			for (;;) {
				if (i % 2 == 0) {
					struct sockaddr_in from;
					socklen_t fl = sizeof(from);
					char buf[2048];
					ssize_t n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
							     (struct sockaddr *)&from, &fl);
					if (n < 0)
						break;
					sendto(pfd[i].fd, buf, n, 0,
					       (struct sockaddr *)&from, fl);
				} else {
					int c = accept(pfd[i].fd, NULL, NULL);

					if (c < 0)
						break;
					close(c);
				}
			}
		}
	}
	return 0;
}

/* conns with MARK_EVERY: the mark and where the marked tuples are logged */
static unsigned int conn_mark;
static FILE *mark_log;

static void mark_sock(int s, const char *proto, const struct sockaddr_in *dst)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	if (setsockopt(s, SOL_SOCKET, SO_MARK, &conn_mark, sizeof(conn_mark)) < 0)
		die("SO_MARK");
	/* bound now, so that the source port can be logged before connect */
	if (bind(s, (const struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) < 0)
		die("bind");
	fprintf(mark_log, "%s %u %u\n", proto, ntohs(a.sin_port),
		ntohs(dst->sin_port));
}

static int one_udp(const struct sockaddr_in *dst, bool mark)
{
	struct pollfd p;
	char buf[64];
	int s = socket(AF_INET, SOCK_DGRAM, 0), ok = 0;

	if (s < 0)
		die("socket");
	if (mark)
		mark_sock(s, "udp", dst);
	if (connect(s, (const struct sockaddr *)dst, sizeof(*dst)) == 0 &&
	    send(s, "ctevq", 5, 0) == 5) {
		p = (struct pollfd){ .fd = s, .events = POLLIN };
		if (poll(&p, 1, 1000) == 1 && recv(s, buf, sizeof(buf), 0) > 0)
			ok = 1;
	}
	close(s);
	return ok;
}

static int one_tcp(const struct sockaddr_in *dst, bool mark)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int s = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (s < 0)
		die("socket");
	if (mark)
		mark_sock(s, "tcp", dst);
	ok = connect(s, (const struct sockaddr *)dst, sizeof(*dst)) == 0;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	return ok;
}

static int cmd_conns(const char *ip, int base, int nports, double rate,
		     double secs, unsigned long mark_every)
{
	struct sockaddr_in dst = addr_of(ip, base);
	unsigned long i = 0, fail = 0, udp = 0, tcp = 0;
	double t0, end, t;

	if (nports < 1 || rate <= 0 || secs <= 0)
		return 2;
	signals();
	t0 = now_mono();
	end = t0 + secs;
	while (!stop) {
		/* the i-th connection is due at t0 + i / rate */
		double due = t0 + i / rate;

		t = now_mono();
		if (due >= end || t >= end)
			break;
		if (due > t) {
			struct timespec ts;
			double d = due - t;

			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
			continue;
		}
		bool mark = mark_every && (i / 2) % mark_every == 0;

		dst.sin_port = htons(base + (i / 2) % nports);
		if (i % 2 == 0) {
			udp++;
			fail += !one_udp(&dst, mark);
		} else {
			tcp++;
			fail += !one_tcp(&dst, mark);
		}
		i++;
	}
	t = now_mono() - t0;
	printf("conns=%lu udp=%lu tcp=%lu failed=%lu elapsed=%.3f achieved_rate=%.1f\n",
	       i, udp, tcp, fail, t, i / t);
	return 0;
}

static int cmd_sink(int port, const char *ready)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[2048];
	ssize_t n;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	signals();
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("sink socket");
	if (write_ready(ready) < 0)
		die("ready file");
	n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n > 0)
		sendto(s, buf, n, 0, (struct sockaddr *)&from, fl);
	/* never read again: the socket buffer fills, then UDP drops */
	while (!stop)
		pause();
	return 0;
}

static int cmd_flood(const char *ip, int port, long count)
{
	struct sockaddr_in dst = addr_of(ip, port);
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	struct pollfd p;
	char buf[64] = "ctevq-bench";
	long sent = 0, errs = 0;
	double t0, t;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		die("flood socket");
	if (send(s, buf, 16, 0) != 16)
		die("handshake send");
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	if (poll(&p, 1, 3000) != 1 || recv(s, buf, sizeof(buf), 0) <= 0) {
		fprintf(stderr, PROG ": no reply from the sink\n");
		return 1;
	}
	/* the entry is established now; this one subscribes it (if a rule
	 * says so), so that the timed packets find it already subscribed */
	send(s, buf, 16, 0);
	nanosleep(&pause, NULL);
	t0 = now_mono();
	for (long i = 0; i < count; i++) {
		if (send(s, buf, 16, 0) == 16)
			sent++;
		else
			errs++;
	}
	t = now_mono() - t0;
	printf("sent=%ld errors=%ld elapsed=%.6f pps=%.1f\n", sent, errs, t,
	       count / t);
	return 0;
}

static int cmd_fill(const char *ip, int base, long count)
{
	struct sockaddr_in dst = addr_of(ip, base);
	long ports = 65536 - base, sent = 0;
	int s = -1;

	for (long i = 0; i < count; i++) {
		/* a new source port when the destination ports are used up */
		if (i % ports == 0) {
			if (s >= 0)
				close(s);
			s = socket(AF_INET, SOCK_DGRAM, 0);
			if (s < 0)
				die("fill socket");
		}
		dst.sin_port = htons(base + i % ports);
		if (sendto(s, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)) == 1)
			sent++;
	}
	if (s >= 0)
		close(s);
	printf("sent=%ld\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "server"))
		return cmd_server(atoi(argv[2]), atoi(argv[3]), argc > 4 ? argv[4] : NULL);
	if (argc == 7 && !strcmp(argv[1], "conns"))
		return cmd_conns(argv[2], atoi(argv[3]), atoi(argv[4]),
				 atof(argv[5]), atof(argv[6]), 0);
	if (argc == 10 && !strcmp(argv[1], "conns")) {
		conn_mark = strtoul(argv[8], NULL, 0);
		mark_log = fopen(argv[9], "w");
		if (!mark_log)
			die(argv[9]);
		setvbuf(mark_log, NULL, _IOLBF, 0);
		return cmd_conns(argv[2], atoi(argv[3]), atoi(argv[4]),
				 atof(argv[5]), atof(argv[6]),
				 strtoul(argv[7], NULL, 0));
	}
	if (argc >= 3 && !strcmp(argv[1], "sink"))
		return cmd_sink(atoi(argv[2]), argc > 3 ? argv[3] : NULL);
	if (argc == 5 && !strcmp(argv[1], "flood"))
		return cmd_flood(argv[2], atoi(argv[3]), atol(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "fill"))
		return cmd_fill(argv[2], atoi(argv[3]), atol(argv[4]));
	fprintf(stderr,
		"Usage: " PROG " server BASE NPORTS [READY] |\n"
		"       conns ADDR BASE NPORTS RATE SECS [MARK_EVERY MARK LOG] |\n"
		"       sink PORT [READY] | flood ADDR PORT COUNT | fill ADDR BASE COUNT\n");
	return 2;
}
