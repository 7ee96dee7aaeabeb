/*
 * RTP dump tool of the forwarding benchmark (load-tests/forwarding.ts). Two modes:
 *
 *   sender capture <out.dump> <fps> <idle-ms> <max-seconds>
 *     Binds 127.0.0.1:0 and prints its port on stdout, then records every RTP datagram
 *     that arrives (ffmpeg -f rtp packetizing a clip as fast as it can) until none came
 *     for idle-ms after the first, or max-seconds passed. Checks that the sequence
 *     numbers are gap-free and writes the dump:
 *       header: "RTPD" u32 version=1, u32 packets, u32 clock rate, u32 loop length (RTP
 *               timestamp units: frames x clock/fps), u32 frames
 *       packet: u32 timestamp offset from the first packet, u16 length, u16 0, bytes
 *
 *   sender play <dump> <port> <ssrc> <pt> <seconds> <frame|even> <summary.json>
 *     Replays the dump at real-time pace to 127.0.0.1:<port>, looping seamlessly
 *     (SSRC and payload type replaced, sequence numbers continuous, timestamps
 *     continued by the loop length) for <seconds>. Packets of one frame leave
 *     back-to-back at the frame's time ("frame", as encoders and ffmpeg send) or spread
 *     evenly over the frame interval ("even"). SIGUSR1 / SIGUSR2 record the packets sent
 *     so far (the measured window's start and end); SIGTERM stops early. Writes a JSON
 *     summary when it stops.
 *
 * Every loop is bounded in count and time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKETS 200000
#define MAX_PACKET 1500

struct packet {
	uint32_t ts_offset;
	uint16_t len;
	uint8_t *data;
};

static volatile sig_atomic_t mark_start, mark_end, stop;
/* Packets sent when each mark arrived: checked after every sleep (signals interrupt it) and send. */
static uint64_t sent, at_start, at_end;
static int have_start, have_end;

static void check_marks(void) {
	if (mark_start && !have_start) {
		at_start = sent;
		have_start = 1;
	}
	if (mark_end && !have_end) {
		at_end = sent;
		have_end = 1;
	}
}

static void on_signal(int sig) {
	if (sig == SIGUSR1) mark_start = 1;
	else if (sig == SIGUSR2) mark_end = 1;
	else stop = 1;
}

static double now_s(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bind_loopback(void) {
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("bind");
		exit(2);
	}
	return fd;
}

static int local_port(int fd) {
	struct sockaddr_in addr;
	socklen_t len = sizeof addr;
	getsockname(fd, (struct sockaddr *)&addr, &len);
	return ntohs(addr.sin_port);
}

static int capture(const char *out, int fps, int idle_ms, int max_seconds) {
	int fd = bind_loopback();
	int big = 64 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	printf("%d\n", local_port(fd));
	fflush(stdout);

	struct packet *packets = calloc(MAX_PACKETS, sizeof *packets);
	uint8_t buf[MAX_PACKET + 1];
	size_t count = 0;
	double deadline = now_s() + max_seconds;
	while (count < MAX_PACKETS && now_s() < deadline) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int ready = poll(&pfd, 1, count == 0 ? 1000 : idle_ms);
		if (ready == 0 && count > 0) break;
		if (ready <= 0) continue;
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 12 || n > MAX_PACKET || (buf[0] >> 6) != 2) continue;
		uint8_t pt = buf[1] & 0x7f;
		if (pt >= 72 && pt <= 76) continue; /* RTCP */
		packets[count].len = (uint16_t)n;
		packets[count].data = malloc((size_t)n);
		memcpy(packets[count].data, buf, (size_t)n);
		count++;
	}
	if (count < 10) {
		fprintf(stderr, "capture: only %zu packets\n", count);
		return 1;
	}
	uint32_t ts0 = ntohl(*(uint32_t *)(packets[0].data + 4));
	uint16_t seq_prev = ntohs(*(uint16_t *)(packets[0].data + 2));
	uint32_t frames = 1, ts_prev = ts0;
	for (size_t i = 0; i < count; i++) {
		uint16_t seq = ntohs(*(uint16_t *)(packets[i].data + 2));
		uint32_t ts = ntohl(*(uint32_t *)(packets[i].data + 4));
		if (i > 0 && (uint16_t)(seq_prev + 1) != seq) {
			fprintf(stderr, "capture: sequence gap after packet %zu (%u -> %u)\n", i, seq_prev, seq);
			return 1;
		}
		if (i > 0 && ts != ts_prev) frames++;
		seq_prev = seq;
		ts_prev = ts;
		packets[i].ts_offset = ts - ts0;
	}
	uint32_t clock = 90000;
	uint32_t loop_ts = packets[count - 1].ts_offset + clock / (uint32_t)fps;
	FILE *f = fopen(out, "wb");
	if (!f) {
		perror(out);
		return 1;
	}
	uint32_t header[6] = {0x44505452 /* "RTPD" */, 1, (uint32_t)count, clock, loop_ts, frames};
	fwrite(header, sizeof header, 1, f);
	for (size_t i = 0; i < count; i++) {
		uint16_t meta[2] = {packets[i].len, 0};
		fwrite(&packets[i].ts_offset, 4, 1, f);
		fwrite(meta, sizeof meta, 1, f);
		fwrite(packets[i].data, packets[i].len, 1, f);
	}
	if (fclose(f) != 0) {
		perror(out);
		return 1;
	}
	fprintf(stderr, "capture: %zu packets, %u frames, loop %u ticks\n", count, frames, loop_ts);
	return 0;
}

