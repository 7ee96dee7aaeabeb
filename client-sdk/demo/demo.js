// Demo page of the telehealth SFU client SDK. Plain browser JS using the IIFE
// bundle's global `TelehealthSDK`. URL: /demo/?room=ROOM#token=JOIN_TOKEN
// (the token stays in the fragment, which browsers never send to servers).
// Tests read `window.demo`: { room, state, error, log }.
(() => {
	'use strict';

	const { Room, RoomEvent, ConnectionState, DisconnectReason } = window.TelehealthSDK;
	const PUBLISHING_ROLES = ['host', 'clinician', 'patient'];

	const $ = (id) => document.getElementById(id);
	const ui = {
		roomName: $('room-name'),
		state: $('state'),
		message: $('message'),
		form: $('join-form'),
		grid: $('grid'),
		waitingPanel: $('waiting-panel'),
		waitingList: $('waiting-list'),
		waitingEmpty: $('waiting-empty'),
		toggleMic: $('toggle-mic'),
		toggleCamera: $('toggle-camera'),
		startAudio: $('start-audio'),
		leave: $('leave'),
	};

	/** What tests and curious developers can look at. */
	const demo = { room: null, state: 'idle', error: null, log: [] };
	window.demo = demo;

	function setState(state) {
		demo.state = state;
		ui.state.textContent = state;
		ui.state.dataset.state = state;
	}

	function say(text, isError = false) {
		ui.message.textContent = text;
		ui.message.classList.toggle('error', isError);
	}

	function showError(error, context) {
		const code = (error && error.code) || 'error';
		const message = (error && error.message) || String(error);
		demo.error = { code, message };
		say(`${context ? context + ': ' : ''}${message} [${code}]`, true);
	}

	function log(entry) {
		demo.log.push(entry);
		if (demo.log.length > 200) demo.log.shift();
	}

	// --- Tiles ----------------------------------------------------------------------

	function tileOf(peerId) {
		return ui.grid.querySelector(`.tile[data-peer-id="${CSS.escape(peerId)}"]`);
	}

	function ensureTile(participant, { local = false } = {}) {
		let tile = local ? ui.grid.querySelector('.tile.local') : tileOf(participant.id);
		if (tile) {
			// A rebuilt session gives this participant a new peer id.
			if (local && tile.dataset.peerId !== participant.id) {
				tile.dataset.peerId = participant.id;
				for (const el of tile.querySelectorAll('video, audio')) el.dataset.peerId = participant.id;
			}
			return tile;
		}
		tile = document.createElement('div');
		tile.className = local ? 'tile local' : 'tile';
		tile.dataset.peerId = participant.id;
		tile.dataset.role = participant.role || '';

		const video = document.createElement('video');
		video.autoplay = true;
		video.playsInline = true;
		video.muted = true; // video only; audio plays in the <audio> element below
		video.dataset.peerId = participant.id;
		tile.append(video);

		const audio = document.createElement('audio');
		audio.autoplay = true;
		audio.dataset.peerId = participant.id;
		tile.append(audio);

		const label = document.createElement('span');
		label.className = 'label';
		label.textContent = local ? `${participant.displayName || 'You'} (you, ${participant.role})` : `${participant.displayName} (${participant.role})`;
		tile.append(label);

		const badges = document.createElement('span');
		badges.className = 'badges';
		tile.append(badges);

		if (!local && demo.room && demo.room.localParticipant.role === 'host') {
			const actions = document.createElement('span');
			actions.className = 'host-actions';
			actions.append(
				button('Mute', () => demo.room.muteParticipant(participant.id, 'microphone')),
				button('Remove', () => demo.room.removeParticipant(participant.id), 'danger'),
			);
			tile.append(actions);
		}
		if (local) ui.grid.prepend(tile);
		else ui.grid.append(tile);
		return tile;
	}

	function button(text, onClick, className) {
		const b = document.createElement('button');
		b.type = 'button';
		b.textContent = text;
		if (className) b.className = className;
		b.addEventListener('click', () => {
			b.disabled = true;
			Promise.resolve()
				.then(onClick)
				.catch((error) => showError(error, text))
				.finally(() => {
					b.disabled = false;
				});
		});
		return b;
	}

	function setBadge(peerId, name, on) {
		const tile = tileOf(peerId);
		if (!tile) return;
		const badges = tile.querySelector('.badges');
		let badge = badges.querySelector(`[data-badge="${name}"]`);
		if (on && !badge) {
			badge = document.createElement('span');
			badge.className = 'badge';
			badge.dataset.badge = name;
			badge.textContent = name;
			badges.append(badge);
		} else if (!on && badge) {
			badge.remove();
		}
	}

	function mediaElement(tile, kind) {
		return tile.querySelector(kind === 'video' ? 'video' : 'audio');
	}

	// --- Room -----------------------------------------------------------------------

	function wire(room) {
		room.on(RoomEvent.ConnectionStateChanged, (state) => {
			log(`state:${state}`);
			if (state === ConnectionState.Connecting) setState('connecting');
			else if (state === ConnectionState.Reconnecting) {
				setState('reconnecting');
				say('Connection lost, reconnecting…');
			}
		});
		room.on(RoomEvent.WaitingForAdmission, () => {
			setState('waiting');
			say('Waiting for the clinician to let you in…');
		});
		room.on(RoomEvent.Admitted, () => say('Admitted, joining…'));
		room.on(RoomEvent.Denied, () => say('The host declined to admit you.', true));
		room.on(RoomEvent.Reconnected, ({ resumed }) => {
			log(`reconnected:${resumed ? 'resumed' : 'rebuilt'}`);
			setState('joined');
			say(resumed ? 'Reconnected.' : 'Reconnected (session rebuilt).');
		});

		room.on(RoomEvent.ParticipantJoined, (p) => {
			log(`participantJoined:${p.id}`);
			ensureTile(p);
		});
		room.on(RoomEvent.ParticipantLeft, (p, reason) => {
			log(`participantLeft:${p.id}:${reason}`);
			const tile = tileOf(p.id);
			if (tile) tile.remove();
		});
		room.on(RoomEvent.TrackSubscribed, (track, p) => {
			log(`trackSubscribed:${p.id}:${track.source}`);
			const tile = ensureTile(p);
			const el = mediaElement(tile, track.kind);
			// A participant may send camera and screen: the screen wins the tile.
			if (track.kind === 'video' && track.source !== 'screen' && p.getTrack('screen')) return;
			el.dataset.source = track.source;
			track.attach(el);
			if (track.kind === 'video') setBadge(p.id, 'video off', track.muted);
			else setBadge(p.id, 'muted', track.muted);
		});
		room.on(RoomEvent.TrackUnsubscribed, (track, p) => {
			log(`trackUnsubscribed:${p.id}:${track.source}`);
			track.detach();
			if (track.source === 'screen') {
				const camera = p.getTrack('camera');
				const tile = tileOf(p.id);
				if (camera && tile) camera.attach(mediaElement(tile, 'video'));
			}
		});
		room.on(RoomEvent.TrackMuted, (track, p) => setBadge(p.id, track.kind === 'video' ? 'video off' : 'muted', true));
		room.on(RoomEvent.TrackUnmuted, (track, p) => setBadge(p.id, track.kind === 'video' ? 'video off' : 'muted', false));
		room.on(RoomEvent.TrackSubscriptionFailed, (producerId, error) => showError(error, 'Receiving a track failed'));
		room.on(RoomEvent.MutedByHost, (track) => {
			say(`The host muted your ${track.source}.`);
			updateControls();
		});
		room.on(RoomEvent.LocalTrackPublished, updateControls);
		room.on(RoomEvent.LocalTrackUnpublished, updateControls);
		room.on(RoomEvent.ActiveSpeakerChanged, (p) => {
			for (const tile of ui.grid.querySelectorAll('.tile')) tile.classList.toggle('speaking', !!p && tile.dataset.peerId === p.id);
		});
		room.on(RoomEvent.WaitingListChanged, renderWaitingList);
		room.on(RoomEvent.AudioPlaybackBlocked, () => {
			ui.startAudio.hidden = false;
		});
		room.on(RoomEvent.Kicked, (reason) => {
			setState('kicked');
			say(reason === 'expired' ? 'Your session expired.' : 'You were removed from the visit.', true);
		});
		room.on(RoomEvent.RoomClosed, (reason) => {
			setState('room-closed');
			say(`The visit has ended (${reason}).`);
		});
		room.on(RoomEvent.Disconnected, (reason, error) => {
			log(`disconnected:${reason}${error ? ':' + error.code : ''}`);
			ui.leave.hidden = true;
			ui.toggleMic.hidden = true;
			ui.toggleCamera.hidden = true;
			ui.waitingPanel.hidden = true;
			for (const tile of ui.grid.querySelectorAll('.tile')) tile.remove();
			if (reason === DisconnectReason.ClientLeft) {
				setState('left');
				say('You left the visit.');
			} else if (reason === DisconnectReason.Denied) {
				setState('denied');
			} else if (reason === DisconnectReason.Kicked || reason === DisconnectReason.RoomClosed) {
				// Said by the Kicked / RoomClosed handlers.
			} else {
				setState('error');
				showError(error || { code: reason, message: 'Disconnected' }, 'Disconnected');
			}
		});
	}

	function renderWaitingList(peers) {
		ui.waitingList.replaceChildren(
			...peers.map((peer) => {
				const li = document.createElement('li');
				li.dataset.peerId = peer.id;
				const name = document.createElement('span');
				name.textContent = `${peer.displayName} (${peer.role})`;
				li.append(
					name,
					button('Admit', () => demo.room.admit(peer.id), 'primary'),
					button('Deny', () => demo.room.deny(peer.id)),
				);
				return li;
			}),
		);
		ui.waitingEmpty.hidden = peers.length > 0;
	}

	function updateControls() {
		const local = demo.room && demo.room.localParticipant;
		const mic = local && local.getTrack('microphone');
		const camera = local && local.getTrack('camera');
		ui.toggleMic.hidden = !mic;
		ui.toggleCamera.hidden = !camera;
		if (mic) ui.toggleMic.textContent = mic.muted ? 'Unmute mic' : 'Mute mic';
		if (camera) ui.toggleCamera.textContent = camera.muted ? 'Start video' : 'Stop video';
		if (local) {
			setBadge(local.id, 'muted', !!mic && mic.muted);
			setBadge(local.id, 'video off', !!camera && camera.muted);
		}
	}

	async function publish(room) {
		const local = room.localParticipant;
		const tile = ensureTile(local, { local: true });
		if (!PUBLISHING_ROLES.includes(local.role)) return;
		try {
			const camera = await local.enableCamera({ simulcast: true });
			camera.attach(mediaElement(tile, 'video'));
		} catch (error) {
			showError(error, 'Camera');
		}
		try {
			await local.enableMicrophone();
		} catch (error) {
			showError(error, 'Microphone');
		}
		updateControls();
	}

	/** Everything that happens once per join (first join, or after admission). */
	async function onJoined(room) {
		ui.leave.hidden = false;
		ui.waitingPanel.hidden = room.localParticipant.role !== 'host';
		renderWaitingList(room.waitingList);
		for (const participant of room.participants.values()) ensureTile(participant);
		await publish(room);
		if (room.state === ConnectionState.Connected) {
			setState('joined');
			if (!demo.error) say(`Joined as ${room.localParticipant.displayName || room.localParticipant.role}.`);
		}
	}

	async function join(token, roomId) {
		setState('connecting');
		say('Connecting…');
		const room = new Room(roomId ? { room: roomId } : {});
		demo.room = room;
		wire(room);
		let joinedOnce = false;
		room.on(RoomEvent.ConnectionStateChanged, (state) => {
			if (state !== ConnectionState.Connected) return;
			if (!joinedOnce) {
				joinedOnce = true;
				void onJoined(room);
			} else {
				// Back after a reconnect or a second admission: tracks republish by themselves.
				setState('joined');
				for (const participant of room.participants.values()) ensureTile(participant);
				ensureTile(room.localParticipant, { local: true });
				const camera = room.localParticipant.getTrack('camera');
				const tile = tileOf(room.localParticipant.id);
				if (camera && tile) camera.attach(mediaElement(tile, 'video'));
				updateControls();
			}
		});
		ui.leave.hidden = false;
		try {
			await room.connect(await signalingUrl(), token);
			ui.roomName.textContent = room.name || '';
		} catch (error) {
			setState('error');
			showError(error, 'Could not join');
		}
	}

	/** Signaling shares this origin, unless the server runs it on uWebSockets.js's own port. */
	async function signalingUrl() {
		try {
			const response = await fetch('/api/client-config', { cache: 'no-store' });
			const config = response.ok ? await response.json() : {};
			if (config.signalingPort) return `${location.protocol}//${location.hostname}:${config.signalingPort}`;
		} catch {
			// Older server: same origin.
		}
		return location.origin;
	}

	// --- Page -----------------------------------------------------------------------

	ui.leave.addEventListener('click', () => demo.room && demo.room.leave());
	ui.startAudio.addEventListener('click', () => {
		if (!demo.room) return;
		demo.room.startAudio().then(() => {
			ui.startAudio.hidden = demo.room.audioPlaybackBlocked;
		});
	});
	ui.toggleMic.addEventListener('click', () => {
		const mic = demo.room && demo.room.localParticipant.getTrack('microphone');
		if (mic) (mic.muted ? mic.unmute() : mic.mute()).catch((e) => showError(e, 'Microphone')).finally(updateControls);
	});
	ui.toggleCamera.addEventListener('click', () => {
		const camera = demo.room && demo.room.localParticipant.getTrack('camera');
		if (camera) (camera.muted ? camera.unmute() : camera.mute()).catch((e) => showError(e, 'Camera')).finally(updateControls);
	});
	window.addEventListener('pagehide', () => {
		if (demo.room) void demo.room.leave();
	});

	async function devTokensOffered(roomId) {
		try {
			const probe = `/api/dev/token?${new URLSearchParams({ room: roomId || 'probe', role: 'observer', name: 'probe' })}`;
			const response = await fetch(probe, { cache: 'no-store' });
			return response.ok;
		} catch {
			return false;
		}
	}

	async function start() {
		const roomId = new URLSearchParams(location.search).get('room') || '';
		const token = new URLSearchParams(location.hash.slice(1)).get('token');
		ui.roomName.textContent = roomId;
		if (token) {
			await join(token, roomId);
			return;
		}
		if (!(await devTokensOffered(roomId))) {
			setState('no-token');
			say('This link has no join token. Open the link your portal gave you (…#token=…).', true);
			return;
		}
		$('join-room').value = roomId || 'demo';
		ui.form.hidden = false;
		ui.form.addEventListener('submit', async (event) => {
			event.preventDefault();
			const room = $('join-room').value.trim();
			const query = new URLSearchParams({ room, role: $('join-role').value, name: $('join-name').value.trim() });
			try {
				const response = await fetch(`/api/dev/token?${query}`, { cache: 'no-store' });
				if (!response.ok) throw Object.assign(new Error(`token request failed (HTTP ${response.status})`), { code: 'dev_token_failed' });
				const { token: devToken } = await response.json();
				ui.form.hidden = true;
				// Keep the identity across reloads; the fragment never reaches the server.
				history.replaceState(null, '', `${location.pathname}?${new URLSearchParams({ room })}#${new URLSearchParams({ token: devToken })}`);
				ui.roomName.textContent = room;
				await join(devToken, room);
			} catch (error) {
				showError(error, 'Join');
			}
		});
	}

	void start();
})();
