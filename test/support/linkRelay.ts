/**
 * A UDP relay that adds delay and jitter to one client's media, run by
 * {@link TestNetwork.impair} as its own process inside the router namespace
 * (this kernel has no netem, so delay cannot come from tc). The router
 * redirects the client's UDP towards the SFU's WebRTC port to this relay
 * (nftables `dnat`), so the client still sees the SFU's address and its
 * replies come back from it: nothing in the page knows the relay is there.
 *
 *   node --import tsx test/support/linkRelay.ts <listenPort> <targetIp> <targetPort> [bindIp]
 *
 * stdin, one JSON object a line: `{"rttMs":150,"jitterMs":30}` (added round
 * trip, half each way; ± jitter per datagram and direction). stdout: `ready`
 * once listening, then `{"forwarded":N,"flows":N}` after each command.
 *
 * Each datagram is held rttMs / 2 ± jitterMs, but never released before the
 * previous one of its flow and direction: a queue whose waiting time varies,
 * as a radio link's does, not a network that reorders (netem's jitter does
 * reorder; a real 4G or microwave link rarely does).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';

const [listenPort, targetIp, targetPort] = [Number(process.argv[2]), process.argv[3] ?? '', Number(process.argv[4])];
/**
 * The address to listen on. A fixed one, not 0.0.0.0: answers must leave from
 * the address the router redirected to, or conntrack cannot give them the
 * server's address back (after an address switch the kernel would pick the
 * client's new subnet's router address as source).
 */
const bindIp = process.argv[5] ?? '0.0.0.0';
if (!listenPort || !targetIp || !targetPort) {
	process.stderr.write('usage: linkRelay.ts <listenPort> <targetIp> <targetPort> [bindIp]\n');
	process.exit(2);
}

let rttMs = 0;
let jitterMs = 0;
let forwarded = 0;

/** When the last datagram of a flow and direction leaves, so the next one never overtakes it. */
class Lane {
	#last = 0;
	send(deliver: () => void): void {
		const oneWay = rttMs / 2;
		const jitter = jitterMs > 0 ? (Math.random() * 2 - 1) * jitterMs : 0;
		const due = Math.max(performance.now() + Math.max(0, oneWay + jitter), this.#last);
		this.#last = due;
		forwarded++;
		const wait = due - performance.now();
		if (wait < 1) deliver();
		else setTimeout(deliver, wait);
	}
}

const front = createSocket('udp4');
/** One upstream socket per client address and port, as a NAT keeps one mapping per flow. */
const flows = new Map<string, { back: Socket; up: Lane; down: Lane }>();

front.on('message', (message: Buffer, client: RemoteInfo) => {
	const key = `${client.address}:${client.port}`;
	let flow = flows.get(key);
	if (!flow) {
		const back = createSocket('udp4');
		const created = { back, up: new Lane(), down: new Lane() };
		back.on('message', (reply: Buffer) => created.down.send(() => front.send(reply, client.port, client.address)));
		back.on('error', () => undefined);
		back.bind(0);
		flows.set(key, created);
		flow = created;
	}
	const back = flow.back;
	flow.up.send(() => back.send(message, targetPort, targetIp));
});
front.on('error', (error) => {
	process.stderr.write(`relay: ${error.message}\n`);
	process.exit(1);
});
front.bind(listenPort, bindIp, () => process.stdout.write('ready\n'));

createInterface({ input: process.stdin }).on('line', (line) => {
	try {
		const command = JSON.parse(line) as { rttMs?: number; jitterMs?: number };
		rttMs = Math.max(0, Number(command.rttMs ?? 0));
		jitterMs = Math.max(0, Number(command.jitterMs ?? 0));
	} catch {
		// Not a command.
	}
	process.stdout.write(`${JSON.stringify({ forwarded, flows: flows.size })}\n`);
});
// The test ends the relay by closing stdin (or killing it with its namespace).
process.stdin.on('end', () => process.exit(0));