static int play(const char *dump, int port, uint32_t ssrc, int pt, double seconds, int even, const char *summary) {
	/* Handlers first: a window mark must never find the default action (exit). */
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	FILE *f = fopen(dump, "rb");
	if (!f) {
		perror(dump);
		return 1;
	}
	uint32_t header[6];
	if (fread(header, sizeof header, 1, f) != 1 || header[0] != 0x44505452 || header[1] != 1 || header[2] == 0 || header[2] > MAX_PACKETS) {
		fprintf(stderr, "play: %s is not a dump\n", dump);
		return 1;
	}
	size_t count = header[2];
	double clock = header[3];
	uint32_t loop_ts = header[4];
	struct packet *packets = calloc(count, sizeof *packets);
	double *offset_s = calloc(count, sizeof *offset_s);
	for (size_t i = 0; i < count; i++) {
		uint16_t meta[2];
		if (fread(&packets[i].ts_offset, 4, 1, f) != 1 || fread(meta, sizeof meta, 1, f) != 1 || meta[0] < 12 || meta[0] > MAX_PACKET) {
			fprintf(stderr, "play: truncated dump\n");
			return 1;
		}
		packets[i].len = meta[0];
		packets[i].data = malloc(meta[0]);
		if (fread(packets[i].data, meta[0], 1, f) != 1) {
			fprintf(stderr, "play: truncated dump\n");
			return 1;
		}
	}
	fclose(f);
	/* Send time of each packet within one loop. */
	double frame_s = 0;
	for (size_t i = 0; i < count;) {
		size_t j = i;
		while (j < count && packets[j].ts_offset == packets[i].ts_offset) j++;
		double start = packets[i].ts_offset / clock;
		double next = j < count ? packets[j].ts_offset / clock : loop_ts / clock;
		if (frame_s == 0 && next > start) frame_s = next - start;
		for (size_t k = i; k < j; k++) offset_s[k] = even ? start + (next - start) * (double)(k - i) / (double)(j - i) : start;
		i = j;
	}
	double loop_s = loop_ts / clock;

	int fd = bind_loopback();
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint8_t buf[MAX_PACKET];
	uint64_t errors = 0;
	uint16_t seq = 1000;
	uint32_t ts_base = 100000;
	double max_late = 0;
	double t0 = now_s() + 0.01;
	uint64_t max_sends = (uint64_t)((seconds / loop_s + 2) * (double)count);
	for (uint64_t n = 0; !stop && n < max_sends; n++) {
		size_t i = n % count;
		uint64_t loop = n / count;
		double at = t0 + (double)loop * loop_s + offset_s[i];
		if (at - t0 >= seconds) break;
		double wait = at - now_s();
		if (wait > 0) {
			struct timespec ts = {.tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9)};
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop) check_marks();
		} else if (-wait > max_late) {
			max_late = -wait;
		}
		check_marks();
		memcpy(buf, packets[i].data, packets[i].len);
		buf[1] = (uint8_t)((buf[1] & 0x80) | (pt & 0x7f));
		*(uint16_t *)(buf + 2) = htons(seq++);
		*(uint32_t *)(buf + 4) = htonl(ts_base + (uint32_t)(loop * loop_ts) + packets[i].ts_offset);
		*(uint32_t *)(buf + 8) = htonl(ssrc);
		if (sendto(fd, buf, packets[i].len, 0, (struct sockaddr *)&to, sizeof to) < 0) errors++;
		else sent++;
	}
	check_marks();
	FILE *out = fopen(summary, "w");
	if (!out) {
		perror(summary);
		return 1;
	}
	fprintf(out, "{\"sent\":%llu,\"errors\":%llu,\"atStart\":%lld,\"atEnd\":%lld,\"maxLateMs\":%.3f,\"loopSeconds\":%.6f,\"frameSeconds\":%.6f}\n", (unsigned long long)sent,
	        (unsigned long long)errors, have_start ? (long long)at_start : -1LL, have_end ? (long long)at_end : -1LL, max_late * 1e3, loop_s, frame_s);
	fclose(out);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 6 && strcmp(argv[1], "capture") == 0) return capture(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	if (argc == 9 && strcmp(argv[1], "play") == 0)
		return play(argv[2], atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 10), atoi(argv[5]), atof(argv[6]), strcmp(argv[7], "even") == 0, argv[8]);
	fprintf(stderr, "usage: sender capture <out.dump> <fps> <idle-ms> <max-seconds>\n"
	                "       sender play <dump> <port> <ssrc> <pt> <seconds> <frame|even> <summary.json>\n");
	return 2;
}
