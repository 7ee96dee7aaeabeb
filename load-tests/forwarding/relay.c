/*
 * The physical floor of the forwarding benchmark (load-tests/forwarding.ts):
 *
 *   relay <max-seconds> <port>,<port>,...
 *
 * Binds 127.0.0.1:0 (default receive buffer, like the SFUs' sockets), prints its port on
 * stdout, then for each datagram it receives does one sendmmsg() carrying the same
 * bytes to every destination port on 127.0.0.1: no parsing, no header rewriting, no
 * RTCP. The least any user-space forwarder has to pay per copy. Stops on SIGTERM /
 * SIGINT or after <max-seconds>. Every loop is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DESTS 1024

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: relay <max-seconds> <port>,<port>,...\n");
		return 2;
	}
	static struct sockaddr_in dests[MAX_DESTS];
	int n = 0;
	for (char *s = argv[2]; *s && n < MAX_DESTS;) {
		char *end;
		long port = strtol(s, &end, 10);
		if (end == s || port <= 0 || port > 65535) return 2;
		dests[n].sin_family = AF_INET;
		dests[n].sin_port = htons((uint16_t)port);
		dests[n].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		n++;
		s = *end == ',' ? end + 1 : end;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("relay: bind");
		return 2;
	}
	socklen_t alen = sizeof addr;
	getsockname(fd, (struct sockaddr *)&addr, &alen);
	printf("%d\n", ntohs(addr.sin_port));
	fflush(stdout);

	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Wake up at least every 200 ms to check the deadline. */
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

	static uint8_t buf[2048];
	struct iovec iov = {.iov_base = buf};
	static struct mmsghdr msgs[MAX_DESTS];
	for (int i = 0; i < n; i++) {
		msgs[i].msg_hdr.msg_name = &dests[i];
		msgs[i].msg_hdr.msg_namelen = sizeof dests[i];
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double max_seconds = atof(argv[1]);
	unsigned long long in = 0, out = 0, failed = 0;
	for (;;) {
		if (stop) break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > max_seconds) break;
		ssize_t len = recv(fd, buf, sizeof buf, 0);
		if (len <= 0) continue;
		in++;
		iov.iov_len = (size_t)len;
		int sent = sendmmsg(fd, msgs, (unsigned)n, 0);
		if (sent > 0) out += (unsigned long long)sent;
		if (sent < n) failed += (unsigned long long)(n - (sent > 0 ? sent : 0));
	}
	fprintf(stderr, "relay: %llu in, %llu out, %llu not sent\n", in, out, failed);
	return 0;
}
