// Device-stream monitor: shows the room's clinical device streams (source
// 'device', e.g. an endoscope or ultrasound encoder) large, with resolution,
// frame rate, bitrate and loss over each. Subscribes to device streams only
// (autoSubscribe off), so a clinician on a weak link spends nothing on cameras.
// URL: /demo/device.html?room=ROOM#token=T (observer, clinician or host). Tests read `window.demo`.
(() => {
	'use strict';

	const { RoomEvent } = window.TelehealthSDK;
	const Kit = window.DemoKit;
	const $ = (id) => document.getElementById(id);
	const ui = {
		roomName: $('room-name'),
		state: $('state'),
		banner: $('banner'),
		recording: $('recording'),
		summary: $('summary'),
		statusCard: $('status-card'),
		statusSpinner: $('status-spinner'),
		statusTitle: $('status-title'),
		statusText: $('status-text'),
		call: $('call'),
		grid: $('device-grid'),
		controls: $('controls'),
		showStats: $('show-stats'),
		leave: $('leave'),
	};

	const demo = { room: null, state: 'idle', error: null, log: [], stats: {} };
	window.demo = demo;

	const chrome = Kit.pageChrome(ui, demo);
	const { setState, banner, statusCard } = chrome;

	/** Tiles by producer id. */
	const tiles = new Map();
	const empty = document.createElement('div');
	empty.className = 'card';
	empty.innerHTML = '<h2>No device stream yet</h2><p>Streams from endoscopes, ultrasound or other clinical devices in this room appear here as soon as they start.</p>';

	function renderEmpty() {
		if (tiles.size === 0 && !empty.isConnected) ui.grid.append(empty);
		else if (tiles.size > 0) empty.remove();
		ui.summary.textContent = `${tiles.size} device stream${tiles.size === 1 ? '' : 's'}`;
		if (tiles.size > 0) Kit.fitGrid(ui.grid, tiles.size, 12);
		else ui.grid.style.gridTemplateColumns = 'minmax(0, 34rem)';
	}
	window.addEventListener('resize', renderEmpty);
	new ResizeObserver(() => renderEmpty()).observe(ui.grid);

	function subscribeIfDevice(producer) {
		if (producer.source !== 'device' || producer.kind !== 'video') return;
		demo.room.subscribe(producer.id).catch((error) => {
			const { code, text } = Kit.describeError(error);
			if (code !== 'not_found') banner(`Cannot show a device stream: ${text} [${code}]`, 'error');
		});
	}

	function addTile(track, participant) {
		if (track.source !== 'device' || track.kind !== 'video' || tiles.has(track.producerId)) return;
		const tile = Kit.createTile({ id: participant.id, name: `${participant.displayName} · device stream` });
		tile.classList.add('device', 'has-video');
		tile.dataset.producerId = track.producerId;
		const stats = document.createElement('div');
		stats.className = 'stats';
		stats.textContent = 'measuring…';
		tile.append(stats);
		track.attach(tile.querySelector('video'));
		Kit.setQuality(tile.querySelector('.quality'), participant.connectionQuality);
		tiles.set(track.producerId, tile);
		ui.grid.append(tile);
		renderEmpty();
	}

	function removeTile(producerId) {
		const tile = tiles.get(producerId);
		if (!tile) return;
		tile.remove();
		tiles.delete(producerId);
		delete demo.stats[producerId];
		renderEmpty();
	}

	async function refreshStats() {
		const room = demo.room;
		if (!room || room.state !== 'connected') return;
		const all = await room.getTrackStats();
		for (const s of all) {
			const tile = s.direction === 'inbound' ? tiles.get(s.producerId) : undefined;
			if (!tile) continue;
			demo.stats[s.producerId] = s;
			const rtt = s.roundTripTime === undefined ? '' : ` · RTT ${Math.round(s.roundTripTime * 1000)} ms`;
			tile.querySelector('.stats').textContent =
				`${s.frameWidth}×${s.frameHeight} · ${Math.round(s.framesPerSecond)} fps\n${Kit.formatBitrate(s.bitrate)} · loss ${s.packetLossPercent.toFixed(1)} %${rtt}`;
		}
	}
	setInterval(() => void refreshStats().catch(() => undefined), 1000);
	ui.showStats.addEventListener('change', () => {
		for (const tile of tiles.values()) tile.querySelector('.stats').hidden = !ui.showStats.checked;
	});

	function wire(room) {
		room.on(RoomEvent.TrackPublished, (producer) => subscribeIfDevice(producer));
		room.on(RoomEvent.TrackSubscribed, (track, p) => addTile(track, p));
		room.on(RoomEvent.TrackUnsubscribed, (track) => removeTile(track.producerId));
		room.on(RoomEvent.TrackUnpublished, (producer) => removeTile(producer.id));
		room.on(RoomEvent.TrackMuted, (track) => tiles.get(track.producerId)?.classList.remove('has-video'));
		room.on(RoomEvent.TrackUnmuted, (track) => tiles.get(track.producerId)?.classList.add('has-video'));
		room.on(RoomEvent.ConnectionQualityChanged, (quality, p) => {
			for (const tile of tiles.values()) if (tile.dataset.peerId === p.id) Kit.setQuality(tile.querySelector('.quality'), quality);
		});
		room.on(RoomEvent.RecordingStateChanged, (r) => (ui.recording.hidden = !r.active));
		// Sources the server pulls (RTSP / SRT encoders): say when one drops and when it is back.
		room.on(RoomEvent.IngestStateChanged, (source) => {
			demo.log.push(`ingest:${source.name}:${source.state}`);
			if (source.state === 'live') banner(`${source.name} is live.`, 'ok', 4000);
			else if (source.state === 'retrying')
				banner(`${source.name} dropped (${source.reason || 'no signal'}); retrying${source.retryInMs ? ` in ${Math.ceil(source.retryInMs / 1000)} s` : ''}${source.attempt ? ` (attempt ${source.attempt})` : ''}…`, 'warn');
			else if (source.state === 'failed') banner(`${source.name} failed: ${source.reason || 'unknown error'}. Check the device and its network.`, 'error');
		});
		room.on(RoomEvent.Reconnecting, () => {
			setState('reconnecting', 'Reconnecting');
			banner('Connection lost. Reconnecting… the streams resume by themselves.', 'warn');
		});
		room.on(RoomEvent.Reconnected, ({ durationMs }) => {
			setState('joined', 'Monitoring');
			banner(`Reconnected after ${(durationMs / 1000).toFixed(1)} s.`, 'ok', 4000);
			// A rebuilt session lists the producers again: subscribe to the device ones.
			for (const p of room.participants.values()) for (const producer of p.producers.values()) if (!p.tracks.has(producer.id)) subscribeIfDevice(producer);
		});
		room.on(RoomEvent.RoomClosed, () => {
			setState('room-closed', 'Ended');
			statusCard('The session has ended', 'The device streams stopped because the room was closed.');
		});
		room.on(RoomEvent.Disconnected, Kit.onViewerDisconnected(chrome, demo, { leftTitle: 'You left the device monitor', failedTitle: 'The monitor was disconnected' }));
	}

	ui.leave.addEventListener('click', () => demo.room && demo.room.leave());
	window.addEventListener('pagehide', () => demo.room && void demo.room.leave());

	void Kit.startViewer({
		ui,
		demo,
		chrome,
		devIdentity: { role: 'observer', name: 'Device monitor' },
		texts: {
			incomplete: 'Open the monitor link your portal gave you (it ends with #token=…).',
			connecting: 'Joining the room to watch its device streams.',
			failed: 'Could not open the device monitor',
		},
		// Device streams only: a clinician on a weak link spends nothing on cameras.
		roomOptions: { autoSubscribe: false },
		wire,
		onJoined(room) {
			setState('joined', 'Monitoring');
			ui.statusCard.hidden = true;
			ui.call.hidden = false;
			ui.controls.hidden = false;
			renderEmpty();
			for (const p of room.participants.values()) for (const producer of p.producers.values()) subscribeIfDevice(producer);
		},
	});
})();
