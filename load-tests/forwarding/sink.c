/*
 * Receiver side of the forwarding benchmark (load-tests/forwarding.ts):
 *
 *   sink <ports> <max-seconds> <summary.json>
 *
 * Binds <ports> UDP sockets on 127.0.0.1 (ephemeral ports, each with a 4 MiB receive
 * buffer and SO_RXQ_OVFL so drops in the sink itself are counted), prints the ports as
 * a JSON array on one stdout line, then polls: every millisecond it drains, without
 * blocking, every socket epoll reports readable (recvmmsg). A sink that blocked on its
 * sockets would make each sender pay a wake-up per datagram on loopback.
 *
 * Counts per port and per SSRC: RTP packets, highest extended sequence number, and a
 * snapshot of both when SIGUSR1 (measured window starts) and SIGUSR2 (window ends)
 * arrive. RTCP (rtcp-mux) is counted apart. Writes a JSON summary on SIGTERM / SIGINT
 * or after <max-seconds>, then exits. Every loop is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 1024
#define MAX_SSRCS 8
#define BATCH 64
#define SNAP_NONE 0

struct stream {
	uint32_t ssrc;
	uint8_t pt;
	uint64_t count;
	int64_t first_ext, max_ext;
	uint32_t cycles;
	uint16_t last_seq;
	/* Snapshots at the window's start (0) and end (1); seen = stream existed then. */
	int seen[2];
	uint64_t snap_count[2];
	int64_t snap_max[2];
};

struct port {
	int fd, port;
	uint64_t rtcp, other;
	uint32_t drops; /* SO_RXQ_OVFL: datagrams the kernel dropped on this socket */
	int nstreams;
	struct stream streams[MAX_SSRCS];
};

static volatile sig_atomic_t want_snap[2], stop;

static void on_signal(int sig) {
	if (sig == SIGUSR1) want_snap[0] = 1;
	else if (sig == SIGUSR2) want_snap[1] = 1;
	else stop = 1;
}

