import type { IngestEndpointInfo } from '../../server/protocol/index.js';

/** The documented device command: 1080p30 H.264 Main at 8 Mbit/s, no B-frames, 1 s GOP, SPS/PPS before every IDR; SRTP when the endpoint has a key. */
export function pushCommand(endpoint: IngestEndpointInfo, options: { width?: number; height?: number; fps?: number; bitrate?: string } = {}): string[] {
	const video = endpoint.streams.find((s) => s.kind === 'video')!;
	const { width = 1920, height = 1080, fps = 30, bitrate = '8M' } = options;
	return [
		'-hide_banner', '-loglevel', 'error', '-nostdin',
		'-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
		'-c:v', 'libx264', '-profile:v', 'main', '-bf', '0', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
		'-b:v', bitrate, '-maxrate', bitrate, '-bufsize', bitrate, '-g', String(fps), '-x264-params', 'repeat-headers=1',
		'-f', 'rtp', '-payload_type', String(video.payloadType), '-ssrc', String(video.ssrc),
		...(endpoint.srtp ? ['-srtp_out_suite', endpoint.srtp.cryptoSuite, '-srtp_out_params', endpoint.srtp.keyBase64] : []),
		`${endpoint.srtp ? 'srtp' : 'rtp'}://${video.ip}:${video.port}?rtcpport=${video.rtcpPort}&pkt_size=1200`,
	];
}
