// Grand-round viewer: watch only (observer token), one large video of the
// current presenter — the screen share if any, else the active speaker — and
// a list to pin someone else. Uses adaptive stream: thumbnails arrive in the
// lowest simulcast layer, the stage in the highest its size needs.
// URL: /demo/grand-round.html?room=ROOM#token=OBSERVER_TOKEN. Tests read `window.demo`.
(() => {
	'use strict';

	const { Room, RoomEvent, DisconnectReason, ConnectionQuality } = window.TelehealthSDK;
	const Kit = window.DemoKit;
	const $ = (id) => document.getElementById(id);
	const ui = {
		roomName: $('room-name'),
		state: $('state'),
		banner: $('banner'),
		recording: $('recording'),
		viewers: $('viewers'),
		ownQualityWrap: $('own-quality-wrap'),
		ownQualityLabel: $('own-quality-label'),
		statusCard: $('status-card'),
		statusSpinner: $('status-spinner'),
		statusTitle: $('status-title'),
		statusText: $('status-text'),
		call: $('call'),
		stage: $('gr-stage'),
		presenters: $('presenters'),
		audioSink: $('audio-sink'),
		controls: $('controls'),
		startAudio: $('start-audio'),
		leave: $('leave'),
	};
	const ownQuality = Kit.qualityBars();
	$('own-quality').replaceWith(ownQuality);

	const demo = { room: null, state: 'idle', error: null, log: [], presenterId: null, pinnedId: null };
	window.demo = demo;

	const { setState, banner, statusCard } = Kit.pageChrome(ui, demo);

	// --- Stage ------------------------------------------------------------------------

	let activeSpeakerId = null;
	const stageTile = Kit.createTile({ id: 'stage', name: '' });
	stageTile.querySelector('audio').remove();
	ui.stage.append(stageTile);
	const stageVideo = stageTile.querySelector('video');
	let stageTrack = null;

	/** The best video of a participant: a screen share beats a camera. */
	function mainVideo(p) {
		return p.getTrack('screen') || p.getTrack('device') || p.getTrack('camera');
	}

	function choosePresenter() {
		const room = demo.room;
		const withVideo = [...room.participants.values()].filter((p) => mainVideo(p));
		const pinned = withVideo.find((p) => p.id === demo.pinnedId);
		if (pinned) return pinned;
		const sharing = withVideo.find((p) => p.getTrack('screen'));
		if (sharing) return sharing;
		const speaker = withVideo.find((p) => p.id === activeSpeakerId);
		return speaker || withVideo.find((p) => p.role === 'host') || withVideo[0] || null;
	}

	function render() {
		const room = demo.room;
		if (!room) return;
		const presenter = choosePresenter();
		demo.presenterId = presenter ? presenter.id : null;
		const track = presenter ? mainVideo(presenter) : null;
		if (track !== stageTrack) {
			if (stageTrack) stageTrack.detach(stageVideo);
			stageTrack = track;
			if (track) track.attach(stageVideo);
		}
		stageTile.classList.toggle('has-video', !!track && !track.muted);
		stageTile.classList.toggle('screen', !!track && track.source !== 'camera');
		stageTile.dataset.peerId = presenter ? presenter.id : '';
		const label = stageTile.querySelector('.name');
		label.textContent = presenter
			? `${presenter.displayName} · ${track.source === 'screen' ? 'presenting screen' : track.source === 'device' ? 'device stream' : presenter.role}`
			: 'Waiting for a presenter…';
		stageTile.querySelector('.avatar span').textContent = presenter ? Kit.initials(presenter.displayName) : '…';
		Kit.setQuality(stageTile.querySelector('.quality'), presenter ? presenter.connectionQuality : ConnectionQuality.Unknown);
		renderList(presenter);
		ui.viewers.textContent = `${room.participants.size} participant${room.participants.size === 1 ? '' : 's'}`;
	}

	/** List rows by peer id, created once: moving a playing <video> in the DOM would pause it. */
	const rows = new Map();
	const autoRow = (() => {
		const li = document.createElement('li');
		li.className = 'auto';
		li.dataset.peerId = '';
		const thumb = document.createElement('span');
		thumb.className = 'thumb';
		thumb.textContent = 'AUTO';
		const who = document.createElement('span');
		who.className = 'who';
		who.textContent = 'Automatic';
		const small = document.createElement('small');
		small.textContent = 'speaker or screen';
		who.append(small);
		li.append(thumb, who);
		li.addEventListener('click', () => pin(null));
		ui.presenters.append(li);
		return li;
	})();

	function row(p) {
		let entry = rows.get(p.id);
		if (entry) return entry;
		const li = document.createElement('li');
		li.dataset.peerId = p.id;
		const thumb = document.createElement('span');
		thumb.className = 'thumb';
		const video = document.createElement('video');
		video.muted = true;
		thumb.append(video);
		const who = document.createElement('span');
		who.className = 'who';
		who.textContent = p.displayName;
		const small = document.createElement('small');
		who.append(small);
		li.append(thumb, who);
		li.addEventListener('click', () => pin(p.id));
		ui.presenters.append(li);
		entry = { li, video, small, track: null };
		rows.set(p.id, entry);
		return entry;
	}

	function dropRow(peerId) {
		const entry = rows.get(peerId);
		if (!entry) return;
		if (entry.track) entry.track.detach(entry.video);
		entry.li.remove();
		rows.delete(peerId);
	}

	function renderList(presenter) {
		const room = demo.room;
		autoRow.classList.toggle('current', !demo.pinnedId);
		for (const peerId of [...rows.keys()]) if (!room.participants.has(peerId)) dropRow(peerId);
		for (const p of room.participants.values()) {
			const track = mainVideo(p);
			if (!track) {
				dropRow(p.id);
				continue;
			}
			const entry = row(p);
			if (entry.track !== track) {
				if (entry.track) entry.track.detach(entry.video);
				entry.track = track;
				track.attach(entry.video);
			}
			entry.li.classList.toggle('current', !!demo.pinnedId && !!presenter && p.id === presenter.id);
			entry.small.textContent = `${p.role}${p.id === activeSpeakerId ? ' · speaking' : ''}${track.source === 'screen' ? ' · sharing' : ''}`;
		}
	}

	function pin(peerId) {
		demo.pinnedId = peerId;
		demo.log.push(`pin:${peerId || 'auto'}`);
		render();
	}
	demo.pin = pin;

	// --- Room -------------------------------------------------------------------------

	function wire(room) {
		const rerender = () => render();
		for (const event of [RoomEvent.ParticipantJoined, RoomEvent.TrackSubscribed, RoomEvent.TrackMuted, RoomEvent.TrackUnmuted, RoomEvent.ConnectionQualityChanged]) room.on(event, rerender);
		room.on(RoomEvent.ParticipantLeft, (p) => {
			dropRow(p.id);
			if (demo.pinnedId === p.id) demo.pinnedId = null;
			render();
		});
		room.on(RoomEvent.TrackSubscribed, (track) => {
			if (track.kind === 'audio') ui.audioSink.append(track.attach());
		});
		room.on(RoomEvent.TrackUnsubscribed, (track, p) => {
			for (const el of track.detach()) if (el.parentElement === ui.audioSink) el.remove();
			const entry = rows.get(p.id);
			if (entry && entry.track === track) entry.track = null;
			if (track === stageTrack) stageTrack = null;
			render();
		});
		room.on(RoomEvent.ActiveSpeakerChanged, (p) => {
			activeSpeakerId = p ? p.id : null;
			render();
		});
		room.on(RoomEvent.ConnectionQualityChanged, (quality, p) => {
			if (p !== room.localParticipant) return;
			Kit.setQuality(ownQuality, quality);
			ui.ownQualityLabel.textContent = Kit.QUALITY_TEXT[quality];
			ui.ownQualityWrap.hidden = quality === ConnectionQuality.Unknown;
		});
		room.on(RoomEvent.Reconnecting, () => {
			setState('reconnecting', 'Reconnecting');
			banner('Connection lost. Reconnecting… the stream resumes by itself.', 'warn');
		});
		room.on(RoomEvent.Reconnected, ({ durationMs }) => {
			setState('joined', 'Watching');
			banner(`Reconnected after ${(durationMs / 1000).toFixed(1)} s.`, 'ok', 4000);
		});
		room.on(RoomEvent.RecordingStateChanged, (r) => (ui.recording.hidden = !r.active));
		room.on(RoomEvent.AudioPlaybackBlocked, () => (ui.startAudio.hidden = false));
		room.on(RoomEvent.RoomClosed, () => {
			setState('room-closed', 'Ended');
			statusCard('The grand round has ended', 'Thank you for attending. You can close this page.');
		});
		room.on(RoomEvent.Disconnected, (reason, error) => {
			if (reason === DisconnectReason.RoomClosed) return;
			if (reason === DisconnectReason.ClientLeft) {
				setState('left', 'Left');
				statusCard('You left the grand round', 'Open the link again to come back.');
				return;
			}
			setState('error', 'Error');
			const { code, text } = Kit.describeError(error || { code: reason, message: reason });
			demo.error = { code, message: (error && error.message) || reason };
			statusCard('The stream was interrupted', `${text} [${code}]`);
		});
	}

	ui.leave.addEventListener('click', () => demo.room && demo.room.leave());
	ui.startAudio.addEventListener('click', () => demo.room && demo.room.startAudio().then(() => (ui.startAudio.hidden = demo.room.audioPlaybackBlocked)));
	window.addEventListener('pagehide', () => demo.room && void demo.room.leave());

	async function start() {
		const { roomId, token } = Kit.linkParams();
		ui.roomName.textContent = roomId;
		let joinToken = token;
		if (!joinToken && (await Kit.devTokensOffered())) joinToken = await Kit.devToken(roomId || 'demo', 'observer', 'Grand-round viewer').catch(() => '');
		if (!joinToken) {
			setState('no-token', 'No link');
			statusCard('This link is incomplete', 'Open the grand-round link your portal gave you (it ends with #token=…).');
			return;
		}
		setState('connecting', 'Connecting');
		statusCard('Connecting…', 'Joining the grand round as a viewer.', true);
		// Watch only; thumbnails small, the stage large: adaptive stream picks the layers.
		const room = new Room({ ...(roomId ? { room: roomId } : {}), adaptiveStream: true });
		demo.room = room;
		wire(room);
		try {
			await room.connect(await Kit.signalingUrl(), joinToken);
			ui.roomName.textContent = room.name || '';
			if (room.state === 'waiting') {
				setState('waiting', 'Waiting');
				statusCard('Waiting to be admitted', 'The host will let you in shortly.', true);
				room.once(RoomEvent.Admitted, () => setTimeout(showStage, 0));
				return;
			}
			showStage();
		} catch (error) {
			setState('error', 'Error');
			const { code, text } = Kit.describeError(error);
			demo.error = { code, message: error.message };
			statusCard('Could not join the grand round', `${text} [${code}]`);
		}
	}

	function showStage() {
		setState('joined', 'Watching');
		ui.statusCard.hidden = true;
		ui.call.hidden = false;
		ui.controls.hidden = false;
		render();
	}

	void start();
})();