static double now_s(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void account(struct port *p, const uint8_t *b, ssize_t n) {
	if (n < 12 || (b[0] >> 6) != 2) {
		p->other++;
		return;
	}
	if (b[1] >= 192 && b[1] <= 223) { /* RTCP packet types 192..223 share the port (rtcp-mux) */
		p->rtcp++;
		return;
	}
	uint32_t ssrc = ntohl(*(const uint32_t *)(b + 8));
	uint16_t seq = ntohs(*(const uint16_t *)(b + 2));
	struct stream *s = NULL;
	for (int i = 0; i < p->nstreams; i++)
		if (p->streams[i].ssrc == ssrc) s = &p->streams[i];
	if (!s) {
		if (p->nstreams == MAX_SSRCS) {
			p->other++;
			return;
		}
		s = &p->streams[p->nstreams++];
		memset(s, 0, sizeof *s);
		s->ssrc = ssrc;
		s->pt = b[1] & 0x7f;
		s->last_seq = seq;
		s->first_ext = s->max_ext = 65536 + seq;
		s->cycles = 1;
		s->count = 1;
		return;
	}
	s->count++;
	int16_t delta = (int16_t)(seq - s->last_seq);
	if (delta > 0) {
		if (seq < s->last_seq) s->cycles++;
		s->last_seq = seq;
		s->max_ext = (int64_t)s->cycles * 65536 + seq;
	}
}

static void snapshot(struct port *ports, int nports, int which) {
	for (int i = 0; i < nports; i++)
		for (int j = 0; j < ports[i].nstreams; j++) {
			struct stream *s = &ports[i].streams[j];
			s->seen[which] = 1;
			s->snap_count[which] = s->count;
			s->snap_max[which] = s->max_ext;
		}
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: sink <ports> <max-seconds> <summary.json>\n");
		return 2;
	}
	int nports = atoi(argv[1]);
	double deadline = now_s() + atof(argv[2]);
	if (nports < 1 || nports > MAX_PORTS) return 2;
	/* Handlers first: a window mark must never find the default action (exit). */
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct port *ports = calloc((size_t)nports, sizeof *ports);
	int ep = epoll_create1(0);
	int rcvbuf = 4 << 20, one = 1;
	int effective = 0;
	printf("[");
	for (int i = 0; i < nports; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
			perror("sink: bind");
			return 2;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
		socklen_t len = sizeof effective;
		getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &effective, &len);
		socklen_t alen = sizeof addr;
		getsockname(fd, (struct sockaddr *)&addr, &alen);
		ports[i].fd = fd;
		ports[i].port = ntohs(addr.sin_port);
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		printf("%s%d", i ? "," : "", ports[i].port);
	}
	printf("]\n");
	fflush(stdout);

	static uint8_t bufs[BATCH][2048];
	static char ctrl[BATCH][CMSG_SPACE(sizeof(uint32_t))];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event events[MAX_PORTS];
	int done[2] = {0, 0};
	const struct timespec tick = {.tv_sec = 0, .tv_nsec = 1000000};
	/* Bounded: at most one iteration per millisecond until the deadline. */
	while (!stop && now_s() < deadline) {
		/* A requested snapshot is taken after draining what arrived before it. */
		int snap[2] = {want_snap[0] && !done[0], want_snap[1] && !done[1]};
		int ready = epoll_wait(ep, events, nports, 0);
		for (int e = 0; e < ready; e++) {
			struct port *p = &ports[events[e].data.u32];
			for (int rounds = 0; rounds < 64; rounds++) {
				for (int k = 0; k < BATCH; k++) {
					iov[k].iov_base = bufs[k];
					iov[k].iov_len = sizeof bufs[k];
					memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
					msgs[k].msg_hdr.msg_iov = &iov[k];
					msgs[k].msg_hdr.msg_iovlen = 1;
					msgs[k].msg_hdr.msg_control = ctrl[k];
					msgs[k].msg_hdr.msg_controllen = sizeof ctrl[k];
				}
				int got = recvmmsg(p->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
				if (got <= 0) break;
				for (int k = 0; k < got; k++) {
					account(p, bufs[k], msgs[k].msg_len);
					for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[k].msg_hdr); c; c = CMSG_NXTHDR(&msgs[k].msg_hdr, c))
						if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) memcpy(&p->drops, CMSG_DATA(c), sizeof p->drops);
				}
				if (got < BATCH) break;
			}
		}
		for (int w = 0; w < 2; w++)
			if (snap[w]) {
				snapshot(ports, nports, w);
				done[w] = 1;
			}
		nanosleep(&tick, NULL);
	}

	FILE *out = fopen(argv[3], "w");
	if (!out) {
		perror(argv[3]);
		return 1;
	}
	fprintf(out, "{\"rcvbuf\":%d,\"windowStart\":%d,\"windowEnd\":%d,\"ports\":[", effective, done[0], done[1]);
	for (int i = 0; i < nports; i++) {
		struct port *p = &ports[i];
		fprintf(out, "%s\n{\"port\":%d,\"rtcp\":%llu,\"other\":%llu,\"drops\":%u,\"streams\":[", i ? "," : "", p->port, (unsigned long long)p->rtcp, (unsigned long long)p->other, p->drops);
		for (int j = 0; j < p->nstreams; j++) {
			struct stream *s = &p->streams[j];
			/* In the window: packets received, and packets the sequence numbers say were sent. */
			long long received = -1, expected = -1;
			if (done[0] && done[1] && s->seen[1]) {
				received = (long long)(s->snap_count[1] - (s->seen[0] ? s->snap_count[0] : 0));
				expected = (long long)(s->snap_max[1] - (s->seen[0] ? s->snap_max[0] : s->first_ext - 1));
			}
			fprintf(out, "%s{\"ssrc\":%u,\"pt\":%u,\"count\":%llu,\"span\":%lld,\"windowReceived\":%lld,\"windowExpected\":%lld}", j ? "," : "", s->ssrc, s->pt,
			        (unsigned long long)s->count, (long long)(s->max_ext - s->first_ext + 1), received, expected);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "\n]}\n");
	fclose(out);
	return 0;
}
